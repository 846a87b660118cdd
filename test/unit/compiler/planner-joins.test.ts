/** Planner stage 2: the join tree a query reads and the scope members render in over it. */
import { describe, expect, it } from 'vitest';
import { joinSource } from '../../../src/compiler/planner/joins.js';
import { resolveQueryMembers } from '../../../src/compiler/planner/resolve.js';
import { renderDimension } from '../../../src/compiler/render.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf, model } from './fixture.js';
import { exprSql, normalized, querySql } from './planner-helpers.js';

const sourceOf = (q: SemanticQuery) => joinSource(model, resolveQueryMembers(model, normalized(q)));

describe('joinSource', () => {
  it('roots the tree at the first measure’s cube and passes through the cubes between', () => {
    const { tree } = sourceOf({ measures: ['orders.count'], dimensions: ['countries.name'] });
    expect(tree.root).toBe('orders');
    expect(tree.cubes).toEqual(['orders', 'customers', 'countries']);
  });

  it('tries the query’s other cubes as roots when the first cannot reach them all', () => {
    const { tree } = sourceOf({ measures: ['customers.count', 'orders.count'] });
    expect(tree.root).toBe('orders');
    expect(tree.cubes).toEqual(['orders', 'customers']);
  });

  it('joins the cubes member SQL references and the cubes filters and segments name', () => {
    expect(sourceOf({ measures: ['orders.count'], dimensions: ['orders.customer_name'] }).tree.cubes).toEqual(['orders', 'customers']);
    const filtered = sourceOf({ measures: ['orders.count'], filters: [{ member: 'invoices.number', operator: 'set' }] });
    expect(filtered.tree.cubes).toEqual(['orders', 'invoices']);
  });

  it('follows a view member’s join path', () => {
    const { tree } = sourceOf({ measures: ['sales.count'], dimensions: ['sales.countries_name'] });
    expect(tree.cubes).toEqual(['orders', 'customers', 'countries']);
    expect(tree.edges.map((e) => `${e.parent}->${e.child}`)).toEqual(['orders->customers', 'customers->countries']);
  });

  it('renders members over the tree and refuses a cube outside it', () => {
    const { scope } = sourceOf({ measures: ['orders.count'] });
    expect(exprSql(renderDimension(model.cubes.orders.dimensions.status, scope))).toBe('`orders`.status');
    expect(() => renderDimension(model.cubes.customers.dimensions.name, scope)).toThrow('cube customers is not in the join tree');
  });

  it('select() reads the root and LEFT JOINs every edge along its declared condition', () => {
    const source = sourceOf({ measures: ['orders.count'], dimensions: ['customers.name'] });
    expect(source.joins).toHaveLength(1);
    expect(
      querySql(source.select({ columns: [{ expr: renderDimension(model.cubes.customers.dimensions.name, source.scope), alias: 'n' }] })),
    ).toMatchInlineSnapshot(`
      "SELECT \`customers\`.name AS \`n\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('fails when no cube reaches the others', () => {
    expect(errorOf(() => sourceOf({ measures: ['orders.count'], dimensions: ['events.kind'] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot join orders and events: no path of joins leads from orders to events',
    });
  });
});
