/** Alert conditions: checked against the rule's query, applied per row (threshold, change) or to the whole result (row count). */
import { describe, expect, it } from 'vitest';
import { checkCondition, evaluationQuery, observe } from '../../../src/reports/alert-conditions.js';
import type { QueryResult } from '../../../src/query/types.js';

const Q = { measures: ['c.cost', 'c.roas'], dimensions: ['c.campaign'], timeDimensions: [{ dimension: 'c.date', dateRange: 'last 7 days' }] };
const col = (key: string, kind: 'measure' | 'dimension') => ({ key, kind }) as never;

describe('alert conditions', () => {
  it('refuses unknown measures, operators, kinds and values with a reason', () => {
    const reason = (c: unknown) => {
      try {
        checkCondition(c, Q);
      } catch (e) {
        return [(e as { code: string }).code, (e as { details?: { reason?: string } }).details?.reason];
      }
    };
    expect(reason({ kind: 'threshold', measure: 'c.clicks', op: '<', value: 1 })).toEqual(['BAD_USER_INPUT', 'unknown_measure']);
    expect(reason({ kind: 'threshold', measure: 'c.roas', op: 'lt', value: 1 })).toEqual(['BAD_USER_INPUT', 'bad_condition']);
    expect(reason({ kind: 'threshold', measure: 'c.roas', op: '<', value: Number.NaN })).toEqual(['BAD_USER_INPUT', 'bad_condition']);
    expect(reason({ kind: 'change', measure: 'c.cost', op: '>', value: 50, unit: 'ratio' })).toEqual(['BAD_USER_INPUT', 'bad_condition']);
    expect(reason({ kind: 'change', measure: 'c.cost', op: '>', value: 50, compareTo: 'lastWeek' })).toEqual(['BAD_USER_INPUT', 'bad_condition']);
  });

  it('a change condition compares with the previous period by default; the others drop compareTo', () => {
    const change = checkCondition({ kind: 'change', measure: 'c.cost', op: '>=', value: 50 }, Q);
    expect(evaluationQuery(Q, change)).toEqual({ ...Q, compareTo: { period: 'previousPeriod' } });
    const threshold = checkCondition({ kind: 'threshold', measure: 'c.roas', op: '<', value: 2 }, { ...Q, compareTo: { period: 'previousPeriod' } });
    expect(evaluationQuery({ ...Q, compareTo: { period: 'previousPeriod' } }, threshold)).toEqual(Q);
  });

  it('observes per row: threshold on the value, change on the percent change; a row count once', () => {
    const result = {
      columns: [col('c.campaign', 'dimension'), col('c.cost', 'measure'), col('c.roas', 'measure')],
      rows: [
        { 'c.campaign': 'a', 'c.cost': 10, 'c.roas': 1.5 },
        { 'c.campaign': 'b', 'c.cost': 30, 'c.roas': null },
      ],
      comparison: {
        rows: [
          { dimensions: { 'c.campaign': 'a' }, measures: { 'c.cost': { current: 10, previous: 5, change: 5, percentChange: 100 } } },
          { dimensions: { 'c.campaign': 'b' }, measures: { 'c.cost': { current: 30, previous: 0, change: 30, percentChange: null } } },
        ],
      },
    } as unknown as QueryResult;
    const t = observe(checkCondition({ kind: 'threshold', measure: 'c.roas', op: '<', value: 2 }, Q), result);
    expect(t.map((o) => [o.key, o.value, o.holds])).toEqual([
      ['{"c.campaign":"a"}', 1.5, true],
      ['{"c.campaign":"b"}', null, false], // no ROAS (no cost): not "below 2"
    ]);
    const c = observe(checkCondition({ kind: 'change', measure: 'c.cost', op: '>=', value: 50 }, Q), result);
    expect(c.map((o) => [o.dimensions['c.campaign'], o.value, o.holds])).toEqual([
      ['a', 100, true],
      ['b', null, false],
    ]);
    const abs = observe(checkCondition({ kind: 'change', measure: 'c.cost', op: '>', value: 20, unit: 'absolute' }, Q), result);
    expect(abs.map((o) => o.holds)).toEqual([false, true]);
    expect(observe(checkCondition({ kind: 'rowCount', op: '>', value: 0 }, Q), result)).toEqual([{ key: '[]', dimensions: {}, value: 2, holds: true }]);
  });
});
