/**
 * The demo window follows an injected clock: it ends yesterday (UTC), keeps two years, and every
 * relative range the README and the catalog use falls inside it, whatever the day. Fixed end dates
 * (tests, benchmarks) give the same window — and the same plan — on any day.
 */
import { describe, expect, it } from 'vitest';
import { resolveDateRange } from '../../../src/compiler/dates.js';
import { buildPlan } from '../../../src/demo/demo-plan.js';
import { daysBehind, demoBannerLines, demoWindow, FIXED_DEMO_END_DATE, FIXED_DEMO_START_DATE, isIsoDate, yesterdayUtc } from '../../../src/demo/window.js';

const clock = (iso: string) => () => new Date(iso);

describe('demoWindow', () => {
  it('ends yesterday (UTC) by the injected clock and spans 730 days', () => {
    expect(demoWindow({ now: clock('2026-12-07T03:32:00Z') })).toMatchObject({ start: '2024-12-07', end: '2026-12-06', days: 730 });
    // just after midnight UTC, and late in the day in a zone west of UTC (still the 7th there, already the 8th in UTC)
    expect(demoWindow({ now: clock('2026-12-08T00:00:01Z') }).end).toBe('2026-12-07');
    expect(demoWindow({ now: clock('2026-12-07T23:30:00-05:00') }).end).toBe('2026-12-07');
    // across a leap day and a year boundary
    expect(demoWindow({ now: clock('2028-03-01T12:00:00Z') })).toMatchObject({ start: '2026-03-02', end: '2028-02-29' });
    expect(demoWindow({ now: clock('2027-01-01T00:00:00Z') }).end).toBe('2026-12-31');
  });

  it('takes an explicit end date instead of the clock', () => {
    const w = demoWindow({ endDate: FIXED_DEMO_END_DATE, now: clock('2031-06-15T00:00:00Z') });
    expect(w).toMatchObject({ start: FIXED_DEMO_START_DATE, end: FIXED_DEMO_END_DATE, days: 730 });
    expect(w.startMs).toBe(Date.parse(`${FIXED_DEMO_START_DATE}T00:00:00Z`));
    expect(() => demoWindow({ endDate: '2026-02-30' })).toThrow('demo end date must be a calendar date YYYY-MM-DD, got "2026-02-30"');
    expect(() => demoWindow({ endDate: '31/10/2026' })).toThrow(RangeError);
  });

  it.each(['2026-12-07T03:32:00Z', '2027-01-01T00:00:00Z', '2027-03-01T09:00:00Z', '2027-07-15T18:00:00Z', '2028-02-29T12:00:00Z', '2030-11-02T23:59:59Z'])(
    'on %s every README / catalog relative range lies inside the window',
    (iso) => {
      const now = new Date(iso);
      const w = demoWindow({ now: () => now });
      const ranges = ['last month', 'last 30 days', 'last 7 days', 'yesterday', 'last week', 'last 3 months', 'last quarter', 'last year'];
      // "this <unit>" holds data unless today is the unit's first day (then only today, which is not loaded yet)
      const day = now.getUTCDate();
      if (day !== 1) ranges.push('this month');
      if (now.getUTCDay() !== 1) ranges.push('this week');
      for (const range of ranges) {
        const [from, to] = resolveDateRange(range, 'UTC', now).map((t) => t.slice(0, 10));
        expect(from >= w.start, `${range}: ${from} >= ${w.start}`).toBe(true);
        expect(from <= w.end, `${range}: starts ${from}, data ends ${w.end}`).toBe(true);
        if (range !== 'this month' && range !== 'this week') expect(to <= w.end, `${range}: ${to} <= ${w.end}`).toBe(true);
      }
    },
  );
});

describe('the plan over a window', () => {
  it('is deterministic for a seed and an end date, and moves with the end date', () => {
    const fixed = demoWindow({ endDate: FIXED_DEMO_END_DATE });
    const a = buildPlan(42, 0.05, fixed);
    expect(JSON.stringify(buildPlan(42, 0.05, demoWindow({ endDate: FIXED_DEMO_END_DATE, now: clock('2030-01-01T00:00:00Z') })))).toBe(JSON.stringify(a));
    const lastDays = (p: typeof a) => p.campaignPlan.map((r) => String(r.last_day)).sort();
    expect(lastDays(a).at(-1)).toBe(FIXED_DEMO_END_DATE);
    expect(lastDays(a)[0] >= FIXED_DEMO_START_DATE).toBe(true);

    const moved = buildPlan(42, 0.05, demoWindow({ now: clock('2026-12-07T03:32:00Z') }));
    expect(lastDays(moved).at(-1)).toBe('2026-12-06');
    expect(lastDays(moved)[0] >= '2024-12-07').toBe(true);
    // same campaigns, ids and names: only the calendar moves
    expect(moved.campaigns.map((c) => c.campaign_id)).toEqual(a.campaigns.map((c) => c.campaign_id));
    expect(moved.campaigns.map((c) => c.name)).toEqual(a.campaigns.map((c) => c.name));
  });
});

describe('staleness and the banner', () => {
  const now = new Date('2026-12-07T03:32:00Z');

  it('counts days behind yesterday', () => {
    expect(yesterdayUtc(now)).toBe('2026-12-06');
    expect(daysBehind('2026-12-06', now)).toBe(0);
    expect(daysBehind('2026-12-07', now)).toBe(0);
    expect(daysBehind('2026-10-31', now)).toBe(36);
    expect(isIsoDate('2026-10-31')).toBe(true);
    expect(isIsoDate('2026-10-32')).toBe(false);
  });

  it('shows the window, and how to refresh data that ended long ago', () => {
    expect(demoBannerLines(undefined, now)).toEqual([]);
    expect(demoBannerLines({ start: '2024-12-07', end: '2026-12-06' }, now)).toEqual(['  Demo data           2024-12-07 .. 2026-12-06']);
    expect(demoBannerLines({ start: '2024-12-04', end: '2026-12-03' }, now)).toHaveLength(1); // a few days behind: fine
    const stale = demoBannerLines({ start: '2024-11-01', end: '2026-10-31' }, now);
    expect(stale[0]).toContain('2024-11-01 .. 2026-10-31  — ended 37 days ago');
    expect(stale[1]).toContain('npx strata seed');
    expect(demoBannerLines({ start: '2024-11-01', end: '2026-10-31' }, now, '2026-10-31')).toEqual([
      '  Demo data           2024-11-01 .. 2026-10-31  (fixed by DEMO_END_DATE)',
    ]);
  });
});
