/**
 * ORDER BY (output name, ordinal or expression; only what the grouping already has, since ordering
 * by another dimension would change it) and LIMIT/OFFSET, composed over an inner limited subquery.
 */
import type { SelectStmt, SortBy } from 'libpg-query';
import { OID } from '../../pg-types.js';
import { SQLSTATE } from '../../sql-error.js';
import { strings } from '../ast.js';
import { evalValue, toNumber } from '../values.js';
import { type Column, type Ctx, type Item, itemKey, nodeAs, type Parts, type PgNode, type ScopeEntry } from './state.js';
import { exprOrDerived, ordinal } from './targets.js';

/** The ORDER BY entries of a statement. */
export function sortBys(s: SelectStmt): SortBy[] {
  return (s.sortClause ?? []).map((n) => nodeAs(n, 'SortBy')!);
}

/** An ORDER BY key: output names first (Postgres' rule), then ordinals, then expressions. */
export function orderItem(ctx: Ctx, node: PgNode, columns: readonly Column[], scope: ScopeEntry[]): Item {
  const byPosition = ordinal(ctx, node, columns);
  if (byPosition) return byPosition;
  const ref = nodeAs(node, 'ColumnRef');
  if (ref) {
    const fields = strings(ref.fields);
    // ORDER BY resolves output names first.
    if (fields.length === 1) {
      const out = columns.filter((c) => c.name === fields[0]);
      if (out.length > 1) throw ctx.at.error(SQLSTATE.AMBIGUOUS_COLUMN, `ORDER BY "${fields[0]}" is ambiguous`, node);
      if (out.length === 1) return out[0].item;
    }
  }
  return exprOrDerived(ctx, node, scope, 'order');
}

/** Plain-mode ORDER BY into the semantic query's order. */
export function applyOrder(ctx: Ctx, s: SelectStmt, columns: readonly Column[], scope: ScopeEntry[], parts: Parts, aggregated: boolean): void {
  for (const by of sortBys(s)) {
    const node = by.node!;
    if (by.sortby_dir === 'SORTBY_USING') throw ctx.at.unsupported('ORDER BY ... USING is not supported', node);
    const item = orderItem(ctx, node, columns, scope);
    if (item.kind === 'constant') continue;
    if (item.kind === 'segment') throw ctx.at.unsupported('cannot order by a segment column', node);
    if (item.kind === 'derived') throw ctx.at.unsupported('this ORDER BY expression is not supported', node);
    const key = itemKey(item);
    if (item.kind === 'measure') {
      if (!parts.measures.includes(item.path)) parts.measures.push(item.path);
    } else if (!parts.dimensions.includes(key) && !parts.timeDimensions.some((t) => `${t.dimension}.${t.granularity}` === key)) {
      if (aggregated) throw ctx.at.error(SQLSTATE.GROUPING, `ORDER BY expression must appear in the GROUP BY clause`, node);
      throw ctx.at.unsupported('ORDER BY a dimension that is not selected would change the grouping; select it too', node);
    }
    parts.order.push([item.path, by.sortby_dir === 'SORTBY_DESC' ? 'desc' : 'asc']);
  }
}

export function limitOffset(ctx: Ctx, s: SelectStmt, parts: Parts): void {
  if (s.limitOption === 'LIMIT_OPTION_WITH_TIES') throw ctx.at.unsupported('FETCH ... WITH TIES is not supported', s.limitCount);
  const count = s.limitCount ? intValue(ctx, s.limitCount, 'LIMIT', '2201W') : undefined;
  const offset = s.limitOffset ? intValue(ctx, s.limitOffset, 'OFFSET', '2201X') : undefined;
  if (parts.limit !== undefined && (count !== undefined || offset !== undefined)) {
    // Outer LIMIT/OFFSET over an inner limited subquery.
    const innerLimit = parts.limit;
    const skip = offset ?? 0;
    parts.offset = (parts.offset ?? 0) + skip;
    parts.limit = Math.max(0, Math.min(innerLimit - skip, count ?? Infinity));
  } else {
    if (count !== undefined) parts.limit = count;
    if (offset !== undefined) parts.offset = (parts.offset ?? 0) + offset;
  }
  if (parts.limit === 0) parts.empty = true;
}

/** LIMIT/OFFSET value: NULL (LIMIT ALL) or an unbound parameter means none. */
function intValue(ctx: Ctx, node: PgNode, what: string, code: string): number | undefined {
  const v = toNumber(evalValue(node, ctx.vctx, OID.int8), ctx.vctx, node);
  if (v.t === 'null') return undefined;
  if (v.t === 'unknown') return undefined;
  if (v.t !== 'number' || !Number.isInteger(v.v)) throw ctx.at.error(SQLSTATE.INVALID_TEXT, `${what} must be an integer`, node);
  if (v.v < 0) throw ctx.at.error(code, `${what} must not be negative`, node);
  return v.v;
}
