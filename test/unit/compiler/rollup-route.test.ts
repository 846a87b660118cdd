/**
 * Routing to rollups (compiler/rollup/route.ts), pure: the real cube-models, rollups declared ready
 * by hand. Which rollup answers, which queries never may, and the SQL it compiles to (the same
 * tenant pass over the rollup table). The answers themselves are checked on chDB in
 * test/integration/rollups/rollups.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileQuery, compileSplitQuery } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import type { ReadyRollup } from '../../../src/compiler/rollup/route.js';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';

const model = loadModel(await readModelFiles('cube-models', join(import.meta.dirname, '../../..')));
const options = { now: new Date('2026-11-01T00:00:00Z'), defaultLimit: 10_000, maxLimit: 50_000 };
const ready = new Map<string, ReadyRollup>(
  Object.values(model.cubes).flatMap((c) =>
    (c.preAggregations ?? []).map(
      (p) => [`${c.name}.${p.name}`, { table: `rollup_${c.name}_${p.name}`, timeIsDate: c.name !== 'web_sessions' && c.name !== 'conversions' }] as const,
    ),
  ),
);
const compile = (q: SemanticQuery, available = ready) => compileQuery(model, normalizeQuery(model, q, options), 'acme', available);
const routed = (q: SemanticQuery) => compile(q).rollup?.name;

describe('the smallest rollup that answers exactly', () => {
  it('KPI tiles read the rollup without dimensions; by platform, the platform one; by country, the geo one', () => {
    const kpis = ['ad_performance.cost', 'ad_performance.ctr', 'ad_performance.roas', 'ad_performance.active_campaigns'];
    expect(routed({ measures: kpis, timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last 30 days' }] })).toBe('daily');
    expect(routed({ measures: kpis, dimensions: ['ad_performance.platform'] })).toBe('daily_by_platform');
    expect(routed({ measures: ['ad_performance.ctr'], dimensions: ['ad_performance.country', 'ad_performance.device'] })).toBe('daily_by_platform_geo');
    expect(routed({ measures: ['ad_performance.clicks'], segments: ['ad_performance.weekend'] })).toBe('daily_by_platform_geo');
    expect(routed({ measures: ['ad_performance.clicks'], segments: ['ad_performance.paid_search'] })).toBe('daily_by_platform');
  });

  it('compiles to the rollup table under the same tenant pass, ratios from their stored parts, distinct counts merged', () => {
    const c = compile({ measures: ['ad_performance.ctr', 'ad_performance.active_campaigns'], dimensions: ['ad_performance.platform'] });
    expect(c.rollup).toEqual({ cube: 'ad_performance', name: 'daily_by_platform', table: 'rollup_ad_performance_daily_by_platform' });
    expect(c.sql).toContain('FROM (SELECT * FROM rollup_ad_performance_daily_by_platform WHERE `tenant_id` = {tenant:String}) AS `ad_performance`');
    expect(c.sql).toContain('100.0 * sum(`ad_performance`.m_clicks) / nullIf(sum(`ad_performance`.m_impressions), 0)');
    expect(c.sql).toContain('uniqExactMerge(`ad_performance`.m_active_campaigns)');
    expect(c.sql).not.toContain('FROM ad_performance');
    expect(c.params.tenant).toBe('acme');
    // the caller sees the cube's own names
    expect(c.columns.map((col) => col.key)).toEqual(['ad_performance.platform', 'ad_performance.ctr', 'ad_performance.active_campaigns']);
    expect(c.cubes).toEqual(['ad_performance']);
  });

  it('a many_to_one lookup is joined to the rollup on its stored keys, under its own tenant pass', () => {
    const c = compile({ measures: ['campaign_performance.cost'], dimensions: ['campaign_performance.campaigns_name'] });
    expect(c.rollup?.name).toBe('daily_by_campaign');
    expect(c.sql).toContain('FROM (SELECT * FROM rollup_ad_performance_daily_by_campaign WHERE `tenant_id` = {tenant:String}) AS `ad_performance`');
    expect(c.sql).toMatch(
      /LEFT JOIN \(SELECT \* FROM \(SELECT \* FROM campaigns FINAL\) WHERE `tenant_id` = \{tenant:String\}\) AS `campaigns` ON `ad_performance`\.tenant_id = `campaigns`\.tenant_id AND `ad_performance`\.campaign_id = `campaigns`\.campaign_id/,
    );
    expect(routed({ measures: ['ad_performance.clicks'], dimensions: ['platforms.channel'] })).toBe('daily_by_platform');
  });

  it('nothing is routed to a rollup that is not built yet', () => {
    const q = { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'] };
    expect(compile(q, new Map()).rollup).toBeUndefined();
    const onlyGeo = new Map([...ready].filter(([k]) => k === 'ad_performance.daily_by_platform_geo'));
    expect(compile(q, onlyGeo).rollup?.name).toBe('daily_by_platform_geo');
    expect(compile(q, onlyGeo).sql).toContain('rollup_ad_performance_daily_by_platform_geo');
  });
});

describe('queries a rollup cannot answer exactly read the facts', () => {
  const facts: [string, SemanticQuery][] = [
    ['a dimension outside every rollup', { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.ad_id'] }],
    ['a filter outside', { measures: ['ad_performance.clicks'], filters: [{ member: 'ad_performance.ad_group_id', operator: 'equals', values: ['x'] }] }],
    ['a segment outside', { measures: ['ad_performance.clicks'], segments: ['ad_performance.video'] }],
    ['a measure of a joined cube', { measures: ['ad_performance.clicks', 'campaigns.count'], dimensions: ['campaigns.name'] }],
    ['ungrouped', { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'], ungrouped: true }],
    ['distinct count by a dimension its rollup lacks', { measures: ['ad_performance.active_campaigns'], dimensions: ['ad_performance.device'] }],
    [
      'DateTime buckets in another zone',
      { measures: ['web_sessions.sessions'], timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day' }], timezone: 'Europe/Berlin' },
    ],
    [
      'DateTime buckets finer than a day',
      { measures: ['web_sessions.sessions'], timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'hour' }] },
    ],
    [
      'a DateTime range that is not whole days',
      {
        measures: ['web_sessions.sessions'],
        timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: ['2026-01-01T12:00:00', '2026-01-05'] }],
      },
    ],
    [
      'a filter on DateTime time',
      { measures: ['web_sessions.sessions'], filters: [{ member: 'web_sessions.started_at', operator: 'afterDate', values: ['2026-01-01'] }] },
    ],
    [
      'a rolling window over DateTime buckets',
      {
        measures: ['web_sessions.sessions_7d'],
        timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: ['2026-01-01', '2026-01-31'] }],
      },
    ],
  ];
  it.each(facts)('%s', (_label, q) => {
    const c = compile(q);
    expect(c.rollup).toBeUndefined();
    expect(c.sql).not.toContain('rollup_');
  });

  it('a Date time dimension is exact in any zone, at any granularity and range (the rollup holds its own days)', () => {
    for (const timezone of ['UTC', 'America/New_York', 'Asia/Kolkata'])
      for (const granularity of ['hour', 'day', 'week', 'month', 'year'] as const)
        expect(
          routed({
            measures: ['ad_performance.cost_7d'],
            timeDimensions: [{ dimension: 'ad_performance.date', granularity, dateRange: ['2026-01-03T05:00:00', '2026-02-10'] }],
            timezone,
          }),
        ).toBe('daily');
  });

  it('whole UTC days of a DateTime read its rollup at day and coarser grains', () => {
    for (const granularity of ['day', 'week', 'month', 'quarter', 'year'] as const)
      expect(
        routed({
          measures: ['web_sessions.bounce_rate'],
          timeDimensions: [{ dimension: 'web_sessions.started_at', granularity, dateRange: ['2026-01-01', '2026-03-31'] }],
        }),
      ).toBe('daily_by_channel');
  });
});

describe('range splits', () => {
  it('a split statement reads the rollup when every range does', () => {
    const q = normalizeQuery(
      model,
      {
        measures: ['web_sessions.sessions'],
        timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'day', dateRange: ['2026-01-01', '2026-02-28'] }],
      },
      options,
    );
    const whole = [
      ['2026-01-01T00:00:00.000', '2026-01-31T23:59:59.999'],
      ['2026-02-01T00:00:00.000', '2026-02-28T23:59:59.999'],
    ] as const;
    expect(compileSplitQuery(model, q, { td: 0, ranges: whole }, 'acme', ready).rollup?.name).toBe('daily_by_channel');
    const partial = [whole[0], ['2026-02-01T12:00:00.000', '2026-02-28T23:59:59.999']] as const;
    expect(compileSplitQuery(model, q, { td: 0, ranges: partial }, 'acme', ready).rollup).toBeUndefined();
  });
});
