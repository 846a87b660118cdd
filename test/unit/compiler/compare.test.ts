/** The pure part of period comparison: which range a comparison reads, bucket positions, and its input checks. */
import { describe, expect, it } from 'vitest';
import { bucketAt, bucketPosition, comparisonRange, splitComparison } from '../../../src/compiler/compare.js';
import { measureChange } from '../../../src/query/compare.js';

const NOW = new Date('2026-11-01T00:00:00Z');
const r = (a: string, b: string) => [`${a}T00:00:00.000`, `${b}T23:59:59.999`] as const;

describe('comparisonRange', () => {
  it('previous period: whole months shift by months, days by days, other spans by their length', () => {
    expect(comparisonRange(r('2026-09-01', '2026-09-30'), { period: 'previousPeriod' }, 'UTC', NOW)).toEqual(r('2026-08-01', '2026-08-31'));
    expect(comparisonRange(r('2026-01-01', '2026-03-31'), { period: 'previousPeriod' }, 'UTC', NOW)).toEqual(r('2025-10-01', '2025-12-31'));
    expect(comparisonRange(r('2026-09-08', '2026-09-14'), { period: 'previousPeriod' }, 'UTC', NOW)).toEqual(r('2026-09-01', '2026-09-07'));
    expect(comparisonRange(['2026-09-08T10:00:00.000', '2026-09-08T11:59:59.999'], { period: 'previousPeriod' }, 'UTC', NOW)).toEqual([
      '2026-09-08T08:00:00.000',
      '2026-09-08T09:59:59.999',
    ]);
  });
  it('same period last year (29 February meets 28 February); an explicit range resolves like a dateRange', () => {
    expect(comparisonRange(r('2024-02-01', '2024-02-29'), { period: 'samePeriodLastYear' }, 'UTC', NOW)).toEqual(r('2023-02-01', '2023-02-28'));
    expect(comparisonRange(r('2026-09-01', '2026-09-30'), { dateRange: 'last month' }, 'UTC', NOW)).toEqual(r('2026-10-01', '2026-10-31'));
    expect(() => comparisonRange(r('2026-09-01', '2026-09-30'), { dateRange: ['2026-02-01', '2026-01-01'] }, 'UTC', NOW)).toThrow(/is after end/);
  });
});

describe('bucket positions', () => {
  it('day 1 is position 0 in any month; a position maps back onto the other range', () => {
    expect(bucketPosition('2026-09-01T00:00:00.000', '2026-09-01T00:00:00.000', 'day', 'UTC')).toBe(0);
    expect(bucketPosition('2026-08-31T00:00:00.000', '2026-08-01T00:00:00.000', 'day', 'UTC')).toBe(30);
    expect(bucketAt('2026-09-01T00:00:00.000', 30, 'day', 'UTC')).toBe('2026-10-01T00:00:00.000');
    expect(bucketPosition('2026-11-01T00:00:00.000', '2026-03-29T00:00:00.000', 'month', 'Europe/Paris')).toBe(8);
  });
});

describe('splitComparison', () => {
  const td = { dimension: 'c.date' };
  it('compareTo or a two-range compareDateRange; anything else is a coded error naming it', () => {
    expect(splitComparison({ measures: ['c.m'], compareTo: { period: 'previousPeriod' } })).toEqual({
      base: { measures: ['c.m'] },
      compareTo: { period: 'previousPeriod' },
    });
    expect(splitComparison({ timeDimensions: [{ ...td, compareDateRange: ['this month', 'last month'] }] })).toEqual({
      base: { timeDimensions: [{ ...td, dateRange: 'this month' }] },
      compareTo: { dateRange: 'last month' },
    });
    expect(() => splitComparison({ timeDimensions: [{ ...td, compareDateRange: ['a', 'b', 'c'] }] })).toThrow(/exactly two ranges/);
    expect(() => splitComparison({ compareTo: { period: 'lastWeek' as never } })).toThrow(/unknown comparison period "lastWeek"/);
    expect(() => splitComparison({ compareTo: { period: 'previousPeriod', dateRange: 'x' } })).toThrow(/exactly one of/);
  });
});

describe('measureChange', () => {
  it('change, % change of the previous value (null on a base of 0), direction', () => {
    expect(measureChange(150, 100)).toEqual({ current: 150, previous: 100, change: 50, percentChange: 50, direction: 'up' });
    expect(measureChange(5, 0)).toEqual({ current: 5, previous: 0, change: 5, percentChange: null, direction: 'up' });
    expect(measureChange(-5, -10)).toMatchObject({ change: 5, percentChange: 50 });
    expect(measureChange(null, 3)).toEqual({ current: null, previous: 3, change: null, percentChange: null, direction: null });
  });
});
