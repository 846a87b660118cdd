/** The fixture model and helpers shared by the compiler tests. */
import type { CompileOptions, CompiledQuery } from '../../../src/compiler/compiled.js';
import { compileQuery } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { buildModel } from '../../helpers/model-builder.js';

export const model = buildModel({
  cubes: {
    orders: {
      sqlTable: 'strata.orders',
      tenantColumn: 'tenant_id',
      measures: {
        count: { type: 'count' },
        revenue: { type: 'sum', sql: '{CUBE}.amount' },
        avg_amount: { type: 'avg', sql: '{CUBE}.amount' },
        min_amount: { type: 'min', sql: '{CUBE}.amount' },
        max_amount: { type: 'max', sql: '{CUBE}.amount' },
        customers_count: { type: 'count_distinct', sql: '{CUBE}.customer_id' },
        approx_customers: { type: 'count_distinct_approx', sql: '{CUBE}.customer_id' },
        paid_count: { type: 'count', filters: ['{CUBE}.paid = 1'] },
        paid_revenue: { type: 'sum', sql: '{CUBE}.amount', filters: ['{CUBE}.paid = 1', "{CUBE}.status != 'refunded'"] },
        paid_ratio: { type: 'number', sql: '{paid_count} / nullIf({count}, 0)' },
        revenue_per_customer: { type: 'number', sql: '{revenue} / {customers_count}' },
        raw_ratio: { type: 'number', sql: 'sum({CUBE}.amount) / count()' },
        last_order_at: { type: 'time', sql: 'max({CUBE}.created_at)' },
        statuses: { type: 'string', sql: "arrayStringConcat(groupUniqArray({CUBE}.status), ',')" },
        revenue_7d: { type: 'sum', sql: '{CUBE}.amount', rollingWindow: { trailing: { amount: 7, unit: 'day' }, offset: 'end' } },
        revenue_running: { type: 'sum', sql: '{CUBE}.amount', rollingWindow: { trailing: 'unbounded', offset: 'end' } },
        rolling_share: { type: 'number', sql: '{revenue_7d} / nullIf({revenue_running}, 0)' },
        customers_30d: { type: 'count_distinct', sql: '{CUBE}.customer_id', rollingWindow: { trailing: { amount: 1, unit: 'month' }, offset: 'end' } },
        internal_cost: { type: 'sum', sql: '{CUBE}.cost', public: false },
      },
      dimensions: {
        id: { type: 'number', sql: '{CUBE}.id', primaryKey: true },
        status: { type: 'string', sql: '{CUBE}.status' },
        amount: { type: 'number', sql: '{CUBE}.amount' },
        created_at: { type: 'time', sql: '{CUBE}.created_at' },
        is_paid: { type: 'boolean', sql: '{CUBE}.paid = 1' },
        size: {
          type: 'string',
          case: {
            when: [
              { sql: '{CUBE}.amount > 100', label: 'large' },
              { sql: '{CUBE}.amount > 10', label: "mid'size" },
            ],
            else: 'small',
          },
        },
        customer_name: { type: 'string', sql: '{customers.name}' },
        secret_note: { type: 'string', sql: '{CUBE}.note', public: false },
      },
      segments: {
        completed: "{CUBE}.status = 'completed'",
        big_or_paid: '{CUBE}.amount > 100 OR {CUBE}.paid = 1',
      },
      joins: {
        customers: { relationship: 'many_to_one', sql: '{CUBE}.customer_id = {customers}.id' },
        line_items: { relationship: 'one_to_many', sql: '{CUBE}.id = {line_items}.order_id' },
        invoices: { relationship: 'one_to_one', sql: '{CUBE}.id = {invoices}.order_id' },
      },
      refreshKey: { sql: 'SELECT max({CUBE}.updated_at) FROM {CUBE}' },
    },
    customers: {
      sqlTable: 'strata.customers',
      tenantColumn: 'tenant_id',
      measures: {
        count: { type: 'count' },
        credit: { type: 'sum', sql: '{CUBE}.credit' },
      },
      dimensions: {
        id: { type: 'number', sql: '{CUBE}.id', primaryKey: true },
        name: { type: 'string', sql: '{CUBE}.name' },
        country_code: { type: 'string', sql: '{CUBE}.country_code' },
        signed_up_at: { type: 'time', sql: '{CUBE}.signed_up_at' },
      },
      joins: { countries: { relationship: 'many_to_one', sql: '{CUBE}.country_code = {countries}.code' } },
    },
    line_items: {
      sqlTable: 'strata.line_items',
      tenantColumn: 'account_id',
      measures: {
        count: { type: 'count' },
        quantity: { type: 'sum', sql: '{CUBE}.quantity' },
      },
      dimensions: {
        id: { type: 'number', sql: '{CUBE}.id', primaryKey: true },
        product: { type: 'string', sql: '{CUBE}.product' },
      },
    },
    invoices: {
      sqlTable: 'strata.invoices',
      tenantColumn: 'tenant_id',
      measures: { total: { type: 'sum', sql: '{CUBE}.total' } },
      dimensions: { id: { type: 'number', sql: '{CUBE}.id', primaryKey: true }, number: { type: 'string', sql: '{CUBE}.number' } },
    },
    countries: {
      sqlTable: 'strata.countries',
      shared: true,
      measures: { count: { type: 'count' } },
      dimensions: { code: { type: 'string', sql: '{CUBE}.code', primaryKey: true }, name: { type: 'string', sql: '{CUBE}.name' } },
    },
    events: {
      sql: "SELECT * FROM strata.raw_events WHERE kind != 'test'",
      tenantColumn: 'tenant_id',
      measures: { count: { type: 'count' } },
      dimensions: { kind: { type: 'string', sql: '{CUBE}.kind' }, ts: { type: 'time', sql: '{CUBE}.ts' } },
    },
  },
  views: {
    sales: {
      cubes: [
        { joinPath: 'orders', includes: ['count', 'revenue', 'status', 'created_at'] },
        { joinPath: 'orders.customers', includes: ['name', 'count'], prefix: true },
        { joinPath: 'orders.customers.countries', includes: ['name'], prefix: true },
      ],
    },
  },
});

/** The tenant every fixture query is compiled for. */
export const TENANT = 'acme';

/** 2024-03-01T02:00:00Z — still Feb 29 in Los Angeles. */
export const NOW = new Date('2024-03-01T02:00:00Z');
export const options: CompileOptions = { now: NOW, defaultLimit: 10_000, maxLimit: 50_000 };

export function compile(query: SemanticQuery): CompiledQuery {
  return compileQuery(model, normalizeQuery(model, query, options), TENANT);
}

export function sqlOf(query: SemanticQuery): string {
  return compile(query).sql;
}

/** Run a function expected to throw a UserError; return {code, message}. */
export function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? 'NONE', message: err.message };
  }
  throw new Error('expected an error');
}
