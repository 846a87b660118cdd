/**
 * Query semantics of the REAL models on the demo warehouse, each checked against plain SQL (or JS
 * over plain SQL rows) written independently of the compiler:
 *  - fan-out: measures of the "one" side of a one_to_many join are not double counted;
 *  - segments, on the queried cube and on a joined cube;
 *  - views equal the same members asked on their cubes;
 *  - rolling windows equal trailing sums computed in JS from raw daily sums;
 *  - time zones: day buckets of a DateTime column follow the zone, a Date column keeps its day.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryResult } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { day, expectClose, isClose, num, startCore, type Core } from './harness.js';

let core: Core;
beforeAll(async () => {
  core = await startCore();
});
afterAll(async () => {
  await core?.close();
});

/** Rows keyed by the JSON of their non-measure cells, for order-independent comparison. */
function keyed(result: QueryResult): Map<string, Record<string, unknown>> {
  const dims = result.columns.filter((c) => c.kind !== 'measure').map((c) => c.key);
  return new Map(result.rows.map((r) => [JSON.stringify(dims.map((k) => r[k])), r]));
}

describe.each(DEMO_TENANT_IDS)('fan-out through a one_to_many join (tenant %s)', (t) => {
  it('campaigns.count and campaigns.daily_budget by an ad_performance dimension count each campaign once per group', async () => {
    const { rows } = await core.load(t, {
      measures: ['campaigns.count', 'campaigns.daily_budget', 'ad_performance.clicks'],
      dimensions: ['ad_performance.device'],
    });
    const campaigns = await core.sql<{ k: string | null; n: number; b: number }>(`
      SELECT dev AS k, count() AS n, sumIf(bud, btype = 'daily') AS b FROM (
        SELECT DISTINCT c.campaign_id AS cid, c.budget AS bud, c.budget_type AS btype, a.device AS dev
        FROM (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c
        LEFT JOIN (SELECT campaign_id, device FROM ad_performance WHERE tenant_id = '${t}') AS a ON c.campaign_id = a.campaign_id
      ) GROUP BY k SETTINGS join_use_nulls = 1`);
    const clicks = await core.sql<{ k: string; s: number }>(`SELECT device AS k, sum(clicks) AS s FROM ad_performance WHERE tenant_id = '${t}' GROUP BY k`);
    expect(rows.map((r) => r['ad_performance.device']).sort()).toEqual(campaigns.map((r) => r.k).sort());
    for (const r of rows) {
      const want = campaigns.find((c) => c.k === r['ad_performance.device'])!;
      expect(r['campaigns.count'], String(want.k)).toBe(Number(want.n));
      expectClose(r['campaigns.daily_budget'], want.b, `daily_budget ${want.k}`);
      expectClose(r['ad_performance.clicks'], clicks.find((c) => c.k === want.k)?.s ?? null, `clicks ${want.k}`);
    }
    // The naive join count is far larger: the query really did cross a fan-out.
    const [naive] = await core.sql<{ n: number }>(
      `SELECT count() AS n FROM (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c JOIN ad_performance AS a ON c.campaign_id = a.campaign_id AND a.tenant_id = '${t}'`,
    );
    expect(Number(naive.n)).toBeGreaterThan(10 * rows.reduce((s, r) => s + Number(r['campaigns.count']), 0));
  });

  it('without dimensions, campaigns.count next to an ad_performance measure is the number of campaigns', async () => {
    const [row] = (await core.load(t, { measures: ['campaigns.count', 'ad_performance.impressions', 'campaigns.active_count'] })).rows;
    const [want] = await core.sql<{ n: number; a: number; i: number }>(
      `SELECT count() AS n, countIf(status = 'active') AS a, (SELECT sum(impressions) FROM ad_performance WHERE tenant_id = '${t}') AS i FROM campaigns FINAL WHERE tenant_id = '${t}'`,
    );
    expect(row).toEqual({ 'campaigns.count': Number(want.n), 'ad_performance.impressions': Number(want.i), 'campaigns.active_count': Number(want.a) });
  });

  it('two hops (conversions -> campaigns -> ad rows): each side summed once per campaign type', async () => {
    const { rows } = await core.load(t, { measures: ['conversions.count', 'conversions.value', 'ad_performance.clicks'], dimensions: ['campaigns.type'] });
    const conv = await core.sql<{ k: string; n: number; v: number }>(`
      SELECT c.type AS k, count() AS n, sum(v.value) AS v FROM conversions AS v
      JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c ON v.campaign_id = c.campaign_id
      WHERE v.tenant_id = '${t}' GROUP BY k`);
    // Outer joins from the root (conversions, cube of the first measure): only ad rows of campaigns
    // that have a conversion are reachable — Cube's semantics, not a leak of rows.
    const ads = await core.sql<{ k: string; s: number }>(`
      SELECT c.type AS k, sum(a.clicks) AS s FROM ad_performance AS a
      JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c ON a.campaign_id = c.campaign_id
      WHERE a.tenant_id = '${t}' AND a.campaign_id IN (SELECT campaign_id FROM conversions WHERE tenant_id = '${t}') GROUP BY k`);
    // Every conversion points at a campaign of its tenant (demo invariant), so no NULL type group.
    expect(rows.map((r) => r['campaigns.type']).sort()).toEqual(conv.map((r) => r.k).sort());
    for (const r of rows) {
      const c = conv.find((x) => x.k === r['campaigns.type'])!;
      expect(r['conversions.count'], c.k).toBe(Number(c.n));
      expectClose(r['conversions.value'], c.v, `value ${c.k}`);
      expectClose(r['ad_performance.clicks'], ads.find((x) => x.k === c.k)?.s ?? null, `clicks ${c.k}`);
    }
  });

  it('a many_to_one target measure (campaigns.count by web_sessions.device) counts distinct campaigns', async () => {
    const { rows } = await core.load(t, { measures: ['campaigns.count', 'web_sessions.sessions'], dimensions: ['web_sessions.device'] });
    const want = await core.sql<{ k: string; n: number; s: number }>(`
      SELECT s.device AS k, uniqExactIf(c.campaign_id, c.campaign_id != '') AS n, count() AS s
      FROM (SELECT * FROM web_sessions WHERE tenant_id = '${t}') AS s
      LEFT JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c ON s.utm_campaign = c.campaign_id
      GROUP BY k`);
    expect(Object.fromEntries(rows.map((r) => [r['web_sessions.device'], [r['campaigns.count'], r['web_sessions.sessions']]]))).toEqual(
      Object.fromEntries(want.map((r) => [r.k, [Number(r.n), Number(r.s)]])),
    );
  });
});

describe('segments equal the same condition written in raw SQL', () => {
  const cases: { q: SemanticQuery; sql: (t: string) => string }[] = [
    {
      q: { measures: ['ad_performance.clicks', 'ad_performance.ctr'], segments: ['ad_performance.paid_search'] },
      sql: (t) =>
        `SELECT sum(clicks) AS m0, 100 * sum(clicks) / sum(impressions) AS m1 FROM ad_performance WHERE tenant_id = '${t}' AND platform IN ('google_ads', 'microsoft_ads')`,
    },
    {
      q: { measures: ['ad_performance.cost', 'ad_performance.impressions'], segments: ['ad_performance.paid_social', 'ad_performance.mobile'] },
      sql: (t) =>
        `SELECT sum(cost) AS m0, sum(impressions) AS m1 FROM ad_performance WHERE tenant_id = '${t}' AND platform IN ('meta', 'linkedin', 'tiktok') AND device = 'mobile'`,
    },
    {
      q: { measures: ['ad_performance.clicks', 'ad_performance.cpc'], segments: ['campaigns.active'] },
      sql: (t) => `SELECT sum(a.clicks) AS m0, sum(a.cost) / sum(a.clicks) AS m1 FROM ad_performance AS a
        JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = '${t}') AS c ON a.campaign_id = c.campaign_id
        WHERE a.tenant_id = '${t}' AND c.status = 'active'`,
    },
    {
      q: { measures: ['web_sessions.sessions', 'web_sessions.bounce_rate'], segments: ['web_sessions.organic_traffic'] },
      sql: (t) => `SELECT count() AS m0, 100 * sum(bounced) / count() AS m1 FROM web_sessions WHERE tenant_id = '${t}' AND medium = 'organic'`,
    },
    {
      q: { measures: ['clients.mrr', 'clients.active_clients'], segments: ['clients.enterprise'] },
      sql: (t) =>
        `SELECT sum(mrr) AS m0, countIf(subscription_status IN ('active', 'past_due')) AS m1 FROM clients FINAL WHERE tenant_id = '${t}' AND plan = 'enterprise'`,
    },
    {
      q: { measures: ['email_activity.open_rate', 'email_activity.sent'], segments: ['email_activity.follow_ups'] },
      sql: (t) => `SELECT 100 * sum(opened) / sum(delivered) AS m0, sum(sent) AS m1 FROM email_activity WHERE tenant_id = '${t}' AND sequence_step > 1`,
    },
    {
      q: { measures: ['conversions.count', 'conversions.value'], segments: ['conversions.last_click'] },
      sql: (t) => `SELECT count() AS m0, sum(value) AS m1 FROM conversions WHERE tenant_id = '${t}' AND attribution_model = 'last_click'`,
    },
    {
      q: { measures: ['campaigns.count'], segments: ['campaigns.always_on'] },
      sql: (t) => `SELECT count() AS m0 FROM campaigns FINAL WHERE tenant_id = '${t}' AND end_date IS NULL`,
    },
  ];
  it.each(DEMO_TENANT_IDS)('tenant %s', async (t) => {
    for (const c of cases) {
      const [row] = (await core.load(t, c.q)).rows;
      const [want] = await core.sql<Record<string, unknown>>(c.sql(t));
      c.q.measures!.forEach((m, i) => {
        expectClose(row[m], want[`m${i}`], `${t} ${m} [${c.q.segments!.join(',')}]`);
      });
    }
  });
});

describe('views equal the same members on their cubes', () => {
  const RANGE: [string, string] = ['2026-01-01', '2026-06-30'];
  const pairs: { view: SemanticQuery; cube: SemanticQuery }[] = [
    {
      view: {
        measures: ['impressions', 'clicks', 'cost', 'ctr', 'cpc', 'cpm', 'cpa', 'roas', 'conversion_rate', 'active_campaigns'].map(
          (m) => `campaign_performance.${m}`,
        ),
        dimensions: ['campaign_performance.campaigns_type'],
        timeDimensions: [{ dimension: 'campaign_performance.date', granularity: 'month', dateRange: RANGE }],
      },
      cube: {
        measures: ['impressions', 'clicks', 'cost', 'ctr', 'cpc', 'cpm', 'cpa', 'roas', 'conversion_rate', 'active_campaigns'].map(
          (m) => `ad_performance.${m}`,
        ),
        dimensions: ['campaigns.type'],
        timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month', dateRange: RANGE }],
      },
    },
    {
      view: {
        measures: ['campaign_performance.clicks', 'campaign_performance.cost'],
        dimensions: ['campaign_performance.platforms_channel', 'campaign_performance.campaigns_status'],
      },
      cube: { measures: ['ad_performance.clicks', 'ad_performance.cost'], dimensions: ['platforms.channel', 'campaigns.status'] },
    },
    {
      view: {
        measures: ['traffic_by_campaign.sessions', 'traffic_by_campaign.bounce_rate', 'traffic_by_campaign.revenue_per_session'],
        dimensions: ['traffic_by_campaign.campaigns_platform'],
      },
      cube: { measures: ['web_sessions.sessions', 'web_sessions.bounce_rate', 'web_sessions.revenue_per_session'], dimensions: ['campaigns.platform'] },
    },
    {
      view: {
        measures: ['conversion_attribution.count', 'conversion_attribution.value'],
        dimensions: ['conversion_attribution.platforms_channel', 'conversion_attribution.campaigns_objective'],
      },
      cube: { measures: ['conversions.count', 'conversions.value'], dimensions: ['platforms.channel', 'campaigns.objective'] },
    },
  ];

  it.each(DEMO_TENANT_IDS)('tenant %s', async (t) => {
    for (const p of pairs) {
      const v = await core.load(t, p.view);
      const c = await core.load(t, p.cube);
      expect(v.rows.length, JSON.stringify(p.view.measures)).toBe(c.rows.length);
      expect(v.rows.length).toBeGreaterThan(1);
      const byKey = keyed(c);
      for (const [k, row] of keyed(v)) {
        const other = byKey.get(k);
        expect(other, `${t}: view group ${k} missing on the cubes`).toBeDefined();
        p.view.measures!.forEach((m, i) => {
          expectClose(row[m], other![p.cube.measures![i]], `${t} ${m} @ ${k}`);
        });
      }
    }
  });

  it('campaign_performance by platform channel equals a raw join with the platforms table', async () => {
    const { rows } = await core.load('globex', {
      measures: ['campaign_performance.clicks', 'campaign_performance.ctr'],
      dimensions: ['campaign_performance.platforms_channel'],
    });
    const want = await core.sql<{ k: string; c: number; r: number }>(`
      SELECT p.channel AS k, sum(a.clicks) AS c, 100 * sum(a.clicks) / sum(a.impressions) AS r
      FROM ad_performance AS a JOIN (SELECT * FROM platforms FINAL) AS p ON a.platform = p.platform
      WHERE a.tenant_id = 'globex' GROUP BY k`);
    expect(rows).toHaveLength(want.length);
    for (const w of want) {
      const r = rows.find((x) => x['campaign_performance.platforms_channel'] === w.k)!;
      expect(r['campaign_performance.clicks']).toBe(Number(w.c));
      expectClose(r['campaign_performance.ctr'], w.r, `ctr ${w.k}`);
    }
  });
});

/** Daily sums from raw SQL: day -> value. */
async function daily(sql: string): Promise<Map<string, number>> {
  const rows = await core.sql<{ d: string; v: number }>(sql);
  return new Map(rows.map((r) => [String(r.d), Number(r.v)]));
}

function addDays(d: string, n: number): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** Sum of `values` over the days [from, to], inclusive; null when no day has a value. */
function windowSum(values: Map<string, number>, from: string, to: string): number | null {
  let s: number | null = null;
  for (let d = from; d <= to; d = addDays(d, 1)) if (values.has(d)) s = (s ?? 0) + values.get(d)!;
  return s;
}

describe('rolling windows equal trailing sums over raw daily totals', () => {
  const RANGE: [string, string] = ['2026-02-20', '2026-03-12'];
  const specs = [
    {
      member: 'ad_performance.cost_7d',
      time: 'ad_performance.date',
      sql: (t: string) => `SELECT date AS d, sum(cost) AS v FROM ad_performance WHERE tenant_id = '${t}' GROUP BY d`,
    },
    {
      member: 'ad_performance.clicks_7d',
      time: 'ad_performance.date',
      sql: (t: string) => `SELECT date AS d, sum(clicks) AS v FROM ad_performance WHERE tenant_id = '${t}' GROUP BY d`,
    },
    {
      member: 'web_sessions.sessions_7d',
      time: 'web_sessions.started_at',
      sql: (t: string) => `SELECT toDate(started_at) AS d, count() AS v FROM web_sessions WHERE tenant_id = '${t}' GROUP BY d`,
    },
    {
      member: 'conversions.count_7d',
      time: 'conversions.occurred_at',
      sql: (t: string) => `SELECT toDate(occurred_at) AS d, count() AS v FROM conversions WHERE tenant_id = '${t}' GROUP BY d`,
    },
  ];

  it.each(DEMO_TENANT_IDS)('trailing 7 days by day, tenant %s', async (t) => {
    for (const s of specs) {
      const { rows } = await core.load(t, { measures: [s.member], timeDimensions: [{ dimension: s.time, granularity: 'day', dateRange: RANGE }] });
      const values = await daily(s.sql(t));
      const days: string[] = [];
      for (let d = RANGE[0]; d <= RANGE[1]; d = addDays(d, 1)) days.push(d);
      expect(rows.map((r) => day(r[`${s.time}.day`]))).toEqual(days);
      for (const r of rows) {
        const d = day(r[`${s.time}.day`])!;
        expectClose(r[s.member], windowSum(values, addDays(d, -6), d), `${t} ${s.member} @ ${d}`);
      }
    }
  });

  it('trailing 7 days by month is the last 7 days of each month; cost_to_date is the running total', async () => {
    const t = 'initech';
    const values = await daily(specs[0].sql(t));
    const { rows } = await core.load(t, {
      measures: ['ad_performance.cost_7d', 'ad_performance.cost_to_date'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month', dateRange: ['2026-01-01', '2026-04-30'] }],
    });
    expect(rows.map((r) => day(r['ad_performance.date.month']))).toEqual(['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01']);
    for (const r of rows) {
      const start = day(r['ad_performance.date.month'])!;
      const end = addDays(new Date(Date.UTC(+start.slice(0, 4), +start.slice(5, 7), 1)).toISOString().slice(0, 10), -1);
      expectClose(r['ad_performance.cost_7d'], windowSum(values, addDays(end, -6), end), `cost_7d ${start}`);
      expectClose(r['ad_performance.cost_to_date'], windowSum(values, '2000-01-01', end), `cost_to_date ${start}`);
    }
  });
});

describe('time zones', () => {
  const RANGE: [string, string] = ['2026-03-05', '2026-03-12']; // US daylight saving starts 2026-03-08
  const sessionsByDay = async (t: string, tz: string) => {
    const { rows } = await core.load(t, {
      measures: ['web_sessions.sessions', 'web_sessions.revenue'],
      timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: RANGE }],
      timezone: tz,
    });
    return rows.map((r) => [day(r['web_sessions.started_at.day']), r['web_sessions.sessions'], num(r['web_sessions.revenue'])]);
  };
  const rawByDay = async (t: string, tz: string) => {
    const rows = await core.sql<{ d: string; n: number; r: number }>(`
      SELECT toString(toDate(started_at, '${tz}')) AS d, count() AS n, sum(revenue) AS r FROM web_sessions
      WHERE tenant_id = '${t}' AND toDate(started_at, '${tz}') BETWEEN toDate('${RANGE[0]}') AND toDate('${RANGE[1]}')
      GROUP BY d ORDER BY d`);
    return rows.map((r) => [r.d, Number(r.n), Number(r.r)]);
  };

  it.each(DEMO_TENANT_IDS)('web_sessions days follow the query zone (tenant %s)', async (t) => {
    const ny = await sessionsByDay(t, 'America/New_York');
    const utc = await sessionsByDay(t, 'UTC');
    for (const [got, want] of [
      [ny, await rawByDay(t, 'America/New_York')],
      [utc, await rawByDay(t, 'UTC')],
    ]) {
      expect(got.map((r) => [r[0], r[1]])).toEqual(want.map((r) => [r[0], r[1]]));
      got.forEach((r, i) => {
        expect(isClose(r[2], want[i][2]), `revenue ${r[0]}`).toBe(true);
      });
    }
    expect(ny.map((r) => r[1])).not.toEqual(utc.map((r) => r[1]));
  });

  it('a Date column (ad_performance.date) keeps its calendar day in any zone', async () => {
    const q = (timezone: string): SemanticQuery => ({
      measures: ['ad_performance.clicks'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: RANGE }],
      timezone,
    });
    const raw = await core.sql<{ d: string; c: number }>(
      `SELECT toString(date) AS d, sum(clicks) AS c FROM ad_performance WHERE tenant_id = 'acme' AND date BETWEEN '${RANGE[0]}' AND '${RANGE[1]}' GROUP BY d ORDER BY d`,
    );
    const want = raw.map((r) => [r.d, Number(r.c)]);
    for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
      const { rows } = await core.load('acme', q(tz));
      expect(
        rows.map((r) => [day(r['ad_performance.date.day']), r['ad_performance.clicks']]),
        tz,
      ).toEqual(want);
    }
  });
});
