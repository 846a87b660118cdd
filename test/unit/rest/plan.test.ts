import { describe, expect, it } from 'vitest';
import { planQueries } from '../../../src/rest/query-plan.js';

describe('planQueries', () => {
  it('a single query is a regular query, transport keys removed', () => {
    const plan = planQueries({ measures: ['ad_performance.clicks'], responseFormat: 'compact', cache: 'no-cache', renewQuery: true });
    expect(plan).toEqual({ queryType: 'regularQuery', queries: [{ measures: ['ad_performance.clicks'] }], responseFormat: 'compact' });
  });

  it('maps the legacy rowLimit to limit and drops limit: null', () => {
    expect(planQueries({ measures: ['a.b'], rowLimit: 5 }).queries[0]).toEqual({ measures: ['a.b'], limit: 5 });
    expect(planQueries({ measures: ['a.b'], limit: null }).queries[0]).toEqual({ measures: ['a.b'] });
  });

  it('an array of queries is a blending query', () => {
    const plan = planQueries([{ measures: ['a.x'] }, { measures: ['b.y'] }]);
    expect(plan.queryType).toBe('blendingQuery');
    expect(plan.queries).toHaveLength(2);
  });

  it('refuses non-objects, empty arrays and unknown response formats', () => {
    expect(() => planQueries('x')).toThrow(/query must be a JSON object in Cube query format/);
    expect(() => planQueries([])).toThrow('query array must not be empty');
    expect(() => planQueries([{ measures: ['a.b'] }, 3])).toThrow(/query must be a JSON object/);
    expect(() => planQueries({ measures: ['a.b'], responseFormat: 'xml' })).toThrow('responseFormat must be one of default, compact, columnar');
  });

  it('a compareDateRange becomes one query per range, on the time dimension that carried it', () => {
    const plan = planQueries({
      measures: ['ad_performance.clicks'],
      timeDimensions: [
        { dimension: 'campaigns.created_at' },
        { dimension: 'ad_performance.date', granularity: 'day', compareDateRange: [['2024-01-01', '2024-01-07'], 'last week'] },
      ],
    });
    expect(plan.queryType).toBe('compareDateRangeQuery');
    expect(plan.queries.map((q) => q.timeDimensions)).toEqual([
      [{ dimension: 'campaigns.created_at' }, { dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01', '2024-01-07'] }],
      [{ dimension: 'campaigns.created_at' }, { dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last week' }],
    ]);
  });

  it('refuses compareDateRange on two time dimensions, with a dateRange, empty, or inside a blend', () => {
    const td = (x: object) => ({ measures: ['a.b'], timeDimensions: [{ dimension: 'a.t', ...x }] });
    expect(() =>
      planQueries({
        measures: ['a.b'],
        timeDimensions: [
          { dimension: 'a.t', compareDateRange: ['today'] },
          { dimension: 'a.u', compareDateRange: ['today'] },
        ],
      }),
    ).toThrow('only one time dimension may have compareDateRange');
    expect(() => planQueries(td({ dateRange: 'today', compareDateRange: ['today'] }))).toThrow(/both dateRange and compareDateRange/);
    expect(() => planQueries(td({ compareDateRange: [] }))).toThrow(/non-empty array/);
    expect(() => planQueries([td({ compareDateRange: ['today'] })])).toThrow(/not supported inside a data blending query/);
  });

  it('leaves a query without compareDateRange alone', () => {
    const q = { measures: ['a.b'], timeDimensions: [{ dimension: 'a.t', dateRange: 'today' }] };
    expect(planQueries(q)).toEqual({ queryType: 'regularQuery', queries: [q], responseFormat: 'default' });
  });

  it('reads "cube.time.granularity" in dimensions as a time dimension, as Cube does', () => {
    expect(planQueries({ measures: ['a.b'], dimensions: ['a.c', 'a.t.month'] }).queries[0]).toEqual({
      measures: ['a.b'],
      dimensions: ['a.c'],
      timeDimensions: [{ dimension: 'a.t', granularity: 'month' }],
    });
  });

  it('does not crash on a malformed timeDimensions (the normalizer reports it)', () => {
    expect(planQueries({ measures: ['a.b'], timeDimensions: 'x' }).queryType).toBe('regularQuery');
  });
});
