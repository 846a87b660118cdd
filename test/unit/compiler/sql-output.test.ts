/** Order, limit, offset, total, ungrouped, refresh keys. */
import { describe, expect, it } from 'vitest';
import { compileRefreshKey } from '../../../src/compiler/compile.js';
import { TENANT, compile, errorOf, model, sqlOf } from './fixture.js';

describe('order, limit, offset', () => {
  it('orders by aliases, limit and offset from the query', () => {
    expect(
      sqlOf({
        measures: ['orders.count'],
        dimensions: ['orders.status'],
        order: [
          ['orders.status', 'asc'],
          ['orders.count', 'desc'],
        ],
        limit: 5,
        offset: 10,
      }),
    ).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, count(\`orders\`.id) AS \`orders__count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      GROUP BY \`orders__status\`
      ORDER BY \`orders__status\` ASC, \`orders__count\` DESC
      LIMIT 5
      OFFSET 10"
    `);
  });

  it('the default limit applies when none is given; limit 0 is allowed', () => {
    expect(sqlOf({ measures: ['orders.count'] })).toContain('\nLIMIT 10000');
    expect(sqlOf({ measures: ['orders.count'], limit: 0 })).toContain('\nLIMIT 0');
  });
});

describe('total', () => {
  it('counts the rows without order, limit or offset, over the same parameters', () => {
    const c = compile({
      measures: ['orders.count'],
      dimensions: ['orders.status'],
      filters: [{ member: 'orders.amount', operator: 'gt', values: [3] }],
      limit: 2,
      offset: 4,
      total: true,
    });
    expect(c.total).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": 3,
          "tenant": "acme",
        },
        "sql": "SELECT count() AS \`total\`
      FROM (
        SELECT \`orders\`.status AS \`orders__status\`, count(\`orders\`.id) AS \`orders__count\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.amount > {p0:Float64}
        GROUP BY \`orders__status\`
      ) AS \`__rows\`",
      }
    `);
  });

  it('is absent unless asked for', () => {
    expect(compile({ measures: ['orders.count'] }).total).toBeUndefined();
  });
});

describe('ungrouped', () => {
  it('lists rows: no GROUP BY, measures as row values, measure filters in WHERE', () => {
    expect(
      sqlOf({
        dimensions: ['orders.id', 'customers.name'],
        measures: ['orders.revenue', 'orders.paid_count', 'orders.paid_revenue', 'orders.paid_ratio'],
        filters: [{ member: 'orders.revenue', operator: 'gt', values: [10] }],
        ungrouped: true,
        order: { 'orders.id': 'asc' },
      }),
    ).toMatchInlineSnapshot(`
      "SELECT \`orders\`.id AS \`orders__id\`, \`customers\`.name AS \`customers__name\`, \`orders\`.amount AS \`orders__revenue\`, multiIf(\`orders\`.paid = 1, 1, 0) AS \`orders__paid_count\`, multiIf((\`orders\`.paid = 1) AND (\`orders\`.status != 'refunded'), \`orders\`.amount, NULL) AS \`orders__paid_revenue\`, (multiIf(\`orders\`.paid = 1, 1, 0) / nullIf(1, 0)) AS \`orders__paid_ratio\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      WHERE \`orders\`.amount > {p0:Float64}
      ORDER BY \`orders__id\` ASC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('rejects measures the join tree would repeat, rolling windows and raw aggregate measures', () => {
    expect(errorOf(() => compile({ measures: ['orders.revenue'], dimensions: ['line_items.product'], ungrouped: true }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'an ungrouped query lists rows of one cube family: measure "orders.revenue" would be repeated by the join to its cube orders',
    });
    expect(
      errorOf(() =>
        compile({
          measures: ['orders.revenue_7d'],
          timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'last week' }],
          ungrouped: true,
        }),
      ),
    ).toEqual({ code: 'BAD_USER_INPUT', message: 'an ungrouped query lists rows of one cube family: measure "orders.revenue_7d" has a rolling window' });
    expect(errorOf(() => compile({ measures: ['orders.raw_ratio'], ungrouped: true }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'measure "orders.raw_ratio" (type number) is an aggregate expression and cannot be used in an ungrouped query',
    });
  });
});

describe('compileRefreshKey', () => {
  it('renders {CUBE} in table position as the tenant-scoped source, elsewhere as the alias', () => {
    expect(compileRefreshKey(model, 'orders', TENANT)).toEqual({
      sql: 'SELECT max(`orders`.updated_at) FROM (SELECT * FROM strata.orders WHERE `tenant_id` = {tenant:String}) AS `orders`',
      params: { tenant: 'acme' },
    });
  });

  it('is undefined without refresh_key.sql; unknown cubes are NOT_FOUND', () => {
    expect(compileRefreshKey(model, 'customers', TENANT)).toBeUndefined();
    expect(errorOf(() => compileRefreshKey(model, 'nope', TENANT))).toEqual({ code: 'NOT_FOUND', message: 'unknown cube "nope"' });
  });
});
