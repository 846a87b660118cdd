/**
 * Post mode (see derived.ts): an expression the plain mapping refuses becomes a derived item whose
 * column references and aggregate calls register the members underneath; postPlan then asks for
 * those members and leaves expressions, HAVING, ORDER BY and LIMIT to `finish` over the rows.
 */
import type { SelectStmt } from 'libpg-query';
import { OID } from '../../pg-types.js';
import { type Node, plainName } from '../ast.js';
import { type AggSpec, inferOid, keyNode, type PostColumn, type PostPlan } from '../derived.js';
import { aggregateCalls, columnRefs, exprKey, unsupportedCall } from '../post.js';
import { conditionalSpec } from './conditional.js';
import { rowValue } from './row-grain.js';
import { limitOffset, orderItem, sortBys } from './order-limit.js';
import { countItem, memberOf, resolve, scopeCubes } from './scope.js';
import {
  addItem,
  type Column,
  type Ctx,
  type Item,
  itemKey,
  mergeOf,
  nodeAs,
  type Parts,
  type PgNode,
  type PostState,
  type ScopeEntry,
  type Selected,
  typed,
} from './state.js';
import { aggregate, rawItem } from './targets.js';

/** An expression finished over the loaded rows: registers its dimensions and aggregates in `state`. */
export function derive(ctx: Ctx, node: PgNode, scope: ScopeEntry[], state: PostState): Item {
  const bad = unsupportedCall(node);
  if (bad) throw ctx.at.unsupported('this function is not supported over cube columns', bad);
  const aggs = aggregateCalls(node);
  const oids = new Map<string, number>();
  for (const ref of columnRefs(node)) {
    const item = rawItem(resolve(ctx, typed(ref), scope));
    if (item.kind === 'measure' && ctx.rowGrain) {
      state.base.push(...rowValue(ctx, item, typed(ref), scope));
      state.refs.set(exprKey(ref), { key: item.path, time: false });
      oids.set(exprKey(ref), item.oid);
      continue;
    }
    if (item.kind !== 'dimension' && item.kind !== 'time')
      throw ctx.at.unsupported('only dimension columns may appear outside aggregates in an expression', ref);
    state.refs.set(exprKey(ref), { key: itemKey(item), time: item.kind === 'time' || item.type === 'time' });
    state.base.push(item);
    oids.set(exprKey(ref), item.oid);
  }
  for (const call of aggs) state.aggs.set(exprKey(call), aggSpec(ctx, typed(call), scope, state));
  const oid = inferOid(node, (ref) => {
    const known = oids.get(exprKey(ref));
    if (known !== undefined) return known;
    const item = rawItem(resolve(ctx, typed(ref), scope));
    return item.kind === 'segment' ? OID.bool : item.oid;
  });
  return { kind: 'derived', key: exprKey(node), node, aggregated: aggs.length > 0, oid };
}

/** What an aggregate call inside an expression reads: a measure, SUM/COUNT, or an aggregate of a dimension. */
function aggSpec(ctx: Ctx, call: PgNode, scope: ScopeEntry[], state: PostState): AggSpec {
  const fc = nodeAs(call, 'FuncCall')!;
  const fn = plainName(fc.funcname);
  const args = fc.args ?? [];
  const measureSpec = (item: Item): AggSpec => {
    if (item.kind !== 'measure') throw ctx.at.unsupported(`${fn}() is not supported here`, call);
    state.base.push(item);
    const m = memberOf(item.path, scope);
    return { kind: 'measure', key: item.path, merge: mergeOf(m?.aggType), name: m?.name ?? item.path, count: m?.aggType === 'count' };
  };
  try {
    return measureSpec(aggregate(ctx, call, scope));
  } catch (e) {
    // With FILTER only the conditional form is exact (every other reading would drop the filter).
    if (fc.agg_filter) {
      const filtered = conditionalSpec(ctx, fn, fc, scope, state);
      if (filtered) return filtered;
      throw e;
    }
    const arg = args[0];
    const isOne = nodeAs(arg, 'A_Const')?.ival?.ival === 1;
    if (((fn === 'count' && !fc.agg_distinct) || fn === 'sum') && isOne) return measureSpec(countItem(ctx, scope, call));
    if (nodeAs(arg, 'ColumnRef')) {
      const item = rawItem(resolve(ctx, arg, scope));
      if ((item.kind === 'dimension' || item.kind === 'time') && (fn === 'min' || fn === 'max' || (fn === 'count' && fc.agg_distinct))) {
        state.base.push(item);
        return { kind: 'dimension', fn: fn === 'count' ? 'count_distinct' : fn, key: itemKey(item), time: item.kind === 'time' || item.type === 'time' };
      }
      const m = item.kind === 'measure' ? memberOf(item.path, scope) : undefined;
      if (fn === 'avg' && m?.aggType === 'sum' && !fc.agg_distinct) {
        const count = countItem(ctx, scope, call);
        state.base.push(item, count);
        return { kind: 'ratio', sum: m.path, count: itemKey(count) };
      }
    }
    const conditional = conditionalSpec(ctx, fn, fc, scope, state);
    if (conditional) return conditional;
    throw e;
  }
}

/** Post mode: ask for the members underneath, finish expressions, HAVING, ORDER BY and LIMIT over the rows. */
export function postPlan(
  ctx: Ctx,
  s: SelectStmt,
  scope: ScopeEntry[],
  parts: Parts,
  columns: Column[],
  aggregated: boolean,
  state: PostState,
): Selected & { post: PostPlan } {
  const toColumn = (item: Item): PostColumn => {
    switch (item.kind) {
      case 'dimension':
      case 'time':
        return { kind: 'key', key: itemKey(item), time: item.kind === 'time' || item.type === 'time', group: true };
      case 'measure': {
        const m = memberOf(item.path, scope);
        state.aggs.set(exprKey(keyNode(item.path)), {
          kind: 'measure',
          key: item.path,
          merge: mergeOf(m?.aggType),
          name: m?.name ?? item.path,
          count: m?.aggType === 'count',
        });
        return { kind: 'key', key: item.path, time: false, group: false };
      }
      case 'constant':
        return { kind: 'constant', value: item.value };
      case 'segment':
        return { kind: 'constant', value: null };
      case 'derived':
        return { kind: 'expr', node: item.node, aggregated: item.aggregated };
    }
  };
  const post: { -readonly [K in keyof PostPlan]: PostPlan[K] } = {
    columns: columns.map((c) => toColumn(c.item)),
    refs: state.refs,
    aggs: state.aggs,
    order: [],
  };
  const rowFilters: Node[] = ctx.rowFilters;
  if (rowFilters.length) post.where = rowFilters.length === 1 ? rowFilters[0] : { BoolExpr: { boolop: 'AND_EXPR', args: rowFilters } };
  if (s.havingClause) {
    derive(ctx, s.havingClause, scope, state);
    post.having = s.havingClause;
  }
  post.order = sortBys(s).flatMap((by) => {
    const item = orderItem(ctx, by.node!, columns, scope);
    if (item.kind === 'constant') return [];
    return [
      {
        column: toColumn(item),
        desc: by.sortby_dir === 'SORTBY_DESC',
        nullsFirst: by.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : by.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : undefined,
      },
    ];
  });
  for (const item of [...columns.map((c) => c.item), ...state.base]) if (item.kind !== 'derived') addItem(parts, item);
  for (const a of state.aggs.values()) {
    if (a.kind === 'measure') addItem(parts, { kind: 'measure', path: a.key, oid: OID.numeric, type: 'number' });
  }
  if (aggregated && !parts.dimensions.length && !parts.timeDimensions.length) {
    const cubes = scopeCubes(scope);
    const count =
      cubes.length === 1
        ? (cubes[0].measures.find((m) => m.aggType === 'count' && m.name === 'count') ?? cubes[0].measures.find((m) => m.aggType === 'count'))
        : undefined;
    if (count) {
      addItem(parts, { kind: 'measure', path: count.path, oid: OID.int8, type: 'number' });
      post.rowCount = count.path;
    }
  }
  limitOffset(ctx, s, parts);
  post.limit = parts.limit;
  post.offset = parts.offset;
  parts.limit = undefined;
  parts.offset = undefined;
  parts.order = [];
  return { parts, columns, aggregated, post };
}
