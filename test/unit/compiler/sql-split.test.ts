/** Range splits: one statement, every measure restricted per date range with -If combinators. */
import { describe, expect, it } from 'vitest';
import { compileSplitQuery } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import { SplitUnsupportedError } from '../../../src/compiler/split.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { TENANT, model, options } from './fixture.js';

const RANGES = [
  ['2024-02-01T00:00:00.000', '2024-02-29T23:59:59.999'],
  ['2024-02-15T00:00:00.000', '2024-02-29T23:59:59.999'],
] as const;

function split(query: SemanticQuery) {
  const q = normalizeQuery(
    model,
    { ...query, timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-02-01', '2024-02-29'], granularity: 'day' }] },
    options,
  );
  return compileSplitQuery(model, q, { td: 0, ranges: RANGES }, TENANT);
}

describe('compileSplitQuery', () => {
  it('restricts every aggregate (filters and derived measures included) to its range and counts rows per range', () => {
    const c = split({ measures: ['orders.revenue', 'orders.paid_ratio', 'orders.customers_count'], dimensions: ['orders.status'] });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, toDateTime64(toStartOfDay(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`orders__created_at_day\`, sumIf(\`orders\`.amount, \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) AS \`orders__revenue__r0\`, (countIf(\`orders\`.id, (\`orders\`.paid = 1) AND \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) / nullIf(countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})), 0)) AS \`orders__paid_ratio__r0\`, uniqExactIf(\`orders\`.customer_id, \`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) AS \`orders__customers_count__r0\`, countIf(\`orders\`.created_at >= toDateTime({p2:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p3:String}, {tz:String})) AS \`__rows_r0\`, sumIf(\`orders\`.amount, \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) AS \`orders__revenue__r1\`, (countIf(\`orders\`.id, (\`orders\`.paid = 1) AND \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) / nullIf(countIf(\`orders\`.id, \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})), 0)) AS \`orders__paid_ratio__r1\`, uniqExactIf(\`orders\`.customer_id, \`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) AS \`orders__customers_count__r1\`, countIf(\`orders\`.created_at >= toDateTime({p4:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p5:String}, {tz:String})) AS \`__rows_r1\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})
      GROUP BY \`orders__status\`, \`orders__created_at_day\`
      LIMIT 10000"
    `);
    // Whole-second bounds as DateTime; an inclusive .999 end as the next second, exclusive (time-bounds.ts).
    expect(c.params).toMatchObject({
      tenant: 'acme',
      p2: '2024-02-01 00:00:00',
      p3: '2024-03-01 00:00:00',
      p4: '2024-02-15 00:00:00',
      p5: '2024-03-01 00:00:00',
    });
    expect(c.splits).toEqual([
      {
        countAlias: '__rows_r0',
        measureAliases: {
          orders__revenue: 'orders__revenue__r0',
          orders__paid_ratio: 'orders__paid_ratio__r0',
          orders__customers_count: 'orders__customers_count__r0',
        },
      },
      {
        countAlias: '__rows_r1',
        measureAliases: {
          orders__revenue: 'orders__revenue__r1',
          orders__paid_ratio: 'orders__paid_ratio__r1',
          orders__customers_count: 'orders__customers_count__r1',
        },
      },
    ]);
    expect(c.columns.map((x) => x.alias)).toEqual([
      'orders__status',
      'orders__created_at_day',
      'orders__revenue',
      'orders__paid_ratio',
      'orders__customers_count',
    ]);
  });

  it("with grouping sets: one GROUP BY GROUPING SETS over the union of dimensions, and each set's grouping() mask", () => {
    const q = normalizeQuery(
      model,
      {
        measures: ['orders.revenue'],
        dimensions: ['orders.status', 'orders.is_paid'],
        timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-02-01', '2024-02-29'] }],
      },
      options,
    );
    const c = compileSplitQuery(model, q, { td: 0, ranges: RANGES, sets: [[], ['orders.is_paid'], ['orders.status', 'orders.is_paid']] }, TENANT);
    expect(c.sql).toContain('GROUP BY GROUPING SETS ((), (`orders__is_paid`), (`orders__status`, `orders__is_paid`))');
    expect(c.sql).toContain('grouping(`orders__status`, `orders__is_paid`) AS `__grouping_set`');
    // bit 1 = status not in the set, bit 0 = is_paid not in the set
    expect(c.sets).toEqual({ alias: '__grouping_set', masks: [0b11, 0b10, 0b00] });
    expect(() => compileSplitQuery(model, q, { td: 0, ranges: RANGES, sets: [['orders.nope']] }, TENANT)).toThrow(SplitUnsupportedError);
  });

  it('a view member and its cube member are one grouping column: one set, one mask, rows once', () => {
    const q = normalizeQuery(
      model,
      {
        measures: ['orders.revenue', 'sales.revenue'],
        dimensions: ['orders.status', 'sales.status'],
        timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-02-01', '2024-02-29'] }],
      },
      options,
    );
    const c = compileSplitQuery(model, q, { td: 0, ranges: RANGES, sets: [['orders.status'], ['sales.status'], []] }, TENANT);
    expect(c.sql).toContain('GROUP BY GROUPING SETS ((`orders__status`), ())');
    expect(c.sql).toContain('grouping(`orders__status`) AS `__grouping_set`');
    expect(c.sets?.masks).toEqual([0, 0, 1]);
  });

  it('refuses shapes it cannot split: custom aggregate SQL, rolling windows, measure filters (HAVING)', () => {
    expect(() => split({ measures: ['orders.raw_ratio'] })).toThrow(SplitUnsupportedError);
    expect(() => split({ measures: ['orders.revenue_7d'] })).toThrow(SplitUnsupportedError);
    expect(() => split({ measures: ['orders.revenue'], filters: [{ member: 'orders.revenue', operator: 'gt', values: [10] }] })).toThrow(SplitUnsupportedError);
  });
});
