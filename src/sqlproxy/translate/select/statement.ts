/**
 * One SELECT statement, clause by clause: FROM (scope), select list, WHERE, GROUP BY, then either
 * the plain mapping (HAVING, ORDER BY, LIMIT) or, at the top level, post mode (post-plan.ts).
 * Subqueries in FROM recurse here through from.ts.
 */
import type { SelectStmt } from 'libpg-query';
import { SQLSTATE } from '../../sql-error.js';
import { type Node, kindOf, plainName, strings } from '../ast.js';
import { fromClause } from './from.js';
import { applyOrder, limitOffset, orderItem, sortBys } from './order-limit.js';
import { postPlan } from './post-plan.js';
import {
  AGGREGATES,
  addItem,
  type Column,
  type Ctx,
  type Item,
  itemKey,
  nodeAs,
  type Parts,
  type PgNode,
  type PostState,
  type ScopeEntry,
  type Selected,
} from './state.js';
import { groupsByMeasureValue } from './row-grain.js';
import { exprOrDerived, ordinal, selectList } from './targets.js';
import { applyCondition } from './where.js';

/** Translates a SELECT; only the top-level one may use post mode (derived expressions, row filters). */
export function selectStatement(ctx: Ctx, s: SelectStmt, top = false): Selected {
  refuseUnsupportedClauses(ctx, s);
  const outerState = ctx.state;
  const state: PostState = { refs: new Map(), aggs: new Map(), base: [] };
  ctx.state = top ? state : undefined;
  try {
    return selectIn(ctx, s, top, state);
  } finally {
    ctx.state = outerState;
  }
}

function selectIn(ctx: Ctx, s: SelectStmt, top: boolean, state: PostState): Selected {
  const from = s.fromClause ?? [];
  if (!from.length) throw ctx.at.unsupported('a query without FROM cannot be mixed with cube tables');
  const parts: Parts = { measures: [], dimensions: [], timeDimensions: [], segments: [], filters: [], order: [], empty: false };
  const scope = fromClause(ctx, from, parts);
  if ((parts.limit !== undefined || parts.offset) && (s.whereClause || s.sortClause?.length || s.havingClause)) {
    throw ctx.at.unsupported('filtering or ordering over a subquery that has LIMIT/OFFSET is not supported', s.whereClause ?? sortBys(s)[0]?.node);
  }
  if (s.sortClause?.length) parts.order = [];
  const aggregated = isAggregated(s);
  const wrapper = scope.length === 1 && scope[0].columns.size > 0 && [...scope[0].columns.values()].some((r) => r.kind === 'resolved');
  if (wrapper && aggregated) {
    throw ctx.at.unsupported('aggregating over an aggregated subquery is not supported; aggregate in one SELECT', s.groupClause?.[0] ?? s.targetList?.[0]);
  }

  if (top) ctx.rowGrain = groupsByMeasureValue(ctx, s, scope);
  const columns = selectList(ctx, s.targetList, scope);

  // WHERE: a case-sensitive LIKE may add a row filter, which needs the scope (top level only).
  ctx.scopeForRowFilter = top ? scope : undefined;
  if (s.whereClause) applyCondition(ctx, s.whereClause, scope, 'where', parts);
  ctx.scopeForRowFilter = undefined;

  const { grouped, groupDerived } = groupBy(ctx, s, columns, scope, parts);
  for (const c of columns) {
    if (
      aggregated &&
      (c.item.kind === 'dimension' || c.item.kind === 'time' || (c.item.kind === 'derived' && !c.item.aggregated)) &&
      !grouped.has(itemKey(c.item))
    ) {
      throw ctx.at.error(SQLSTATE.GROUPING, `column "${c.name}" must appear in the GROUP BY clause or be used in an aggregate function`, c.node);
    }
    addItem(parts, c.item);
  }

  const orderDerived = sortBys(s).some((by) => orderItem(ctx, by.node!, columns, scope).kind === 'derived');
  const derived = columns.some((c) => c.item.kind === 'derived') || groupDerived || orderDerived;
  const noGrouping = top && aggregated && !parts.dimensions.length && !parts.timeDimensions.length && !s.havingClause;
  if (top && (derived || noGrouping || ctx.rowFilters.length)) return postPlan(ctx, s, scope, parts, columns, aggregated, state);
  if (derived) throw ctx.at.unsupported('expressions over cube columns are not supported in a subquery; put them in the outer query', s.targetList?.[0]);

  // HAVING: the WHERE walk with aggregates allowed (measure filters).
  if (s.havingClause) applyCondition(ctx, s.havingClause, scope, 'having', parts);
  applyOrder(ctx, s, columns, scope, parts, aggregated);
  limitOffset(ctx, s, parts);
  return { parts, columns, aggregated };
}

/** GROUP BY items into the parts; returns the grouping keys the select list is checked against. */
function groupBy(ctx: Ctx, s: SelectStmt, columns: Column[], scope: ScopeEntry[], parts: Parts): { grouped: Set<string>; groupDerived: boolean } {
  const grouped = new Set<string>();
  let groupDerived = false;
  for (const g of s.groupClause ?? []) {
    if (kindOf(g) === 'GroupingSet') throw ctx.at.unsupported('GROUPING SETS, ROLLUP and CUBE are not supported', g);
    const item = groupItem(ctx, g, columns, scope);
    if (item.kind === 'measure') throw ctx.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', g);
    if (item.kind === 'segment') throw ctx.at.unsupported('cannot group by a segment column', g);
    if (item.kind === 'constant') continue;
    if (item.kind === 'derived' && item.aggregated) throw ctx.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', g);
    if (item.kind === 'derived') groupDerived = true;
    grouped.add(itemKey(item));
    addItem(parts, item);
  }
  return { grouped, groupDerived };
}

function groupItem(ctx: Ctx, node: PgNode, columns: readonly Column[], scope: ScopeEntry[]): Item {
  const byPosition = ordinal(ctx, node, columns);
  if (byPosition) return byPosition;
  const ref = nodeAs(node, 'ColumnRef');
  if (ref) {
    const fields = strings(ref.fields);
    // Postgres resolves GROUP BY names to input columns first, then output names.
    if (fields.length === 1 && !scope.some((e) => e.columns.has(fields[0]))) {
      const out = columns.find((c) => c.name === fields[0]);
      if (out) return out.item;
    }
  }
  return exprOrDerived(ctx, node, scope, 'group');
}

export function refuseUnsupportedClauses(ctx: Ctx, s: SelectStmt): void {
  if (s.op && s.op !== 'SETOP_NONE') throw ctx.at.unsupported('UNION, INTERSECT and EXCEPT are not supported over cubes', s.larg?.targetList?.[0]);
  // No position: the parse tree's withClause carries no location at the statement start (0 is omitted).
  if (s.withClause) throw ctx.at.unsupported('WITH (common table expressions) is not supported over cubes; use a subquery in FROM');
  if (s.intoClause) throw ctx.at.unsupported('SELECT INTO is not supported');
  if (s.lockingClause?.length) throw ctx.at.unsupported('FOR UPDATE/SHARE is not supported (the SQL interface is read-only)');
  if (s.windowClause?.length) throw ctx.at.unsupported('window functions are not supported');
  if (s.valuesLists?.length) throw ctx.at.unsupported('VALUES is not supported here');
  // Plain DISTINCT parses as one empty node and is accepted; DISTINCT ON lists expressions.
  const distinct = s.distinctClause;
  if (distinct?.length && distinct.some((d) => Object.keys(d).length > 0)) {
    throw ctx.at.unsupported(
      'DISTINCT ON is not supported',
      distinct.find((d) => Object.keys(d).length > 0),
    );
  }
}

/** GROUP BY, HAVING, or an aggregate call in the select list (not inside a nested SELECT or a window). */
export function isAggregated(s: SelectStmt): boolean {
  if (s.groupClause?.length || s.havingClause) return true;
  let found = false;
  const visit = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Node;
    if ('SelectStmt' in o) return; // nested selects have their own aggregation
    if ('FuncCall' in o && AGGREGATES.has(plainName(o.FuncCall.funcname)) && !o.FuncCall.over) {
      found = true;
      return;
    }
    Object.values(o).forEach(visit);
  };
  visit(s.targetList);
  return found;
}
