/** Running the planner's stages one by one over the fixture model, and printing what they build. */
import { clickhouseDialect } from '../../../src/compiler/clickhouse/dialect.js';
import { TZ_PARAM } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import { scopeToTenant, tenantParam } from '../../../src/compiler/passes/tenant-scope.js';
import { ParamBag, type Expr, type Query } from '../../../src/compiler/plan-tree.js';
import { outputColumns } from '../../../src/compiler/planner/columns.js';
import { groupMeasures } from '../../../src/compiler/planner/groups.js';
import { joinSource } from '../../../src/compiler/planner/joins.js';
import type { PlanParts } from '../../../src/compiler/planner/parts.js';
import { resolveQueryMembers } from '../../../src/compiler/planner/resolve.js';
import { whereClause } from '../../../src/compiler/planner/where.js';
import { printFragments, printStatement } from '../../../src/compiler/printer.js';
import type { NormalizedQuery, SemanticQuery } from '../../../src/semantic/query.js';
import { TENANT, model, options } from './fixture.js';

export const normalized = (query: SemanticQuery): NormalizedQuery => normalizeQuery(model, query, options);

export const zoneOf = (q: NormalizedQuery): Expr => ({ kind: 'param', name: TZ_PARAM, type: 'String', value: q.timezone });

/** Stages 1-5 over a query: everything assembling needs. */
export function partsOf(query: SemanticQuery): PlanParts {
  const q = normalized(query);
  const params = new ParamBag();
  const tz = zoneOf(q);
  const members = resolveQueryMembers(model, q);
  const source = joinSource(model, members);
  const columns = outputColumns(members, source.scope, tz);
  const where = whereClause(model, members, source.scope, params, tz);
  const groups = groupMeasures(model, members, source.tree, q.ungrouped);
  return { model, query: q, params, tz, members, source, columns, where, groups };
}

/** An expression as ClickHouse SQL (undefined stays undefined). */
export const exprSql = (e: Expr | undefined): string | undefined => (e ? printFragments([{ expr: e }], clickhouseDialect).sql : undefined);

/** A planned query as ClickHouse SQL, after the tenant pass (the printer refuses unscoped cubes). */
export const querySql = (q: Query): string => printStatement(scopeToTenant(q, model, tenantParam(TENANT)), clickhouseDialect).sql;
