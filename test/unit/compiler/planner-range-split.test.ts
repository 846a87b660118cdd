/** Assembling a range split: per-range -If aggregates and row counts, optional grouping sets. */
import { describe, expect, it } from 'vitest';
import { assembleRangeSplit } from '../../../src/compiler/planner/range-split.js';
import { SplitUnsupportedError, type RangeSplit } from '../../../src/compiler/split.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { partsOf, querySql } from './planner-helpers.js';

const JAN = { dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-31'] as [string, string] };
const split: RangeSplit = {
  td: 0,
  ranges: [
    ['2024-01-01T00:00:00.000', '2024-01-15T23:59:59.999'],
    ['2024-01-16T00:00:00.000', '2024-01-31T23:59:59.999'],
  ],
};

describe('assembleRangeSplit', () => {
  it('computes each measure and a row count per range over the covering range', () => {
    const planned = assembleRangeSplit(
      partsOf({ measures: ['orders.count', 'orders.paid_ratio'], dimensions: ['orders.status'], timeDimensions: [JAN] }),
      split,
    );
    expect(planned.splits).toEqual([
      { countAlias: '__rows_r0', measureAliases: { orders__count: 'orders__count__r0', orders__paid_ratio: 'orders__paid_ratio__r0' } },
      { countAlias: '__rows_r1', measureAliases: { orders__count: 'orders__count__r1', orders__paid_ratio: 'orders__paid_ratio__r1' } },
    ]);
    expect(planned.columns.map((c) => c.alias)).toEqual(['orders__status', 'orders__count', 'orders__paid_ratio']);
    expect(querySql(planned.query)).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) AS \`orders__count__r0\`, (countIf(\`orders\`.id, (\`orders\`.paid = 1) AND \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) / nullIf(countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})), 0)) AS \`orders__paid_ratio__r0\`, countIf(\`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) AS \`__rows_r0\`, countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) AS \`orders__count__r1\`, (countIf(\`orders\`.id, (\`orders\`.paid = 1) AND \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) / nullIf(countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})), 0)) AS \`orders__paid_ratio__r1\`, countIf(\`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) AS \`__rows_r1\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})
      GROUP BY \`orders__status\`"
    `);
  });

  it('with sets: GROUP BY GROUPING SETS and a grouping() mask column', () => {
    const planned = assembleRangeSplit(partsOf({ measures: ['orders.count'], dimensions: ['orders.status', 'orders.is_paid'], timeDimensions: [JAN] }), {
      ...split,
      sets: [[], ['orders.status']],
    });
    expect(planned.sets).toEqual({ alias: '__grouping_set', masks: [3, 1] });
    expect(querySql(planned.query)).toContain('GROUP BY GROUPING SETS ((), (`orders__status`))');
  });

  it.each<[string, SemanticQuery]>([
    ['a fanned-out measure', { measures: ['orders.revenue'], dimensions: ['line_items.product'], timeDimensions: [JAN] }],
    ['a rolling measure', { measures: ['orders.revenue_7d'], timeDimensions: [JAN] }],
    ['HAVING', { measures: ['orders.count'], timeDimensions: [JAN], filters: [{ member: 'orders.count', operator: 'gt', values: ['1'] }] }],
    ['ungrouped', { measures: ['orders.count'], dimensions: ['orders.id'], timeDimensions: [JAN], ungrouped: true }],
    ['total', { measures: ['orders.count'], timeDimensions: [JAN], total: true }],
    ['no date range', { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }] }],
    ['a custom aggregate', { measures: ['orders.raw_ratio'], timeDimensions: [JAN] }],
  ])('refuses %s', (_, q) => {
    expect(() => assembleRangeSplit(partsOf(q), split)).toThrow(SplitUnsupportedError);
  });
});
