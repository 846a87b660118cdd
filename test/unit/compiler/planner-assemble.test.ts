/** Planner stage 6: assembling the plan — the shape chosen, the one-stage shape, ORDER BY. */
import { describe, expect, it } from 'vitest';
import { ParamBag } from '../../../src/compiler/plan-tree.js';
import { planQuery } from '../../../src/compiler/planner.js';
import { assembleOneStage, assemblePlan } from '../../../src/compiler/planner/assemble.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf, model } from './fixture.js';
import { normalized, partsOf, querySql, zoneOf } from './planner-helpers.js';

const RANGE = { dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-31'] as [string, string] };

describe('assemblePlan', () => {
  it('is what planQuery returns: the stages run in order', () => {
    const query: SemanticQuery = {
      measures: ['orders.revenue', 'line_items.quantity'],
      dimensions: ['line_items.product'],
      timeDimensions: [RANGE],
      filters: [{ member: 'orders.revenue', operator: 'gt', values: ['1'] }],
    };
    const q = normalized(query);
    expect(planQuery(model, q, new ParamBag(), zoneOf(q))).toEqual(assemblePlan(partsOf(query)));
  });

  it('one stage when no group is fanned out or rolling, ordered by the query order', () => {
    const planned = assemblePlan(partsOf({ measures: ['orders.count'], dimensions: ['orders.status'], order: { 'orders.status': 'asc' } }));
    expect(planned.cubes).toEqual(['orders']);
    expect(planned.columns.map((c) => c.alias)).toEqual(['orders__status', 'orders__count']);
    expect(querySql(planned.query)).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, count(\`orders\`.id) AS \`orders__count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      GROUP BY \`orders__status\`
      ORDER BY \`orders__status\` ASC"
    `);
  });

  it('several stages when a group is fanned out', () => {
    const planned = assemblePlan(partsOf({ measures: ['orders.revenue'], dimensions: ['line_items.product'] }));
    expect(planned.query.from).toMatchObject({ kind: 'derived', alias: '__q' });
    expect(planned.query.orderBy).toHaveLength(1);
  });

  it('a range split when asked, unordered', () => {
    const planned = assemblePlan(partsOf({ measures: ['orders.count'], timeDimensions: [RANGE] }), {
      td: 0,
      ranges: [['2024-01-01T00:00:00.000', '2024-01-15T23:59:59.999']],
    });
    expect(planned.splits).toEqual([{ countAlias: '__rows_r0', measureAliases: { orders__count: 'orders__count__r0' } }]);
    expect(planned.query.orderBy).toEqual([]);
  });

  it('orders after assembling: an unknown order key fails last', () => {
    const parts = partsOf({ measures: ['orders.count'] });
    const bad = { ...parts, query: { ...parts.query, order: [['orders.status', 'asc'] as const] } };
    expect(errorOf(() => assemblePlan(bad))).toEqual({ code: 'BAD_USER_INPUT', message: 'cannot order by "orders.status": it is not in the query' });
  });
});

describe('assembleOneStage', () => {
  it('SELECT dims, aggregates over the join tree WHERE … GROUP BY dims HAVING …', () => {
    const select = assembleOneStage(
      partsOf({
        measures: ['orders.paid_ratio'],
        dimensions: ['customers.name'],
        timeDimensions: [RANGE],
        filters: [
          { member: 'orders.status', operator: 'equals', values: ['paid'] },
          { member: 'orders.revenue', operator: 'gt', values: ['10'] },
        ],
      }),
    );
    expect(querySql(select)).toMatchInlineSnapshot(`
      "SELECT \`customers\`.name AS \`customers__name\`, (countIf(\`orders\`.id, \`orders\`.paid = 1) / nullIf(count(\`orders\`.id), 0)) AS \`orders__paid_ratio\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      WHERE \`orders\`.status = {p0:String} AND \`orders\`.created_at >= toDateTime({p1:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p2:String}, {tz:String})
      GROUP BY \`customers__name\`
      HAVING sum(\`orders\`.amount) > {p3:Float64}
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('ungrouped: row values, no GROUP BY, measure filters join the WHERE', () => {
    const select = assembleOneStage(
      partsOf({
        measures: ['orders.paid_count'],
        dimensions: ['orders.id'],
        ungrouped: true,
        filters: [{ member: 'orders.paid_count', operator: 'gt', values: ['0'] }],
      }),
    );
    expect(querySql(select)).toMatchInlineSnapshot(`
      "SELECT \`orders\`.id AS \`orders__id\`, multiIf(\`orders\`.paid = 1, 1, 0) AS \`orders__paid_count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE multiIf(\`orders\`.paid = 1, 1, 0) > {p0:Float64}"
    `);
  });
});
