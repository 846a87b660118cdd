/**
 * TENANT PASS — the security invariant in one place.
 *
 * The planner reads every cube through a `cube` FROM item. This pass is the only code that turns
 * such an item into something printable: a tenant-scoped cube becomes
 *   (SELECT * FROM <sql_table | (sql)> WHERE <tenant_column> = {tenant:String}) AS <alias>
 * and a shared cube becomes its table. It is applied with mapFromItems, which walks every FROM
 * and JOIN item at any depth, and the printer refuses a `cube` item, so a relation that skipped
 * the pass cannot become SQL.
 */
import { invariant } from '../../errors.js';
import type { Cube, Model } from '../../semantic/model.js';
import { mapFromItems, raw, select, binary, ident, type Expr, type FromItem, type Query } from '../plan-tree.js';

export const TENANT_PARAM = 'tenant';

export function tenantParam(tenantId: string): Expr {
  invariant(typeof tenantId === 'string' && tenantId.length > 0, 'a query needs a tenant');
  return { kind: 'param', name: TENANT_PARAM, type: 'String', value: tenantId };
}

export function scopeToTenant(query: Query, model: Model, tenant: Expr): Query {
  return mapFromItems(query, (item) => (item.kind === 'cube' ? scopedCubeSource(model, item.cube, item.alias, tenant) : item));
}

/** The rows of one cube visible to the tenant, under `alias`. */
export function scopedCubeSource(model: Model, cubeName: string, alias: string, tenant: Expr): FromItem {
  invariant(Object.hasOwn(model.cubes, cubeName), `unknown cube ${cubeName}`);
  const cube = model.cubes[cubeName];
  const source = cubeTable(cube);
  if (cube.tenant.kind === 'shared') return { ...source, alias };
  invariant(cube.tenant.kind === 'column' && cube.tenant.column.length > 0, `cube ${cube.name} has no tenant scope`);
  const where = binary('=', ident(cube.tenant.column), tenant);
  return { kind: 'derived', alias, query: select({ columns: [{ expr: raw('*') }], from: source, where }) };
}

function cubeTable(cube: Cube): Extract<FromItem, { kind: 'table' }> {
  if (cube.sqlTable) return { kind: 'table', sql: cube.sqlTable, isQuery: false };
  invariant(cube.sql, `cube ${cube.name} has neither sql_table nor sql`);
  const text = cube.sql.parts.map((p) => {
    invariant(p.kind === 'text', `cube ${cube.name}: references are not supported in a cube's sql`);
    return p.text;
  });
  return { kind: 'table', sql: text.join(''), isQuery: true };
}
