/**
 * Studio's three code forms of one question (studio/src/query-text.ts) and its chart mapping
 * (chart-options.ts): pure functions, checked here on the catalog shapes the API returns. That each
 * form really answers the same through its door is the e2e test's job (test/e2e/studio).
 */
import { describe, expect, it } from 'vitest';
import { chartOption, columns, defaultChart } from '../../../studio/src/chart-options.js';
import { cubeRestJson, graphqlText, sqlText } from '../../../studio/src/query-text.js';
import type { Catalog, CatalogMember, CubeQuery, QueryResult } from '../../../studio/src/types.js';

const member = (path: string, kind: CatalogMember['kind'], type: string, graphqlName?: string): CatalogMember => ({
  name: path.split('.')[1]!,
  path,
  kind,
  type,
  aggType: null,
  title: path,
  shortTitle: path.split('.')[1]!,
  description: null,
  format: null,
  requiredScopes: [],
  synonyms: [],
  graphqlName: graphqlName ?? path.split('.')[1]!,
  currency: null,
});

const CATALOG: Catalog = {
  cubes: [
    {
      name: 'ad_performance',
      kind: 'cube',
      graphqlField: 'adPerformance',
      title: 'Ad performance',
      description: null,
      coverage: null,
      measures: [member('ad_performance.cost', 'measure', 'number'), member('ad_performance.conversion_value', 'measure', 'number', 'conversionValue')],
      dimensions: [member('ad_performance.platform', 'dimension', 'string'), member('ad_performance.date', 'dimension', 'time')],
      segments: [member('ad_performance.paid_search', 'segment', 'boolean', 'PAID_SEARCH')],
    },
    {
      name: 'clients',
      kind: 'cube',
      graphqlField: 'clients',
      title: 'Clients',
      description: null,
      coverage: null,
      measures: [member('clients.count', 'measure', 'number')],
      dimensions: [member('clients.plan', 'dimension', 'string')],
      segments: [],
    },
  ],
};

const QUERY: CubeQuery = {
  measures: ['ad_performance.cost', 'ad_performance.conversion_value'],
  dimensions: ['ad_performance.platform'],
  timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month', dateRange: 'last month' }],
  filters: [
    { member: 'ad_performance.platform', operator: 'equals', values: ['meta', "o'brien"] },
    { member: 'ad_performance.cost', operator: 'gt', values: ['100'] },
  ],
  segments: ['ad_performance.paid_search'],
  order: [['ad_performance.cost', 'desc']],
  limit: 50,
};

describe('Studio code forms', () => {
  it('Cube REST JSON: the query as the builder holds it, order as an object, compareTo in the JSON spelling', () => {
    const text = cubeRestJson(QUERY, 'PREVIOUS_PERIOD');
    expect(text.split('\n')[0]).toBe('POST /cubejs-api/v1/load');
    const body = JSON.parse(text.slice(text.indexOf('\n') + 1));
    expect(body.query).toEqual({ ...QUERY, order: { 'ad_performance.cost': 'desc' }, compareTo: { period: 'previousPeriod' } });
    expect(
      JSON.parse(
        cubeRestJson({ ...QUERY, filters: [], segments: [], order: [] }, null)
          .split('\n')
          .slice(1)
          .join('\n'),
      ).query,
    ).not.toHaveProperty('filters');
  });

  it('GraphQL: the typed field with where, segments, order, limit, granularity and compare', () => {
    const text = graphqlText(QUERY, CATALOG, 'SAME_PERIOD_LAST_YEAR');
    expect(text).toContain('adPerformance(');
    expect(text).toContain('where: { date: { inDateRange: "last month" }, platform: { in: ["meta", "o\'brien"] }, cost: { gt: 100 } }');
    expect(text).toContain('segments: [PAID_SEARCH]');
    expect(text).toContain('orderBy: [{ cost: DESC }]');
    expect(text).toContain('limit: 50');
    expect(text).toContain('compareTo: { period: SAME_PERIOD_LAST_YEAR }');
    expect(text).toContain('date(granularity: MONTH)');
    expect(text).toContain('conversionValue');
    expect(text).toContain('compare { cost { previous change percentChange } conversionValue { previous change percentChange } }');
  });

  it('GraphQL: members of two cubes fall back to the generic query field, saying why', () => {
    const text = graphqlText({ ...QUERY, dimensions: ['clients.plan'] }, CATALOG, null);
    expect(text).toMatch(/^# members of ad_performance, clients/);
    expect(text).toContain('query(query: $q)');
  });

  it('SQL: MEASURE() per measure, DATE_TRUNC, the resolved range half-open, WHERE / HAVING split, quoting', () => {
    const text = sqlText(QUERY, CATALOG, ['2026-11-01T00:00:00.000', '2026-11-30T23:59:59.999'], null);
    expect(text).toBe(
      [
        "SELECT DATE_TRUNC('month', date) AS date_month,",
        '       platform,',
        '       MEASURE(cost) AS cost,',
        '       MEASURE(conversion_value) AS conversion_value',
        'FROM ad_performance',
        "WHERE date >= '2026-11-01' AND date < '2026-12-01'",
        "  AND platform IN ('meta', 'o''brien')",
        '  AND paid_search',
        'GROUP BY 1, 2',
        'HAVING MEASURE(cost) > 100',
        'ORDER BY 3 DESC',
        'LIMIT 50;',
      ].join('\n'),
    );
  });

  it('SQL: a relative range not yet resolved, a comparison and two cubes say so instead of guessing', () => {
    expect(sqlText(QUERY, CATALOG, null, null)).toContain('-- Run the query once to see "last month" as dates.');
    expect(sqlText(QUERY, CATALOG, ['2026-11-01', '2026-11-30'], 'PREVIOUS_PERIOD')).toContain('-- The comparison period is a second run');
    expect(sqlText({ ...QUERY, dimensions: ['clients.plan'] }, CATALOG, null, null)).toMatch(/^-- Not expressible as one SQL table/);
  });
});

const RESULT: QueryResult = {
  data: [
    {
      'ad_performance.date.month': '2026-10-01T00:00:00.000',
      'ad_performance.date': '2026-10-01T00:00:00.000',
      'ad_performance.cost': 10,
      'ad_performance.roas': 2,
    },
    {
      'ad_performance.date.month': '2026-11-01T00:00:00.000',
      'ad_performance.date': '2026-11-01T00:00:00.000',
      'ad_performance.cost': 12,
      'ad_performance.roas': 3,
    },
  ],
  annotation: [
    { member: 'ad_performance.date.month', kind: 'timeDimension', type: 'time', format: null, title: 'Date', shortTitle: 'Date', granularity: 'month' },
    { member: 'ad_performance.date', kind: 'timeDimension', type: 'time', format: null, title: 'Date', shortTitle: 'Date', granularity: null },
    { member: 'ad_performance.cost', kind: 'measure', type: 'number', format: 'currency', title: 'Spend', shortTitle: 'Spend', granularity: null },
    { member: 'ad_performance.roas', kind: 'measure', type: 'number', format: null, title: 'ROAS', shortTitle: 'ROAS', granularity: null },
  ],
  query: {},
  notes: [],
  fromCache: false,
  lastRefreshTime: '',
  comparison: null,
};

describe('Studio charts', () => {
  it('shows a time dimension once (not also its bare twin) and defaults to a line over time', () => {
    expect(columns(RESULT).dims.map((d) => d.member)).toEqual(['ad_performance.date.month']);
    expect(defaultChart(RESULT)).toBe('line');
    expect(defaultChart({ ...RESULT, annotation: RESULT.annotation.filter((a) => a.kind === 'measure') })).toBe('kpi');
  });

  it('one series per measure, on two axes when their formats differ', () => {
    const option = chartOption(RESULT, 'bar', 'Spend and ROAS') as {
      xAxis: { data: string[] };
      yAxis: unknown[];
      series: { name: string; data: number[]; yAxisIndex: number }[];
    };
    expect(option.xAxis.data).toEqual(['2026-10-01', '2026-11-01']);
    expect(option.series.map((s) => [s.name, s.data, s.yAxisIndex])).toEqual([
      ['Spend', [10, 12], 0],
      ['ROAS', [2, 3], 1],
    ]);
    expect(option.yAxis).toHaveLength(2);
  });
});
