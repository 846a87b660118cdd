/**
 * The compiler's entry points. Pure and synchronous: plan -> passes -> print. Each takes the
 * caller's tenant id (the compiler knows nothing of principals or scopes).
 *   normalizeQuery (normalize.ts)   SemanticQuery -> NormalizedQuery (validated, ranges resolved)
 *   compileQuery                    NormalizedQuery -> CompiledQuery (tenant-scoped SQL + params)
 *   compileSplitQuery               several date ranges / grouping sets in one statement
 *   compileRefreshKey               a cube's refresh_key.sql, tenant-scoped
 */
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import { clickhouseDialect } from './clickhouse/dialect.js';
import type { CompiledQuery, CompiledSplitQuery, SqlStatement } from './compiled.js';
import { isValidTimeZone } from './dates.js';
import { applyRowLimit, countRows } from './passes/row-limit.js';
import { scopeToTenant, scopedCubeSource, tenantParam } from './passes/tenant-scope.js';
import { ParamBag, ident, raw, type Expr, type FromItem } from './plan-tree.js';
import { planQuery } from './planner.js';
import type { Planned } from './planner/parts.js';
import type { RangeSplit } from './split.js';
import { printFragments, printStatement } from './printer.js';
import { renderTemplate } from './render.js';
import { routeToRollup, type RollupAvailability } from './rollup/route.js';

export const TZ_PARAM = 'tz';

/**
 * The opening both query entry points share: validate the zone, bind the tenant, plan. The zone
 * travels as a parameter too; ClickHouse substitutes it as a constant, which toDateTime64(x, 3, tz)
 * requires.
 */
function planFor(model: Model, query: NormalizedQuery, tenantId: string, split?: RangeSplit): { tenant: Expr; planned: Planned } {
  if (!isValidTimeZone(query.timezone)) throw new UserError('BAD_USER_INPUT', `unknown time zone "${String(query.timezone)}"`);
  const tenant = tenantParam(tenantId);
  const tz: Expr = { kind: 'param', name: TZ_PARAM, type: 'String', value: query.timezone };
  return { tenant, planned: planQuery(model, query, new ParamBag(), tz, split) };
}

/**
 * `rollups`: the rollups built and maintained now. A query one of them answers exactly is compiled
 * against it (compiled.rollup says which); every other query reads the cube's table.
 */
export function compileQuery(baseModel: Model, query: NormalizedQuery, tenantId: string, rollups?: RollupAvailability): CompiledQuery {
  const routed = routeToRollup(baseModel, query, rollups);
  const model = routed?.model ?? baseModel;
  const { tenant, planned } = planFor(model, query, tenantId);
  const scoped = scopeToTenant(planned.query, model, tenant);
  const main = printStatement(applyRowLimit(scoped, query.limit, query.offset), clickhouseDialect);
  const total = query.total ? printStatement(countRows(scoped), clickhouseDialect) : undefined;
  return { ...main, columns: planned.columns, cubes: planned.cubes, ...(total ? { total } : {}), ...(routed ? { rollup: routed.used } : {}) };
}

/**
 * One statement answering the query over several date ranges of one time dimension (see
 * RangeSplit): `query` must carry a range covering them all, its limit caps the groups fetched.
 * Throws SplitUnsupportedError when the query's shape cannot be split; run the ranges separately then.
 */
export function compileSplitQuery(
  baseModel: Model,
  query: NormalizedQuery,
  split: RangeSplit,
  tenantId: string,
  rollups?: RollupAvailability,
): CompiledSplitQuery {
  // The covering query is routed: every range and grouping set then reads the same rollup.
  const routed = splitRoute(baseModel, query, split, rollups);
  const model = routed?.model ?? baseModel;
  const { tenant, planned } = planFor(model, query, tenantId, split);
  const main = printStatement(applyRowLimit(scopeToTenant(planned.query, model, tenant), query.limit, 0), clickhouseDialect);
  return {
    ...main,
    columns: planned.columns,
    cubes: planned.cubes,
    splits: planned.splits ?? [],
    ...(planned.sets ? { sets: planned.sets } : {}),
    ...(routed ? { rollup: routed.used } : {}),
  };
}

/**
 * The refresh-key statement of a cube, evaluated per tenant. A cube reference in table position
 * ({CUBE} not followed by ".") becomes the tenant-scoped source `(SELECT * … WHERE tenant) AS cube`;
 * elsewhere it is the alias. Undefined when the cube has no refresh_key.sql.
 */
export function compileRefreshKey(model: Model, cubeName: string, tenantId: string): SqlStatement | undefined {
  if (!Object.hasOwn(model.cubes, cubeName)) throw new UserError('NOT_FOUND', `unknown cube "${cubeName}"`);
  const template = model.cubes[cubeName].refreshKey?.sql;
  if (!template) return undefined;
  const tenant = tenantParam(tenantId);
  const scope = { model, alias: (cube: string) => cube };
  const parts = template.parts.map((part, i): { expr: Expr } | { from: FromItem } => {
    if (part.kind === 'text') return { expr: raw(part.text) };
    if (part.kind === 'member') return { expr: renderTemplate({ parts: [part], source: template.source }, scope) };
    const next = template.parts[i + 1];
    const qualifier = next?.kind === 'text' && next.text.startsWith('.');
    return qualifier ? { expr: ident(part.cube) } : { from: scopedCubeSource(model, part.cube, part.cube, tenant) };
  });
  return printFragments(parts, clickhouseDialect);
}

/** The rollup for a split statement: the covering query's, when it answers every range too. */
function splitRoute(model: Model, query: NormalizedQuery, split: RangeSplit, rollups: RollupAvailability | undefined) {
  const routed = routeToRollup(model, query, rollups);
  if (!routed) return undefined;
  for (const range of split.ranges) {
    const timeDimensions = query.timeDimensions.map((td, i) => (i === split.td ? { ...td, dateRange: range } : td));
    if (routeToRollup(model, { ...query, timeDimensions }, rollups)?.used.table !== routed.used.table) return undefined;
  }
  return routed;
}
