/** Assembling several stages: fanned-out and rolling groups combined by UNION ALL + max(). */
import { describe, expect, it } from 'vitest';
import { assembleMultiStage } from '../../../src/compiler/planner/multi-stage.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf } from './fixture.js';
import { partsOf, querySql } from './planner-helpers.js';

const sqlOf = (q: SemanticQuery) => querySql(assembleMultiStage(partsOf(q)));

describe('assembleMultiStage', () => {
  it('a fanned-out group aggregates over distinct (dims, primary key) re-joined to its cube', () => {
    expect(sqlOf({ measures: ['orders.revenue', 'line_items.quantity'], dimensions: ['line_items.product'] })).toMatchInlineSnapshot(`
      "SELECT \`__q\`.\`__d0\` AS \`line_items__product\`, max(\`__q\`.\`__m0\`) AS \`orders__revenue\`, max(\`__q\`.\`__m1\`) AS \`line_items__quantity\`
      FROM (
        SELECT \`__keys\`.\`__d0\` AS \`__d0\`, sum(\`orders\`.amount) AS \`__m0\`, NULL AS \`__m1\`
        FROM (
          SELECT DISTINCT \`line_items\`.product AS \`__d0\`, \`orders\`.id AS \`__pk0\`
          FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
          LEFT JOIN (SELECT * FROM strata.line_items WHERE \`account_id\` = {tenant:String}) AS \`line_items\` ON \`orders\`.id = \`line_items\`.order_id
        ) AS \`__keys\`
        LEFT JOIN (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\` ON \`__keys\`.\`__pk0\` = \`orders\`.id
        GROUP BY \`__d0\`
        UNION ALL
        SELECT \`line_items\`.product AS \`__d0\`, NULL AS \`__m0\`, sum(\`line_items\`.quantity) AS \`__m1\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        LEFT JOIN (SELECT * FROM strata.line_items WHERE \`account_id\` = {tenant:String}) AS \`line_items\` ON \`orders\`.id = \`line_items\`.order_id
        GROUP BY \`__d0\`
      ) AS \`__q\`
      GROUP BY \`line_items__product\`
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('one group alone needs no UNION; the outer stage computes number measures from leaf columns', () => {
    const sql = sqlOf({ measures: ['orders.paid_ratio'], dimensions: ['line_items.product'] });
    expect(sql).not.toContain('UNION ALL');
    expect(sql).toContain('(max(`__q`.`__m0`) / nullIf(max(`__q`.`__m1`), 0)) AS `orders__paid_ratio`');
  });

  it('HAVING runs in the outer stage over the leaf columns', () => {
    const sql = sqlOf({
      measures: ['orders.revenue'],
      dimensions: ['line_items.product'],
      filters: [{ member: 'orders.count', operator: 'gt', values: ['2'] }],
    });
    expect(sql).toContain('HAVING max(`__q`.`__m1`) > {p0:Float64}');
  });

  it('rolling groups bucket rows by window, and a lone time dimension gets a gap-filling branch', () => {
    expect(
      sqlOf({
        measures: ['orders.revenue_7d'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-03'] }],
      }),
    ).toMatchInlineSnapshot(`
      "SELECT \`__q\`.\`__d0\` AS \`orders__created_at_day\`, max(\`__q\`.\`__m0\`) AS \`orders__revenue_7d\`
      FROM (
        SELECT arrayJoin(arrayFilter((\`__bucket\`, \`__lower\`, \`__upper\`) -> \`orders\`.created_at > \`__lower\` AND \`orders\`.created_at <= \`__upper\`, arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p2:Array(String)}), arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p3:Array(String)}), arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p4:Array(String)}))) AS \`__d0\`, sum(\`orders\`.amount) AS \`__m0\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.created_at > toDateTime64({p5:String}, 3, {tz:String}) AND \`orders\`.created_at <= toDateTime64({p6:String}, 3, {tz:String})
        GROUP BY \`__d0\`
        UNION ALL
        SELECT arrayJoin(arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p2:Array(String)})) AS \`__d0\`, NULL AS \`__m0\`
      ) AS \`__q\`
      GROUP BY \`orders__created_at_day\`"
    `);
  });

  it('refuses a fanned-out cube without a primary key', () => {
    // No fixture cube is both fanned out and keyless: mark events as fanned out by hand.
    const parts = partsOf({ measures: ['events.count'], dimensions: ['events.kind'] });
    const leaves = parts.groups.leaves;
    const fannedOut = { ...parts, groups: { leaves, groups: [{ multipliedCube: 'events', leaves }], multiStage: true } };
    expect(errorOf(() => assembleMultiStage(fannedOut))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot aggregate "events.count" without double counting: cube events has no primary key',
    });
  });

  it('refuses rolling windows over a granular time dimension without a range', () => {
    expect(errorOf(() => sqlOf({ measures: ['orders.revenue_7d'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'rolling window measures need a dateRange on "orders.created_at" when it has a granularity',
    });
  });
});
