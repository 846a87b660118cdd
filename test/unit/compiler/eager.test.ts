/**
 * When the compiler aggregates the root before its lookup joins (planner/eager.ts) and when it keeps
 * the one-stage form. The numbers are checked on chDB (test/integration/compiler/fanout.test.ts,
 * test/integration/core/range-split.test.ts); here, the decision, on a model built for it.
 */
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { buildModel } from '../../helpers/model-builder.js';
import { options } from './fixture.js';

const model = buildModel({
  cubes: {
    sales: {
      sqlTable: 'strata.sales',
      tenantColumn: 'tenant_id',
      measures: {
        amount: { type: 'sum', sql: '{CUBE}.amount' },
        count: { type: 'count' },
        biggest: { type: 'max', sql: '{CUBE}.amount' },
        smallest_paid: { type: 'min', sql: '{CUBE}.amount', filters: ['{CUBE}.paid = 1'] },
        open_amount: { type: 'sum', sql: '{CUBE}.amount', filters: ["{CUBE}.state != 'closed and done'"] },
        vip_amount: { type: 'sum', sql: '{CUBE}.amount', filters: ["{stores}.tier = 'vip'"] },
        average: { type: 'avg', sql: '{CUBE}.amount' },
        per_sale: { type: 'number', sql: '{amount} / nullIf({count}, 0)' },
      },
      dimensions: {
        id: { type: 'number', sql: '{CUBE}.id', primaryKey: true },
        state: { type: 'string', sql: '{CUBE}.state' },
        amount_text: { type: 'string', sql: 'CAST({CUBE}.amount AS String)' },
        store_and_state: { type: 'string', sql: "concat({stores}.name, '/', {CUBE}.state)" },
      },
      joins: {
        stores: { relationship: 'many_to_one', sql: '{CUBE}.tenant_id = {stores}.tenant_id AND {CUBE}.store_id = {stores}.id' },
        lines: { relationship: 'one_to_many', sql: '{CUBE}.id = {lines}.sale_id' },
      },
    },
    stores: {
      sqlTable: 'strata.stores',
      tenantColumn: 'tenant_id',
      measures: { count: { type: 'count' } },
      dimensions: {
        id: { type: 'number', sql: '{CUBE}.id', primaryKey: true },
        name: { type: 'string', sql: '{CUBE}.name' },
        loud_name: { type: 'string', sql: 'upper(name)' },
        tier: { type: 'string', sql: '{CUBE}.tier' },
      },
    },
    lines: {
      sqlTable: 'strata.lines',
      tenantColumn: 'tenant_id',
      measures: { qty: { type: 'sum', sql: '{CUBE}.qty' } },
      dimensions: { id: { type: 'number', sql: '{CUBE}.id', primaryKey: true }, sku: { type: 'string', sql: '{CUBE}.sku' } },
    },
  },
});

const sqlOf = (q: SemanticQuery) => compileQuery(model, normalizeQuery(model, q, options), 'acme').sql;
const eager = (q: SemanticQuery) => /FROM \(\n {2}SELECT /.test(sqlOf(q)) && sqlOf(q).includes('`__e0`');

describe('aggregating the root before its lookup joins', () => {
  it('applies to sums, counts, max and ratios of them by a lookup dimension, with root and lookup filters', () => {
    const q: SemanticQuery = {
      measures: ['sales.amount', 'sales.count', 'sales.biggest', 'sales.per_sale', 'sales.open_amount'],
      dimensions: ['stores.name', 'sales.state', 'sales.store_and_state'],
      filters: [
        { member: 'stores.tier', operator: 'equals', values: ['vip'] },
        { member: 'sales.state', operator: 'notEquals', values: ['void'] },
      ],
    };
    expect(eager(q)).toBe(true);
    const sql = sqlOf(q);
    // The join keys and the root column a mixed dimension reads are carried under their own names.
    expect(sql).toContain('`sales`.`tenant_id` AS `tenant_id`, `sales`.`store_id` AS `store_id`');
    // count -> a sum of partial counts; the ratio is computed from the combined partials.
    expect(sql).toMatch(/sum\(`sales`\.`__e\d`\) \/ nullIf\(sum\(`sales`\.`__e\d`\), 0\)/);
    // A string literal's words are not names: the filtered sum is split too.
    expect(sql).toContain("sumIf(`sales`.amount, `sales`.state != 'closed and done')");
  });

  it('keeps the one-stage form when an aggregate cannot be split or reads a lookup', () => {
    for (const measure of ['sales.average', 'sales.smallest_paid', 'sales.vip_amount', 'stores.count']) {
      expect(eager({ measures: ['sales.amount', measure], dimensions: ['stores.name'] }), measure).toBe(false);
    }
  });

  it('keeps the one-stage form when model text holds a bare name (it could mean another table once the root is a subquery)', () => {
    expect(eager({ measures: ['sales.amount'], dimensions: ['stores.loud_name'] })).toBe(false);
    expect(eager({ measures: ['sales.amount'], dimensions: ['stores.name', 'sales.amount_text'] })).toBe(false); // `AS String`
    expect(eager({ measures: ['sales.amount'], dimensions: ['stores.name'] })).toBe(true);
  });

  it('does nothing without a lookup join, without aggregates, or over a join that repeats the root', () => {
    expect(eager({ measures: ['sales.amount'], dimensions: ['sales.state'] })).toBe(false);
    expect(sqlOf({ dimensions: ['stores.name', 'sales.state'] })).not.toContain('__e0');
    expect(sqlOf({ measures: ['sales.amount', 'lines.qty'], dimensions: ['lines.sku'] })).not.toContain('__e0');
  });
});
