/**
 * Rollups (cube-models' pre_aggregations) on REAL chDB with the REAL models and demo data:
 * - every public measure a rollup serves, per tenant, equals the independent KPI oracle (raw SQL over
 *   the fact tables with a literal tenant predicate), and the answer says it came from a rollup;
 * - by each rollup dimension, segment, granularity, with comparisons and rolling windows: the same
 *   rows as the query read from the fact table;
 * - after inserts (new rows, an upsert correcting a row), deletions and a tenant's rebuild, once the
 *   maintainer has folded them in: equal again, and other tenants' rollups untouched;
 * - queries a rollup cannot answer exactly are never routed to one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { createQueryService, type StrataQueryService } from '../../../src/query/query-service.js';
import type { CellValue, QueryResult, RequestContext } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { rollupSelect } from '../../../src/compiler/rollup/build-sql.js';
import { bucketOfDay } from '../../../src/compiler/rollup/derive.js';
import { shapeOf } from '../../../src/compiler/rollup/route.js';
import { DIRTY_TABLE, type PlannedRollup } from '../../../src/rollups/warehouse.js';
import { LIMITS, NOW, day, expectClose, isClose, principalFor, startCore, type Core } from '../core/harness.js';
import { ORACLES, oracleSql } from '../core/kpi-sql.js';

const RANGE = ['2025-09-01', '2026-02-28'] as const;
const ROLLUP_CUBES = ['ad_performance', 'web_sessions', 'conversions', 'email_activity'];

let core: Core;
let plain: StrataQueryService;
let n = 0;
const ctx = (tenant: string): RequestContext => ({ requestId: `rollup-${++n}`, door: 'cli', principal: principalFor(tenant) });
const withRollups = (tenant: string, q: SemanticQuery) => core.service.load(ctx(tenant), q);
const fromFacts = (tenant: string, q: SemanticQuery) => plain.load(ctx(tenant), q);

beforeAll(async () => {
  core = await startCore({ rollups: true });
  // The same model and warehouse without rollups: the fact-table answer of every query.
  plain = createQueryService({ model: core.model, engine: core.wh.engine, limits: LIMITS, queryTimeoutMs: 30_000, now: () => NOW });
}, 120_000);
afterAll(async () => {
  await core?.close();
});

/** Public measures some rollup of the cube serves. */
function servedMeasures(cube: string): string[] {
  const c = core.model.cubes[cube];
  const served = new Set((c.preAggregations ?? []).flatMap((p) => [...shapeOf(core.model, p).served]));
  return Object.values(c.measures)
    .filter((m) => m.public && served.has(m.name))
    .map((m) => m.name);
}

function rowKey(result: QueryResult, row: Readonly<Record<string, CellValue>>): string {
  return JSON.stringify(result.columns.filter((c) => c.kind !== 'measure').map((c) => row[c.key]));
}

/** The two answers hold the same groups with the same values (floats within 1e-9). */
function expectSameRows(got: QueryResult, want: QueryResult, label: string): void {
  expect(got.rows.length, `${label}: rows`).toBe(want.rows.length);
  const byKey = new Map(want.rows.map((r) => [rowKey(want, r), r]));
  for (const row of got.rows) {
    const other = byKey.get(rowKey(got, row));
    expect(other, `${label}: unexpected group ${rowKey(got, row)}`).toBeDefined();
    for (const c of got.columns) {
      if (c.kind === 'measure') expectClose(row[c.key], other![c.key], `${label} ${c.key} @ ${rowKey(got, row)}`);
      else expect(row[c.key], `${label} ${c.key}`).toEqual(other![c.key]);
    }
  }
}

async function expectRoutedAndEqual(tenant: string, q: SemanticQuery, label: string): Promise<QueryResult> {
  const [a, b] = [await withRollups(tenant, q), await fromFacts(tenant, q)];
  expect(a.rollup?.name, `${label}: answered from a rollup`).toBeDefined();
  expect(b.rollup, `${label}: the comparison side reads the facts`).toBeUndefined();
  expectSameRows(a, b, label);
  return a;
}

describe('rollups are built from the model', () => {
  it('one table per pre_aggregation, backfilled, every tenant in it', async () => {
    const planned = core.rollups!.report.planned;
    expect(planned.map((p) => p.key).sort()).toEqual(
      Object.values(core.model.cubes)
        .flatMap((c) => (c.preAggregations ?? []).map((p) => `${c.name}.${p.name}`))
        .sort(),
    );
    for (const p of planned) {
      const rows = await core.sql<{ t: string }>(`SELECT DISTINCT tenant_id AS t FROM ${p.table}`);
      expect(rows.map((r) => r.t).sort(), p.key).toEqual(expect.arrayContaining([...DEMO_TENANT_IDS]));
    }
    // Date time dimensions keep the cube's own days; DateTime ones are bucketed in UTC.
    expect(core.rollups!.ready.get('ad_performance.daily')?.timeIsDate).toBe(true);
    expect(core.rollups!.ready.get('web_sessions.daily_by_channel')?.timeIsDate).toBe(false);
  });
});

describe.each(DEMO_TENANT_IDS)('tenant %s: rollup answers equal the independent oracle', (tenant) => {
  it.each(ROLLUP_CUBES)('%s: totals of every measure a rollup serves', async (cube) => {
    const o = ORACLES[cube];
    const names = Object.keys(o.measures).filter((m) => servedMeasures(cube).includes(m));
    expect(names.length).toBeGreaterThan(3);
    const result = await withRollups(tenant, { measures: names.map((m) => `${cube}.${m}`) });
    expect(result.rollup?.name.startsWith(`${cube}.`)).toBe(true);
    const subset = { ...o, measures: Object.fromEntries(names.map((m) => [m, o.measures[m]])) };
    const [expected] = await core.sql<Record<string, unknown>>(oracleSql(subset, tenant, { grouped: false }));
    names.forEach((m, i) => {
      expectClose(result.rows[0][`${cube}.${m}`], expected[`m${i}`], `${tenant} ${cube}.${m}`);
    });
  });

  it.each(ROLLUP_CUBES)('%s: by a dimension and by month over a date range', async (cube) => {
    const o = ORACLES[cube];
    const names = Object.keys(o.measures).filter((m) => servedMeasures(cube).includes(m));
    const result = await withRollups(tenant, {
      measures: names.map((m) => `${cube}.${m}`),
      dimensions: [o.dimension.member],
      timeDimensions: [{ dimension: o.time.member, granularity: 'month', dateRange: [...RANGE] }],
    });
    expect(result.rollup?.name.startsWith(`${cube}.`)).toBe(true);
    const subset = { ...o, measures: Object.fromEntries(names.map((m) => [m, o.measures[m]])) };
    const expected = await core.sql<Record<string, unknown>>(oracleSql(subset, tenant, { grouped: true, range: RANGE }));
    const byKey = new Map(expected.map((r) => [`${String(r.k_dim)}|${String(r.k_month)}`, r]));
    expect(result.rows.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(1);
    for (const row of result.rows) {
      const k = `${String(row[o.dimension.member])}|${day(row[`${o.time.member}.month`])}`;
      const want = byKey.get(k);
      expect(want, `${tenant} ${cube}: group ${k}`).toBeDefined();
      names.forEach((m, i) => {
        expectClose(row[`${cube}.${m}`], want![`m${i}`], `${tenant} ${cube}.${m} @ ${k}`);
      });
    }
  });
});

describe('every rollup dimension, segment and granularity reads the same rows as the facts', () => {
  it.each(ROLLUP_CUBES)('%s', async (cube) => {
    const c = core.model.cubes[cube];
    for (const pre of c.preAggregations ?? []) {
      const served = shapeOf(core.model, pre).served;
      const measures = Object.values(c.measures)
        .filter((m) => m.public && !m.rollingWindow && served.has(m.name))
        .map((m) => m.path);
      const td = `${cube}.${pre.timeDimension}`;
      for (const dim of pre.dimensions) {
        await expectRoutedAndEqual('acme', { measures, dimensions: [`${cube}.${dim}`] }, `${pre.name} by ${dim}`);
      }
      for (const seg of pre.segments) {
        await expectRoutedAndEqual('globex', { measures: measures.slice(0, 3), segments: [`${cube}.${seg}`] }, `${pre.name} segment ${seg}`);
      }
      for (const granularity of ['day', 'week', 'month', 'quarter', 'year'] as const) {
        await expectRoutedAndEqual(
          'initech',
          { measures: measures.slice(0, 4), timeDimensions: [{ dimension: td, granularity, dateRange: [...RANGE] }] },
          `${pre.name} by ${granularity}`,
        );
      }
      if (pre.dimensions.length > 0) {
        const dim = `${cube}.${pre.dimensions[0]}`;
        const values = (await fromFacts('acme', { measures: measures.slice(0, 1), dimensions: [dim], limit: 2 })).rows.map((r) => r[dim]);
        await expectRoutedAndEqual(
          'acme',
          {
            measures,
            dimensions: pre.dimensions.map((d) => `${cube}.${d}`),
            filters: [{ member: dim, operator: 'equals', values: values.map(String) }],
            timeDimensions: [{ dimension: td, granularity: 'week', dateRange: 'last 90 days' }],
            order: { [measures[0]]: 'desc' },
            total: true,
          },
          `${pre.name} filtered, ordered, limited`,
        );
      }
    }
  });

  it('Date time dimensions: any time zone and range, rolling windows, comparisons', async () => {
    await expectRoutedAndEqual(
      'acme',
      {
        measures: ['ad_performance.cost_7d', 'ad_performance.clicks_7d', 'ad_performance.ctr'],
        timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2026-03-01', '2026-04-15'] }],
        timezone: 'America/Los_Angeles',
      },
      'rolling windows in a zone',
    );
    await expectRoutedAndEqual(
      'acme',
      { measures: ['ad_performance.cost_to_date'], timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month', dateRange: [...RANGE] }] },
      'running total',
    );
    await expectRoutedAndEqual(
      'globex',
      {
        measures: ['ad_performance.clicks'],
        timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'hour', dateRange: ['2026-01-10T06:00:00', '2026-01-12T18:00:00'] }],
        timezone: 'Asia/Tokyo',
      },
      'a range that is not whole days',
    );
    const compared = await withRollups('acme', {
      measures: ['ad_performance.cost', 'ad_performance.roas'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-09-01', '2026-09-30'] }],
      compareTo: { period: 'previousPeriod' },
    });
    const facts = await fromFacts('acme', {
      measures: ['ad_performance.cost', 'ad_performance.roas'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-09-01', '2026-09-30'] }],
      compareTo: { period: 'previousPeriod' },
    });
    expect(compared.rollup?.name).toBe('ad_performance.daily_by_platform');
    expect(compared.comparison?.previous.rollup?.name).toBe('ad_performance.daily_by_platform');
    expectSameRows(compared, facts, 'compared: current period');
    expectSameRows(compared.comparison!.previous, facts.comparison!.previous, 'compared: previous period');
    expect(compared.comparison!.rows.length).toBe(facts.comparison!.rows.length);
    for (const [i, row] of compared.comparison!.rows.entries()) {
      const other = facts.comparison!.rows.find((r) => JSON.stringify(r.dimensions) === JSON.stringify(row.dimensions));
      expect(other, `comparison row ${i}`).toBeDefined();
      for (const [m, v] of Object.entries(row.measures)) {
        expectClose(v.previous, other!.measures[m].previous, `${m} previous`);
        expectClose(v.percentChange, other!.measures[m].percentChange, `${m} % change`);
      }
    }
  });
});

describe('many_to_one lookups are joined to the rollup on its stored keys', () => {
  it.each(DEMO_TENANT_IDS)('%s: top campaigns by name through the view, platforms by channel, a filter on the lookup', async (tenant) => {
    const top = await expectRoutedAndEqual(
      tenant,
      {
        measures: ['campaign_performance.cost', 'campaign_performance.clicks', 'campaign_performance.ctr'],
        dimensions: ['campaign_performance.campaigns_name'],
        timeDimensions: [{ dimension: 'campaign_performance.date', dateRange: [...RANGE] }],
        order: { 'campaign_performance.cost': 'desc' },
      },
      'top campaigns',
    );
    expect(top.rollup?.name).toBe('ad_performance.daily_by_campaign');
    expect(top.rows.length).toBeGreaterThan(1);
    const channels = await expectRoutedAndEqual(tenant, { measures: ['ad_performance.cost'], dimensions: ['platforms.channel'] }, 'by channel');
    expect(channels.rollup?.name).toBe('ad_performance.daily_by_platform');
    await expectRoutedAndEqual(
      tenant,
      {
        measures: ['ad_performance.clicks'],
        dimensions: ['ad_performance.platform'],
        filters: [{ member: 'campaigns.status', operator: 'equals', values: ['active'] }],
      },
      'filtered on campaign status',
    );
  });
});

describe('a query a rollup cannot answer exactly reads the facts', () => {
  const cases: [string, SemanticQuery][] = [
    ['a dimension no rollup has', { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.ad_id'] }],
    ['a filter on a dimension no rollup has', { measures: ['ad_performance.clicks'], filters: [{ member: 'ad_performance.ad_group_id', operator: 'set' }] }],
    ['a segment no rollup has', { measures: ['ad_performance.clicks'], segments: ['ad_performance.video'] }],
    ['a measure of a joined cube', { measures: ['ad_performance.clicks', 'campaigns.count'], dimensions: ['campaigns.name'] }],
    ['a lookup joined on a key the rollups lack', { measures: ['ad_performance.clicks'], dimensions: ['campaigns.name', 'ad_performance.ad_id'] }],
    ['distinct counts by a dimension the rollup lacks', { measures: ['ad_performance.active_campaigns'], dimensions: ['ad_performance.country'] }],
    [
      'a DateTime cube in another time zone',
      {
        measures: ['web_sessions.sessions'],
        timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: [...RANGE] }],
        timezone: 'Europe/Berlin',
      },
    ],
    [
      'a DateTime cube over part of a day',
      {
        measures: ['web_sessions.sessions'],
        timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'hour', dateRange: ['2026-01-01T06:00:00', '2026-01-01T18:00:00'] }],
      },
    ],
    ['a DateTime cube by its raw time', { measures: ['web_sessions.sessions'], dimensions: ['web_sessions.started_at'], limit: 50 }],
    [
      'a rolling window over UTC day buckets of a DateTime',
      { measures: ['web_sessions.sessions_7d'], timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: [...RANGE] }] },
    ],
    ['ungrouped rows', { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'], ungrouped: true, limit: 10 }],
  ];
  it.each(cases)('%s', async (label, q) => {
    const a = await withRollups('acme', q);
    expect(a.rollup).toBeUndefined();
    // A limit without an order picks any rows: compare counts there, whole answers elsewhere.
    if (q.limit !== undefined) expect(a.rows.length).toBe((await fromFacts('acme', q)).rows.length);
    else expectSameRows(a, await fromFacts('acme', q), label);
  });
});

describe('maintenance: inserts, upserts and deletions are folded in', () => {
  const TOTALS: SemanticQuery = {
    measures: ['ad_performance.impressions', 'ad_performance.clicks', 'ad_performance.count', 'ad_performance.active_campaigns', 'ad_performance.ctr'],
    dimensions: ['ad_performance.platform'],
  };
  const WEEKLY: SemanticQuery = {
    measures: ['web_sessions.sessions', 'web_sessions.revenue', 'web_sessions.users'],
    dimensions: ['web_sessions.medium'],
    timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'week', dateRange: ['2026-10-01', '2026-10-31'] }],
  };

  it('a corrected row replaces the old one, a new day and a new group appear, other tenants keep theirs', async () => {
    const before = await withRollups('acme', TOTALS);
    const globexBefore = await withRollups('globex', TOTALS);
    const [row] = await core.sql<Record<string, unknown>>(
      "SELECT * FROM ad_performance WHERE tenant_id = 'acme' AND platform = 'meta' ORDER BY date DESC, ad_id LIMIT 1",
    );
    const now = '2030-01-01 00:00:00.000';
    const corrected = { ...row, impressions: Number(row.impressions) + 50_000, clicks: Number(row.clicks) + 700, ingested_at: now };
    const added = { ...row, date: '2026-10-31', ad_id: 'acme-ad-rollup-test', campaign_id: 'acme-cmp-rollup-test', platform: 'amazon', ingested_at: now };
    await core.wh.engine.insert('ad_performance', [corrected, added]);
    const [session] = await core.sql<Record<string, unknown>>("SELECT * FROM web_sessions WHERE tenant_id = 'acme' AND medium = 'email' LIMIT 1");
    await core.wh.engine.insert('web_sessions', [{ ...session, session_id: 'acme-rollup-session', started_at: '2026-10-20 23:30:00', revenue: 1234.5 }]);

    const report = await core.rollups!.maintainer.refresh('acme');
    expect(report.groups).toBeGreaterThan(0);
    const after = await expectRoutedAndEqual('acme', TOTALS, 'after the upsert');
    await expectRoutedAndEqual('acme', WEEKLY, 'sessions after the insert');
    const clicks = (r: QueryResult, p: string) => Number(r.rows.find((x) => x['ad_performance.platform'] === p)?.['ad_performance.clicks'] ?? 0);
    expect(clicks(after, 'meta') - clicks(before, 'meta')).toBe(700);
    expect(clicks(after, 'amazon') - clicks(before, 'amazon')).toBe(Number(row.clicks));
    expectSameRows(await withRollups('globex', TOTALS), globexBefore, 'globex untouched');
  });

  it('rows deleted without an insert: the tenant is rebuilt, the group is gone', async () => {
    const platforms = async (t: string) => (await fromFacts(t, TOTALS)).rows.map((r) => String(r['ad_performance.platform']));
    const globexPlatforms = await platforms('globex');
    const gone = (await platforms('acme')).find((p) => globexPlatforms.includes(p) && p !== 'meta')!;
    expect(gone).toBeDefined();
    await core.wh.engine.command(`DELETE FROM ad_performance WHERE tenant_id = 'acme' AND platform = '${gone}'`);
    await core.rollups!.maintainer.invalidate('acme', ['ad_performance']);
    const after = await expectRoutedAndEqual('acme', TOTALS, 'after the deletion');
    expect(after.rows.some((r) => r['ad_performance.platform'] === gone)).toBe(false);
    const globex = await withRollups('globex', TOTALS);
    expect(globex.rollup).toBeDefined();
    expect(globex.rows.some((r) => r['ad_performance.platform'] === gone)).toBe(true);
  });

  it("the background sweep folds in another writer's rows and says which cubes changed for whom", async () => {
    const [row] = await core.sql<Record<string, unknown>>("SELECT * FROM ad_performance WHERE tenant_id = 'initech' LIMIT 1");
    await core.wh.engine.insert('ad_performance', [{ ...row, ad_id: 'initech-ad-sweep', clicks: 4242, ingested_at: '2030-01-01 00:00:00.000' }]);
    const seen: [string, readonly string[]][] = [];
    const swept = new Promise<void>((resolve) => {
      core.rollups!.maintainer.start(100, (tenant, cubes) => {
        seen.push([tenant, cubes]);
        resolve();
      });
    });
    await swept;
    core.rollups!.maintainer.stop();
    // Refreshes run one at a time: this one settles after any sweep that was still running.
    await core.rollups!.maintainer.refresh();
    expect(seen).toContainEqual(['initech', ['ad_performance']]);
    await expectRoutedAndEqual('initech', TOTALS, 'after the sweep');
  });

  it('a refresh with nothing pending changes nothing, and marks of other tenants wait for their own refresh', async () => {
    await core.wh.engine.insert('ad_performance', [
      {
        ...(await core.sql<Record<string, unknown>>("SELECT * FROM ad_performance WHERE tenant_id = 'globex' LIMIT 1"))[0],
        ad_id: 'globex-ad-rollup-test',
        ingested_at: '2030-01-01 00:00:00.000',
      },
    ]);
    await core.rollups!.maintainer.refresh('acme');
    const stale = await withRollups('globex', TOTALS);
    const facts = await fromFacts('globex', TOTALS);
    const total = (r: QueryResult) => r.rows.reduce((s, x) => s + Number(x['ad_performance.count']), 0);
    expect(total(facts) - total(stale)).toBe(1);
    await core.rollups!.maintainer.refresh();
    expectSameRows(await withRollups('globex', TOTALS), facts, 'globex after its refresh');
    expect(isClose(total(await withRollups('globex', TOTALS)), total(facts))).toBe(true);
  });
});

describe('rollups refreshed from a finer rollup', () => {
  const planned = () => core.rollups!.report.planned;
  const byKey = (key: string) => planned().find((r) => r.key === key)!;

  /** The rollup's live rows for a tenant, states finalized, in key order. */
  async function tableRows(r: PlannedRollup, tenant: string) {
    const cols = r.columns.map((c) => (c.type.startsWith('AggregateFunction') ? `finalizeAggregation(\`${c.name}\`)` : `\`${c.name}\``)).join(', ');
    return core.sql<Record<string, unknown>>(`SELECT ${cols} FROM \`${r.table}\` FINAL WHERE tenant_id = {t:String} AND _deleted = 0 ORDER BY ALL`, {
      t: tenant,
    });
  }

  /** The same rows computed from the facts (the rollup's own SELECT), independently of the maintainer. */
  async function factRows(r: PlannedRollup, tenant: string) {
    const s = rollupSelect(r.shape, { timeIsDate: r.timeIsDate, tenantId: tenant });
    const cols = r.columns.map((c) => (c.type.startsWith('AggregateFunction') ? `finalizeAggregation(\`${c.name}\`)` : `\`${c.name}\``)).join(', ');
    return core.sql<Record<string, unknown>>(`SELECT ${cols} FROM (${s.sql}) ORDER BY ALL SETTINGS final = 1`, s.params);
  }

  async function expectEqualToFacts(r: PlannedRollup, tenant: string) {
    const [got, want] = [await tableRows(r, tenant), await factRows(r, tenant)];
    expect(got.length, `${r.key}: rows`).toBe(want.length);
    got.forEach((row, i) => {
      for (const [k, v] of Object.entries(want[i])) {
        if (typeof v === 'number') expectClose(row[k] as CellValue, v, `${r.key} ${k} row ${i}`);
        else expect(row[k], `${r.key} ${k} row ${i}`).toEqual(v);
      }
    });
  }

  it("a day's coarser buckets in JS are the engine's (a derived rollup's buckets from its source's days)", async () => {
    const days = Array.from({ length: 800 }, (_, i) => new Date(Date.UTC(2024, 11, 1) + i * 86_400_000).toISOString().slice(0, 10));
    const rows = await core.sql<{ d: string; w: string; m: string; q: string; y: string }>(
      'SELECT toString(x) AS d, toString(toMonday(x)) AS w, toString(toStartOfMonth(x)) AS m, toString(toStartOfQuarter(x)) AS q, toString(toStartOfYear(x)) AS y ' +
        'FROM (SELECT arrayJoin({days:Array(Date)}) AS x)',
      { days },
    );
    expect(rows.map((r) => [bucketOfDay('week', r.d), bucketOfDay('month', r.d), bucketOfDay('quarter', r.d), bucketOfDay('year', r.d)])).toEqual(
      rows.map((r) => [r.w, r.m, r.q, r.y]),
    );
  });

  it('coarser ad_performance rollups are read from daily_by_campaign; rollups with other columns from the facts', () => {
    const campaign = byKey('ad_performance.daily_by_campaign');
    expect(campaign.derivedFrom).toBeUndefined();
    expect(byKey('ad_performance.daily').derivedFrom?.key).toBe(campaign.key);
    expect(byKey('ad_performance.daily_by_platform').derivedFrom?.key).toBe(campaign.key);
    // country and device are not in daily_by_campaign.
    expect(byKey('ad_performance.daily_by_platform_geo').derivedFrom).toBeUndefined();
  });

  it("after an upsert, a new group and a new day, every rollup's rows equal its SELECT over the facts", async () => {
    const [row] = await core.sql<Record<string, unknown>>("SELECT * FROM ad_performance WHERE tenant_id = 'acme' ORDER BY date, ad_id LIMIT 1");
    const now = '2030-01-02 00:00:00.000';
    await core.wh.engine.insert('ad_performance', [
      { ...row, impressions: Number(row.impressions) + 9_000, cost: Number(row.cost) + 12.25, ingested_at: now },
      { ...row, ad_id: 'acme-ad-derived', campaign_id: 'acme-cmp-derived', platform: 'linkedin', date: '2026-10-30', ingested_at: now },
    ]);
    await core.rollups!.maintainer.refresh('acme');
    for (const r of planned().filter((p) => p.pre.cube === 'ad_performance')) await expectEqualToFacts(r, 'acme');
  });

  it("a derived rollup redoes its source's buckets even when its own marks are not seen yet", async () => {
    const [row] = await core.sql<Record<string, unknown>>("SELECT * FROM ad_performance WHERE tenant_id = 'globex' ORDER BY date DESC, ad_id LIMIT 1");
    await core.wh.engine.insert('ad_performance', [{ ...row, clicks: Number(row.clicks) + 31, ingested_at: '2030-01-03 00:00:00.000' }]);
    // The derived rollups' marks of this insert go missing (as if committed after the run read the
    // marks): only the source's marks say what changed.
    const derived = planned().filter((p) => p.derivedFrom);
    await core.wh.engine.command(`DELETE FROM ${DIRTY_TABLE} WHERE rollup IN {tables:Array(String)} AND tenant_id = 'globex'`, {
      tables: derived.map((d) => d.table),
    });
    await core.rollups!.maintainer.refresh('globex');
    for (const r of planned().filter((p) => p.pre.cube === 'ad_performance')) await expectEqualToFacts(r, 'globex');
  });
});
