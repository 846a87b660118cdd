import { describe, expect, it } from 'vitest';
import { blendingGranularity, cubeAnnotation, formatResult, formatRows, packData, pivotQuery, toCubeQuery } from '../../../src/rest/format.js';
import { CHANNEL, CLICKS, DAY, fixtureModel, normalized, result } from './fixtures.js';

const model = fixtureModel();

describe('toCubeQuery', () => {
  it('echoes the normalized query the way Cube does', () => {
    const q = normalized({
      dimensions: ['ad_performance.channel'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] }],
      filters: [
        { kind: 'member', member: 'ad_performance.clicks', operator: 'gt', values: [10] },
        { kind: 'or', filters: [{ kind: 'member', member: 'ad_performance.channel', operator: 'set', values: [] }] },
      ],
      order: [['ad_performance.clicks', 'desc']],
      limit: 100,
      offset: 5,
      total: true,
    });
    expect(toCubeQuery(q, 'regularQuery')).toEqual({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.channel'],
      segments: [],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] }],
      filters: [{ member: 'ad_performance.clicks', operator: 'gt', values: ['10'] }, { or: [{ member: 'ad_performance.channel', operator: 'set' }] }],
      order: [{ id: 'ad_performance.clicks', desc: true }],
      limit: 100,
      rowLimit: 100,
      offset: 5,
      total: true,
      timezone: 'UTC',
      queryType: 'regularQuery',
    });
  });

  it('carries a non-default responseFormat so the client can unpack the data', () => {
    expect(toCubeQuery(normalized(), 'regularQuery', 'compact').responseFormat).toBe('compact');
  });
});

describe('formatRows', () => {
  const q = normalized({
    dimensions: ['ad_performance.channel'],
    timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-02T23:59:59.999'] }],
  });
  const rows = [
    { 'ad_performance.date.day': '2024-01-01T00:00:00.000', 'ad_performance.channel': 'search', 'ad_performance.clicks': 12 },
    { 'ad_performance.date.day': '2024-01-02T00:00:00.000', 'ad_performance.channel': null, 'ad_performance.clicks': 3.5 },
  ];

  it('keys time values by member.granularity and by member; numbers stay numbers', () => {
    expect(formatRows(result(q, [DAY, CHANNEL, CLICKS], rows), 'regularQuery')).toEqual([
      {
        'ad_performance.date.day': '2024-01-01T00:00:00.000',
        'ad_performance.date': '2024-01-01T00:00:00.000',
        'ad_performance.channel': 'search',
        'ad_performance.clicks': 12,
      },
      {
        'ad_performance.date.day': '2024-01-02T00:00:00.000',
        'ad_performance.date': '2024-01-02T00:00:00.000',
        'ad_performance.channel': null,
        'ad_performance.clicks': 3.5,
      },
    ]);
  });

  it('labels compareDateRange rows with their range', () => {
    const out = formatRows(result(q, [DAY, CHANNEL, CLICKS], rows), 'compareDateRangeQuery');
    expect(out.map((r) => r.compareDateRange)).toEqual([
      '2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999',
      '2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999',
    ]);
  });

  it('adds the shared time axis of blending queries', () => {
    const out = formatRows(result(q, [DAY, CHANNEL, CLICKS], rows), 'blendingQuery');
    expect(out.map((r) => r['time.day'])).toEqual(['2024-01-01T00:00:00.000', '2024-01-02T00:00:00.000']);
  });
});

describe('packData', () => {
  const rows = [
    { a: 1, b: 'x' },
    { a: 2, b: null },
  ];
  it('compact and columnar match what the client unpacks', () => {
    expect(packData(rows, ['a', 'b'], 'default')).toBe(rows);
    expect(packData(rows, ['a', 'b'], 'compact')).toEqual({
      members: ['a', 'b'],
      dataset: [
        [1, 'x'],
        [2, null],
      ],
    });
    expect(packData(rows, ['a', 'b'], 'columnar')).toEqual({
      members: ['a', 'b'],
      columns: [
        [1, 2],
        ['x', null],
      ],
    });
  });
});

describe('annotation and result', () => {
  it('adds drill members, currency and the granularity interval', () => {
    const q = normalized({
      measures: ['ad_performance.clicks', 'ad_performance.cost'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month' }],
    });
    const a = cubeAnnotation(model, result(q, [], []).annotation) as Record<string, Record<string, Record<string, unknown>>>;
    expect(a.measures['ad_performance.clicks'].drillMembers).toEqual(['ad_performance.id', 'campaigns.name']);
    expect(a.measures['ad_performance.clicks'].drillMembersGrouped).toEqual({ measures: [], dimensions: ['ad_performance.id', 'campaigns.name'] });
    expect(a.measures['ad_performance.cost'].currency).toBe('USD');
    expect(a.timeDimensions['ad_performance.date.month'].granularity).toEqual({ name: 'month', title: 'month', interval: '1 month', type: 'built-in' });
    expect(a.timeDimensions['ad_performance.date'].granularity).toBeUndefined();
  });

  it('total is echoed only when asked for', () => {
    const withTotal = formatResult(model, result(normalized({ total: true }), [CLICKS], [{ 'ad_performance.clicks': 1 }], 42), 'regularQuery', 'default');
    expect(withTotal.total).toBe(42);
    const without = formatResult(model, result(normalized(), [CLICKS], [{ 'ad_performance.clicks': 1 }], 42), 'regularQuery', 'default');
    expect(without.total).toBeNull();
    expect(without.lastRefreshTime).toBe('2024-03-01T00:00:00.000Z');
    expect(without.data).toEqual([{ 'ad_performance.clicks': 1 }]);
  });

  it('compact data of an empty result still names its members', () => {
    const r = formatResult(model, result(normalized(), [CLICKS], []), 'regularQuery', 'compact');
    expect(r.data).toEqual({ members: ['ad_performance.clicks'], dataset: [] });
  });
});

describe('pivotQuery', () => {
  const day = (range: [string, string]) => normalized({ timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: range }] });

  it('compareDateRange pivots on a compareDateRange dimension first', () => {
    const p = pivotQuery('compareDateRangeQuery', [
      day(['2024-01-01T00:00:00.000', '2024-01-07T23:59:59.999']),
      day(['2024-01-08T00:00:00.000', '2024-01-14T23:59:59.999']),
    ]);
    expect(p.dimensions).toEqual(['compareDateRange']);
    expect(p.queryType).toBe('compareDateRangeQuery');
    expect(p.timeDimensions).toEqual([
      { dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-07T23:59:59.999'] },
    ]);
  });

  it('blending pivots on a shared time axis with the union of members', () => {
    const a = normalized({ measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'week' }] });
    const b = normalized({
      measures: ['ad_performance.impressions'],
      dimensions: ['ad_performance.channel'],
      timeDimensions: [{ dimension: 'campaigns.created', granularity: 'week' }],
    });
    expect(pivotQuery('blendingQuery', [a, b])).toEqual({
      measures: ['ad_performance.clicks', 'ad_performance.impressions'],
      dimensions: ['ad_performance.channel'],
      timeDimensions: [{ dimension: 'time', granularity: 'week' }],
      queryType: 'blendingQuery',
    });
  });

  it('blending refuses different granularities', () => {
    const a = normalized({ timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'week' }] });
    const b = normalized({ timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day' }] });
    expect(() => blendingGranularity([a, b])).toThrow('Data blending query granularities must match (got week, day)');
  });
});
