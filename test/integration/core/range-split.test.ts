/**
 * Range splits: queries that differ only in the date range of their time dimension, loaded in
 * one request, are answered by ONE statement (aggregates restricted per range). Every member's
 * rows must equal the same query run alone, for every shape the split supports; shapes it does not
 * support (rolling windows, fan-out) must fall back to one statement per query and stay right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellValue, QueryResult, RequestContext } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { isClose, principalFor, startCore, type Core } from './harness.js';

let core: Core;
beforeAll(async () => {
  core = await startCore();
}, 120_000);
afterAll(async () => {
  await core?.close();
});

/** Overlapping, nested and disjoint windows (the demo data spans 2024-11-01 .. 2026-10-31). */
const RANGES: [string, string][] = [
  ['2026-08-01', '2026-10-31'],
  ['2026-09-15', '2026-10-31'],
  ['2026-10-01', '2026-10-07'],
  ['2025-01-01', '2025-03-31'],
];

const td = (dimension: string, granularity?: 'day' | 'week' | 'month') => (range: [string, string]) => [
  { dimension, dateRange: range, ...(granularity ? { granularity } : {}) },
];

interface Shape {
  readonly name: string;
  readonly query: (range: [string, string]) => SemanticQuery;
  /** One statement for all ranges (false: the shape falls back to one per range). */
  readonly split: boolean;
}

const SHAPES: Shape[] = [
  {
    name: 'KPI tiles with ratio measures',
    query: (r) => ({
      measures: ['ad_performance.cost', 'ad_performance.clicks', 'ad_performance.ctr', 'ad_performance.roas', 'ad_performance.cpa'],
      timeDimensions: td('ad_performance.date')(r),
    }),
    split: true,
  },
  {
    name: 'daily trend',
    query: (r) => ({ measures: ['ad_performance.clicks', 'ad_performance.cost'], timeDimensions: td('ad_performance.date', 'day')(r) }),
    split: true,
  },
  {
    name: 'top 3 platforms by cost (order + limit per range)',
    query: (r) => ({
      measures: ['ad_performance.cost', 'ad_performance.conversions'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: td('ad_performance.date')(r),
      order: [['ad_performance.cost', 'desc']],
      limit: 3,
    }),
    split: true,
  },
  {
    name: 'count distinct + segment + filter by device and week',
    query: (r) => ({
      measures: ['ad_performance.active_campaigns', 'ad_performance.impressions'],
      dimensions: ['ad_performance.device'],
      segments: ['ad_performance.paid_social'],
      filters: [{ member: 'ad_performance.country', operator: 'equals', values: ['US', 'GB'] }],
      timeDimensions: td('ad_performance.date', 'week')(r),
    }),
    split: true,
  },
  {
    name: 'a joined dimension (campaign name), top 5 by spend, in a time zone',
    query: (r) => ({
      measures: ['ad_performance.cost'],
      dimensions: ['campaigns.name'],
      timeDimensions: td('ad_performance.date')(r),
      order: [['ad_performance.cost', 'desc']],
      limit: 5,
      timezone: 'America/New_York',
    }),
    split: true,
  },
  {
    name: 'web sessions by month and medium (DateTime column)',
    query: (r) => ({
      measures: ['web_sessions.sessions', 'web_sessions.bounce_rate'],
      dimensions: ['web_sessions.medium'],
      timeDimensions: td('web_sessions.started_at', 'month')(r),
    }),
    split: true,
  },
  {
    name: 'rolling window (falls back)',
    query: (r) => ({ measures: ['ad_performance.cost_7d'], timeDimensions: td('ad_performance.date', 'week')(r) }),
    split: false,
  },
  {
    name: 'fan-out through a one_to_many join (falls back)',
    query: (r) => ({
      measures: ['campaigns.count', 'ad_performance.cost'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: td('ad_performance.date')(r),
    }),
    split: false,
  },
];

function ctx(tenant: string): RequestContext {
  return { requestId: `split-${Math.random()}`, door: 'cli', principal: principalFor(tenant) };
}

/** Rows in a stable order (by every non-measure cell) unless the query orders them itself. */
function comparable(r: QueryResult, ordered: boolean): Record<string, CellValue>[] {
  if (ordered) return [...r.rows];
  const dims = r.columns.filter((c) => c.kind !== 'measure').map((c) => c.key);
  return [...r.rows].sort((a, b) => (JSON.stringify(dims.map((d) => a[d])) < JSON.stringify(dims.map((d) => b[d])) ? -1 : 1));
}

function expectSameRows(actual: QueryResult, expected: QueryResult, ordered: boolean, label: string): void {
  expect(
    actual.columns.map((c) => c.key),
    label,
  ).toEqual(expected.columns.map((c) => c.key));
  const a = comparable(actual, ordered);
  const e = comparable(expected, ordered);
  expect(a.length, `${label}: rows`).toBe(e.length);
  a.forEach((row, i) => {
    for (const c of expected.columns) {
      const ok = c.kind === 'measure' ? isClose(row[c.key], e[i][c.key]) : row[c.key] === e[i][c.key];
      if (!ok) throw new Error(`${label}: row ${i} ${c.key}: got ${String(row[c.key])}, expected ${String(e[i][c.key])}`);
    }
  });
}

describe.each(['acme', 'globex'])('range split (tenant %s)', (tenant) => {
  it.each(SHAPES.map((s) => [s.name, s] as const))('%s: every range equals the query run alone', async (_name, shape) => {
    const queries = RANGES.map((r) => shape.query(r));
    const before = core.wh.engine.stats().queries;
    const batch = ctx(tenant);
    const together = await Promise.all(queries.map((q) => core.service.load(batch, q)));
    const statements = core.wh.engine.stats().queries - before;
    expect(statements).toBe(shape.split ? 1 : RANGES.length);

    const alone: QueryResult[] = [];
    for (const q of queries) alone.push(await core.service.load(ctx(tenant), q));
    expect(alone.some((r) => r.rows.length > 0)).toBe(true);
    together.forEach((r, i) => {
      expectSameRows(r, alone[i], Boolean(queries[i].order), `${shape.name} ${RANGES[i].join('..')}`);
    });
  });
});

describe('range split bookkeeping', () => {
  it('a repeated range is one member of the split; measure sets may differ', async () => {
    const base = SHAPES[2].query(RANGES[0]);
    const qs: SemanticQuery[] = [
      base,
      { ...base },
      { ...SHAPES[2].query(RANGES[1]), measures: ['ad_performance.clicks'], order: [['ad_performance.clicks', 'desc']] },
    ];
    const before = core.wh.engine.stats().queries;
    const batch = ctx('acme');
    const [a, b, c] = await Promise.all(qs.map((q) => core.service.load(batch, q)));
    expect(core.wh.engine.stats().queries - before).toBe(1);
    expect(b.rows).toEqual(a.rows);
    expect(c.columns.map((x) => x.key)).toEqual(['ad_performance.platform', 'ad_performance.clicks']);
    expectSameRows(c, await core.service.load(ctx('acme'), qs[2]), true, 'clicks by platform');
  });

  it('tenants never share a split: each tenant gets its own rows', async () => {
    const q = (r: [string, string]) => SHAPES[0].query(r);
    const [acme, globex] = await Promise.all(
      ['acme', 'globex'].map(async (t) => {
        const batch = ctx(t);
        return Promise.all(RANGES.slice(0, 2).map((r) => core.service.load(batch, q(r))));
      }),
    );
    expect(acme[0].rows[0]['ad_performance.cost']).not.toEqual(globex[0].rows[0]['ad_performance.cost']);
    const direct = await core.sql<{ cost: number }>(
      "SELECT sum(cost) AS cost FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN '2026-09-15' AND '2026-10-31'",
      { t: 'globex' },
    );
    expect(isClose(globex[1].rows[0]['ad_performance.cost'], direct[0].cost)).toBe(true);
  });
});

describe('fusion: different dimensions over the same rows share one statement (grouping sets)', () => {
  const dashboard = (r: [string, string]): SemanticQuery[] => [
    SHAPES[0].query(r), // no dimensions
    SHAPES[1].query(r), // by day
    SHAPES[2].query(r), // top 3 platforms
    {
      measures: ['ad_performance.cost', 'ad_performance.roas'],
      dimensions: ['campaigns.name'],
      timeDimensions: td('ad_performance.date')(r),
      order: [['ad_performance.cost', 'desc']],
      limit: 5,
    },
    {
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.country', 'ad_performance.device'],
      timeDimensions: td('ad_performance.date', 'week')(r),
    },
    // a view over the same cube: its time dimension is the cube's, so it joins the same statement
    {
      measures: ['campaign_performance.cost', 'campaign_performance.clicks'],
      dimensions: ['campaign_performance.campaigns_name'],
      timeDimensions: td('campaign_performance.date')(r),
      order: [['campaign_performance.cost', 'desc']],
      limit: 10,
    },
    { measures: ['campaign_performance.ctr'], timeDimensions: td('campaign_performance.date', 'week')(r) },
  ];

  it.each(['acme', 'initech'])(
    'a 7-widget dashboard (cube + view) over 3 date windows is ONE statement and every widget equals its query alone (%s)',
    async (tenant) => {
      const queries = RANGES.slice(0, 3).flatMap((r) => dashboard(r));
      const before = core.wh.engine.stats().queries;
      const batch = ctx(tenant);
      const together = await Promise.all(queries.map((q) => core.service.load(batch, q)));
      expect(core.wh.engine.stats().queries - before).toBe(1);
      for (let i = 0; i < queries.length; i++) {
        const alone = await core.service.load(ctx(tenant), queries[i]);
        expectSameRows(together[i], alone, Boolean(queries[i].order), `query ${i}`);
      }
      expect(together.some((r) => r.rows.length > 1)).toBe(true);
      // The campaign-name widget (aggregated before its lookup join in the fused statement) against
      // SQL written by hand: the join on every fact row, as the model describes it.
      for (const [w, range] of RANGES.slice(0, 3).entries()) {
        const direct = await core.sql<{ name: string | null; cost: number }>(
          `SELECT c.name AS name, sum(a.cost) AS cost FROM ad_performance AS a FINAL
           LEFT JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = {t:String}) AS c ON a.tenant_id = c.tenant_id AND a.campaign_id = c.campaign_id
           WHERE a.tenant_id = {t:String} AND a.date BETWEEN {from:String} AND {to:String}
           GROUP BY name ORDER BY cost DESC LIMIT 5 SETTINGS join_use_nulls = 1`,
          { t: tenant, from: range[0], to: range[1] },
        );
        const fused = together[w * 7 + 3];
        expect(fused.rows.map((r) => r['campaigns.name'])).toEqual(direct.map((d) => d.name));
        for (const [i, r] of fused.rows.entries()) expect(isClose(r['ad_performance.cost'], direct[i].cost), `range ${w} row ${i}`).toBe(true);
      }
    },
  );

  it('a condition on a lookup keeps the join under every set (no early aggregation) and stays right', async () => {
    const active = { member: 'campaigns.status', operator: 'equals', values: ['active'] } as const;
    const queries: SemanticQuery[] = RANGES.slice(0, 2).flatMap((r) => [
      { ...SHAPES[2].query(r), filters: [active] },
      { measures: ['ad_performance.cost'], dimensions: ['campaigns.name'], timeDimensions: td('ad_performance.date')(r), filters: [active] },
    ]);
    const before = core.wh.engine.stats().queries;
    const batch = ctx('acme');
    const together = await Promise.all(queries.map((q) => core.service.load(batch, q)));
    expect(core.wh.engine.stats().queries - before).toBe(1);
    for (let i = 0; i < queries.length; i++)
      expectSameRows(together[i], await core.service.load(ctx('acme'), queries[i]), Boolean(queries[i].order), `query ${i}`);
    const direct = await core.sql<{ cost: number }>(
      `SELECT sum(a.cost) AS cost FROM ad_performance AS a FINAL
       JOIN (SELECT * FROM campaigns FINAL WHERE tenant_id = 'acme' AND status = 'active') AS c ON a.tenant_id = c.tenant_id AND a.campaign_id = c.campaign_id
       WHERE a.tenant_id = 'acme' AND a.date BETWEEN '2026-08-01' AND '2026-10-31'`,
    );
    const total = together[1].rows.reduce((sum, r) => sum + Number(r['ad_performance.cost']), 0);
    expect(isClose(total, direct[0].cost)).toBe(true);
  });

  it('a shape that cannot be fused falls back to the plain plan and stays right', async () => {
    const queries: SemanticQuery[] = [SHAPES[0].query(RANGES[0]), SHAPES[0].query(RANGES[1]), SHAPES[6].query(RANGES[0])];
    const before = core.wh.engine.stats().queries;
    const batch = ctx('globex');
    const together = await Promise.all(queries.map((q) => core.service.load(batch, q)));
    // the two KPI windows as one range split, the rolling window on its own
    expect(core.wh.engine.stats().queries - before).toBe(2);
    for (let i = 0; i < queries.length; i++) expectSameRows(together[i], await core.service.load(ctx('globex'), queries[i]), false, `query ${i}`);
  });
});
