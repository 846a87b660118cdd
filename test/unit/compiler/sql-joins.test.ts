/** Joins, fan-out safety, views, shared cubes and the tenant pass. */
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../../src/compiler/compile.js';
import { isMultiplied, buildJoinTree } from '../../../src/compiler/join-tree.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import { scopeToTenant, tenantParam } from '../../../src/compiler/passes/tenant-scope.js';
import { collectFromItems, select, type Query } from '../../../src/compiler/plan-tree.js';
import { printStatement } from '../../../src/compiler/printer.js';
import { clickhouseDialect } from '../../../src/compiler/clickhouse/dialect.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { buildModel } from '../../helpers/model-builder.js';
import { TENANT, compile, errorOf, model, options, sqlOf } from './fixture.js';

const TENANT_PREDICATE = /WHERE `(tenant_id|account_id)` = \{tenant:String\}\) AS `(\w+)`/g;
/** The cube aliases read through a tenant predicate, in order of appearance. */
const scopedAliases = (sql: string) => [...sql.matchAll(TENANT_PREDICATE)].map((m) => m[2]);

describe('joins', () => {
  it('many_to_one: a LEFT JOIN along the declared join, no fan-out handling needed', () => {
    expect(sqlOf({ measures: ['orders.revenue'], dimensions: ['customers.name', 'countries.name'] })).toMatchInlineSnapshot(`
      "SELECT \`customers\`.name AS \`customers__name\`, \`countries\`.name AS \`countries__name\`, sum(\`orders\`.\`__e0\`) AS \`orders__revenue\`
      FROM (
        SELECT \`orders\`.\`customer_id\` AS \`customer_id\`, sum(\`orders\`.amount) AS \`__e0\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        GROUP BY \`customer_id\`
      ) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      LEFT JOIN strata.countries AS \`countries\` ON \`customers\`.country_code = \`countries\`.code
      GROUP BY \`customers__name\`, \`countries__name\`
      ORDER BY \`orders__revenue\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('one_to_one: not a fan-out either', () => {
    expect(sqlOf({ measures: ['orders.revenue', 'invoices.total'], dimensions: ['orders.status'] })).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, sum(\`orders\`.amount) AS \`orders__revenue\`, sum(\`invoices\`.total) AS \`invoices__total\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.invoices WHERE \`tenant_id\` = {tenant:String}) AS \`invoices\` ON \`orders\`.id = \`invoices\`.order_id
      GROUP BY \`orders__status\`
      ORDER BY \`orders__revenue\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('one_to_many: measures of the "one" side are aggregated over distinct primary keys', () => {
    // orders.revenue is multiplied by line_items (one order, many items): it goes through the
    // keys subquery; line_items.quantity is on the "many" side and stays a plain aggregate.
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
      ORDER BY \`orders__revenue\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('a measure of the target of a many_to_one is multiplied by the other side', () => {
    // customers.count with orders as root: many orders per customer, so customers rows repeat.
    expect(sqlOf({ measures: ['orders.count', 'customers.count'] })).toMatchInlineSnapshot(`
      "SELECT max(\`__q\`.\`__m0\`) AS \`orders__count\`, max(\`__q\`.\`__m1\`) AS \`customers__count\`
      FROM (
        SELECT count(\`orders\`.id) AS \`__m0\`, NULL AS \`__m1\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
        UNION ALL
        SELECT NULL AS \`__m0\`, count(\`customers\`.id) AS \`__m1\`
        FROM (
          SELECT DISTINCT \`customers\`.id AS \`__pk0\`
          FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
          LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
        ) AS \`__keys\`
        LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`__keys\`.\`__pk0\` = \`customers\`.id
      ) AS \`__q\`
      ORDER BY \`orders__count\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('count_distinct / min / max are duplicate-insensitive and stay one-stage', () => {
    const sql = sqlOf({ measures: ['orders.customers_count', 'orders.max_amount'], dimensions: ['line_items.product'] });
    expect(sql).not.toContain('__keys');
    expect(sql.split('\n')[0]).toMatchInlineSnapshot(
      `"SELECT \`line_items\`.product AS \`line_items__product\`, uniqExact(\`orders\`.customer_id) AS \`orders__customers_count\`, max(\`orders\`.amount) AS \`orders__max_amount\`"`,
    );
  });

  it('multiplied measures of two cubes get one keys subquery each', () => {
    const sql = sqlOf({ measures: ['orders.revenue', 'customers.credit', 'line_items.count'], dimensions: ['line_items.product'] });
    expect(sql.match(/SELECT DISTINCT/g)).toHaveLength(2);
    expect(sql.match(/UNION ALL/g)).toHaveLength(2);
  });

  it('a number measure over multiplied measures is computed from the combined columns', () => {
    expect(sqlOf({ measures: ['orders.revenue_per_customer'], dimensions: ['line_items.product'] })).toMatchInlineSnapshot(`
      "SELECT \`__q\`.\`__d0\` AS \`line_items__product\`, (max(\`__q\`.\`__m0\`) / max(\`__q\`.\`__m1\`)) AS \`orders__revenue_per_customer\`
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
        SELECT \`line_items\`.product AS \`__d0\`, NULL AS \`__m0\`, uniqExact(\`orders\`.customer_id) AS \`__m1\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        LEFT JOIN (SELECT * FROM strata.line_items WHERE \`account_id\` = {tenant:String}) AS \`line_items\` ON \`orders\`.id = \`line_items\`.order_id
        GROUP BY \`__d0\`
      ) AS \`__q\`
      GROUP BY \`line_items__product\`
      ORDER BY \`orders__revenue_per_customer\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('root is the cube of the first measure; an unreachable cube is an error', () => {
    expect(compile({ measures: ['customers.count'], dimensions: ['countries.name'] }).cubes).toEqual(['customers', 'countries']);
    expect(errorOf(() => compile({ measures: ['customers.count'], dimensions: ['events.kind'] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot join customers and events: no path of joins leads from customers to events',
    });
    expect(errorOf(() => compile({ measures: ['events.count', 'orders.count'] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot join events and orders: no path of joins leads from events to orders',
    });
  });

  it('falls back to another root when the first cannot reach every cube', () => {
    // countries cannot reach orders, but orders reaches countries through customers.
    expect(compile({ measures: ['countries.count', 'orders.count'] }).cubes).toEqual(['orders', 'customers', 'countries']);
    expect(compile({ measures: ['customers.count'], dimensions: ['orders.status'] }).cubes).toEqual(['orders', 'customers']);
  });

  it('isMultiplied follows Cube: the "one" side of one_to_many and the target of many_to_one', () => {
    const tree = buildJoinTree(model, { cubes: ['orders', 'customers', 'line_items', 'invoices', 'countries'], paths: [] });
    expect(Object.fromEntries(tree.cubes.map((c) => [c, isMultiplied(tree, c)]))).toEqual({
      orders: true,
      customers: true,
      line_items: false,
      invoices: true,
      countries: true,
    });
    const small = buildJoinTree(model, { cubes: ['orders', 'invoices'], paths: [] });
    expect([isMultiplied(small, 'orders'), isMultiplied(small, 'invoices')]).toEqual([false, false]);
  });
});

describe('views', () => {
  it('view members compile along the view join path, keys and aliases use the view path', () => {
    const c = compile({
      measures: ['sales.revenue'],
      dimensions: ['sales.countries_name'],
      filters: [{ member: 'sales.status', operator: 'equals', values: ['paid'] }],
    });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT \`countries\`.name AS \`sales__countries_name\`, sum(\`orders\`.\`__e0\`) AS \`sales__revenue\`
      FROM (
        SELECT \`orders\`.\`customer_id\` AS \`customer_id\`, sum(\`orders\`.amount) AS \`__e0\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.status = {p0:String}
        GROUP BY \`customer_id\`
      ) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      LEFT JOIN strata.countries AS \`countries\` ON \`customers\`.country_code = \`countries\`.code
      GROUP BY \`sales__countries_name\`
      ORDER BY \`sales__revenue\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
    expect(c.columns.map((x) => x.key)).toEqual(['sales.countries_name', 'sales.revenue']);
    expect(c.cubes).toEqual(['orders', 'customers', 'countries']);
  });
});

describe('tenant pass', () => {
  const cases: [string, SemanticQuery, string[]][] = [
    ['one cube', { measures: ['orders.count'] }, ['orders']],
    ['a join', { measures: ['orders.count'], dimensions: ['customers.name'] }, ['orders', 'customers']],
    ['a dimension referencing another cube', { dimensions: ['orders.customer_name'] }, ['orders', 'customers']],
    ['a filter on a joined cube', { measures: ['orders.count'], filters: [{ member: 'invoices.number', operator: 'set' }] }, ['orders', 'invoices']],
    ['a view (the shared countries cube stays unfiltered)', { measures: ['sales.count'], dimensions: ['sales.countries_name'] }, ['orders', 'customers']],
    // keys subquery reads orders + line_items, the re-join reads orders again
    ['fan-out', { measures: ['orders.count'], dimensions: ['line_items.product'] }, ['orders', 'line_items', 'orders']],
    ['a cube defined by sql', { measures: ['events.count'] }, ['events']],
  ];
  it.each(cases)('scopes every tenant cube it reads: %s', (_name, query, aliases) => {
    const c = compile(query);
    expect(scopedAliases(c.sql)).toEqual(aliases);
    expect(c.params.tenant).toBe('acme');
    // Every read of a tenant table (or of a tenant cube's SQL) sits inside a scoped subquery.
    const tenantReads = c.sql.match(/FROM strata\.(orders|customers|line_items|invoices)\b|FROM \(SELECT \* FROM strata\.raw_events/g) ?? [];
    expect(tenantReads.length).toBe(aliases.length);
  });

  it('a query touching N tenant cubes has N tenant predicates', () => {
    const c = compile({ measures: ['orders.revenue'], dimensions: ['customers.name', 'invoices.number', 'countries.name'], segments: ['orders.completed'] });
    expect(c.cubes).toEqual(['orders', 'customers', 'invoices', 'countries']);
    expect(c.sql.match(/= \{tenant:String\}/g)).toHaveLength(3);
    expect(c.sql).toContain('LEFT JOIN strata.countries AS `countries`');
  });

  it('the total statement is scoped too', () => {
    const c = compile({ measures: ['orders.count'], dimensions: ['line_items.product'], total: true });
    expect(scopedAliases(c.total!.sql)).toEqual(['orders', 'line_items', 'orders']);
    expect(c.total!.params).toEqual({ tenant: 'acme' });
  });

  it('reaches relations at any depth, and the printer refuses an unscoped cube', () => {
    const nested: Query = select({
      columns: [],
      from: { kind: 'derived', alias: 'x', query: { kind: 'union', selects: [select({ columns: [], from: { kind: 'cube', cube: 'orders', alias: 'o' } })] } },
      joins: [{ type: 'LEFT', item: { kind: 'cube', cube: 'customers', alias: 'c' }, on: { kind: 'raw', sql: '1' } }],
    });
    expect(() => printStatement(nested, clickhouseDialect)).toThrow('invariant failed: cube "orders" reached the printer without tenant scoping');
    const scoped = scopeToTenant(nested, model, tenantParam('t1'));
    expect(collectFromItems(scoped).filter((i) => i.kind === 'cube')).toEqual([]);
    expect(printStatement(scoped, clickhouseDialect).sql.match(/\{tenant:String\}/g)).toHaveLength(2);
  });

  it('refuses an empty tenant', () => {
    const q = normalizeQuery(model, { measures: ['orders.count'] }, options);
    expect(() => compileQuery(model, q, '')).toThrow('invariant failed: a query needs a tenant');
  });

  it('a cube without a primary key cannot be aggregated over a fan-out', () => {
    const m = buildModel({
      cubes: {
        a: {
          sqlTable: 't.a',
          measures: { total: { type: 'sum', sql: '{CUBE}.x' } },
          dimensions: { x: { type: 'number', sql: '{CUBE}.x' } },
          joins: { b: { relationship: 'one_to_many', sql: '{CUBE}.x = {b}.x' } },
        },
        b: { sqlTable: 't.b', dimensions: { y: { type: 'string', sql: '{CUBE}.y' } } },
      },
    });
    expect(errorOf(() => compileQuery(m, normalizeQuery(m, { measures: ['a.total'], dimensions: ['b.y'] }, options), TENANT))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot aggregate "a.total" without double counting: cube a has no primary key',
    });
  });
});
