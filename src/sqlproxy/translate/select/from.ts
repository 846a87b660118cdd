/**
 * FROM -> scope entries: cube/view tables, CROSS JOIN (or comma) of cubes the model joins, and one
 * subquery (transparent projection, or an aggregated one the outer query may only project/filter/limit).
 */
import type { CatalogCube } from '../../../query/types.js';
import { suggest } from '../../../semantic/suggest.js';
import { SQLSTATE } from '../../sql-error.js';
import { kindOf } from '../ast.js';
import { tableColumns } from '../columns.js';
import { isStar, star } from './scope.js';
import { type Ctx, nodeAs, type Parts, type PgNode, type Raw, type ScopeEntry } from './state.js';
import { isAggregated, refuseUnsupportedClauses, selectStatement } from './statement.js';
import { figureName, rawOf } from './targets.js';
import { applyCondition } from './where.js';

export function fromClause(ctx: Ctx, from: PgNode[], parts: Parts): ScopeEntry[] {
  const entries: ScopeEntry[] = [];
  const visit = (n: PgNode) => {
    switch (kindOf(n)) {
      case 'RangeVar':
        entries.push(rangeVar(ctx, n));
        return;
      case 'JoinExpr': {
        const j = nodeAs(n, 'JoinExpr')!;
        const onTrue = j.quals && nodeAs(j.quals, 'A_Const')?.boolval?.boolval === true;
        if (j.jointype !== 'JOIN_INNER' || j.isNatural || j.usingClause || (j.quals && !onTrue)) {
          throw ctx.at.unsupported(
            "explicit JOIN conditions are not supported: query a view, or CROSS JOIN cubes and the model's join is used",
            j.quals ?? j.larg,
            'Views expose members of several cubes as one table.',
          );
        }
        visit(j.larg!);
        visit(j.rarg!);
        return;
      }
      case 'RangeSubselect': {
        if (from.length !== 1) throw ctx.at.unsupported('a subquery in FROM cannot be combined with other tables', n);
        if (nodeAs(n, 'RangeSubselect')!.lateral) throw ctx.at.unsupported('LATERAL is not supported', n);
        entries.push(subquery(ctx, n, parts));
        return;
      }
      case 'RangeFunction':
        throw ctx.at.unsupported('functions in FROM are not supported over cubes', n);
      default:
        throw ctx.at.unsupported(`${kindOf(n)} in FROM is not supported`, n);
    }
  };
  for (const f of from) visit(f);
  const cubes = entries.filter((e) => e.cube).map((e) => e.cube!);
  if (cubes.length > 1) checkJoinable(ctx, cubes, from);
  return entries;
}

function rangeVar(ctx: Ctx, n: PgNode): ScopeEntry {
  const rv = nodeAs(n, 'RangeVar')!;
  const relname = rv.relname!;
  const loc = rv.location;
  if (rv.schemaname && rv.schemaname !== 'public') {
    throw ctx.at.error(SQLSTATE.UNDEFINED_TABLE, `relation "${rv.schemaname}.${relname}" does not exist`, loc);
  }
  const cube = ctx.opts.catalog.find((c) => c.name === relname);
  if (!cube) {
    const s = suggest(
      relname,
      ctx.opts.catalog.map((c) => c.name),
    );
    throw ctx.at.error(SQLSTATE.UNDEFINED_TABLE, `relation "${relname}" does not exist`, loc, s ? `Perhaps you meant "${s}".` : undefined);
  }
  const columns = new Map<string, Raw>();
  const order: string[] = [];
  for (const col of tableColumns(cube)) {
    columns.set(col.name, { kind: 'column', cube, member: col.member });
    order.push(col.name);
  }
  return { qualifier: rv.alias?.aliasname ?? relname, table: relname, cube, columns, order };
}

function subquery(ctx: Ctx, n: PgNode, outerParts: Parts): ScopeEntry {
  const sub = nodeAs(n, 'RangeSubselect')!;
  const alias = sub.alias?.aliasname ?? 'subquery';
  const s = nodeAs(sub.subquery, 'SelectStmt');
  if (!s) throw ctx.at.unsupported('only SELECT subqueries are supported in FROM', n);
  const transparent = !isAggregated(s) && !s.limitCount && !s.limitOffset && !s.distinctClause?.length && !s.havingClause && (s.fromClause?.length ?? 0) > 0;
  const columns = new Map<string, Raw>();
  const order: string[] = [];
  if (transparent) {
    // A projection of cube columns: its names become aliases, its WHERE joins the outer query.
    refuseUnsupportedClauses(ctx, s);
    const scope = fromClause(ctx, s.fromClause!, outerParts);
    for (const target of s.targetList ?? []) {
      const rt = nodeAs(target, 'ResTarget')!;
      const val = rt.val!;
      if (isStar(val)) {
        for (const { name, raw } of star(ctx, val, scope)) {
          columns.set(name, raw);
          order.push(name);
        }
        continue;
      }
      const name = rt.name ?? figureName(val);
      columns.set(name, rawOf(ctx, val, scope));
      order.push(name);
    }
    if (s.whereClause) applyCondition(ctx, s.whereClause, scope, 'where', outerParts);
    return { qualifier: alias, table: alias, columns, order };
  }
  // An aggregated subquery: the outer query may only project, filter, order and limit it.
  const inner = selectStatement(ctx, s);
  Object.assign(outerParts, inner.parts);
  for (const { name, item } of inner.columns) {
    columns.set(name, { kind: 'resolved', item });
    order.push(name);
  }
  return { qualifier: alias, table: alias, columns, order };
}

/** Every cube must be reachable from the first through the model's joins; views join nothing. */
function checkJoinable(ctx: Ctx, cubes: CatalogCube[], from: PgNode[]): void {
  const view = cubes.find((c) => c.kind === 'view');
  if (view) throw ctx.at.unsupported(`view "${view.name}" cannot be joined with other tables`, from[0]);
  const names = new Set(cubes.map((c) => c.name));
  const adjacent = new Map<string, Set<string>>();
  for (const c of ctx.opts.catalog) {
    for (const j of c.joins) {
      if (!adjacent.has(c.name)) adjacent.set(c.name, new Set());
      if (!adjacent.has(j.target)) adjacent.set(j.target, new Set());
      adjacent.get(c.name)!.add(j.target);
      adjacent.get(j.target)!.add(c.name);
    }
  }
  const seen = new Set<string>([cubes[0].name]);
  const queue = [cubes[0].name];
  while (queue.length) {
    for (const next of adjacent.get(queue.shift()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  const unreachable = [...names].find((n) => !seen.has(n));
  if (unreachable) throw ctx.at.unsupported(`the model defines no join between "${cubes[0].name}" and "${unreachable}"`, from[0]);
}
