/**
 * SUM(CASE WHEN <dimensions> THEN <measure> ELSE 0 END) and SUM(<measure>) FILTER (WHERE <dimensions>)
 * — Metabase's SumIf/CountIf, Superset's
 * custom metrics — is exact at the grain of the dimensions the conditions read: a sum measure summed
 * over those rows equals its sum over the fact rows that match, and a constant c per fact row is c
 * times the row count. COUNT(CASE WHEN <dimensions> THEN <constant> END) is the matching row count.
 * Anything else (a condition on a measure, a non-additive measure, a column in COUNT) is refused by
 * the caller's own error.
 */
import type { FuncCall } from 'libpg-query';
import type { AggSpec } from '../derived.js';
import { aggregateCalls, columnRefs, exprKey } from '../post.js';
import { countItem, memberOf, resolve } from './scope.js';
import { type Ctx, itemKey, nodeAs, type PgNode, type PostState, type ScopeEntry, typed } from './state.js';
import { rawItem } from './targets.js';
import type { Node } from '../ast.js';

const ADDITIVE = new Set(['sum', 'count']);

export function conditionalSpec(ctx: Ctx, fn: string, fc: FuncCall, scope: ScopeEntry[], state: PostState): AggSpec | undefined {
  if ((fn !== 'sum' && fn !== 'count') || fc.agg_distinct || fc.agg_order?.length) return undefined;
  // FILTER (WHERE cond) is CASE WHEN cond THEN <argument> END; COUNT(*) counts a constant.
  let arg: Node | undefined = fc.agg_star && fn === 'count' ? { A_Const: { ival: { ival: 1 } } } : fc.args?.length === 1 ? (fc.args[0] as Node) : undefined;
  if (!arg) return undefined;
  if (fc.agg_filter) arg = { CaseExpr: { args: [{ CaseWhen: { expr: fc.agg_filter, result: arg } }] } };
  if (!nodeAs(arg, 'CaseExpr')) return undefined;
  const refs = new Map<string, { key: string; time: boolean }>();
  const base: ReturnType<typeof rawItem>[] = [];
  const dimensionsOnly = (cond: PgNode): boolean => {
    if (aggregateCalls(cond as Node).length) return false;
    for (const ref of columnRefs(cond as Node)) {
      const item = rawItem(resolve(ctx, typed(ref), scope));
      if (item.kind !== 'dimension' && item.kind !== 'time') return false;
      refs.set(exprKey(ref), { key: itemKey(item), time: item.kind === 'time' || item.type === 'time' });
      base.push(item);
    }
    return true;
  };
  let count: Node | undefined;
  const countRef = (): Node => {
    if (!count) {
      const item = countItem(ctx, scope, typed(fc as Node));
      count = { ColumnRef: { fields: [{ String: { sval: `\u0000count:${item.path}` } }] } };
      refs.set(exprKey(count), { key: item.path, time: false });
      base.push(item);
    }
    return count;
  };
  /** A branch's value per row of the grain: NULL, a constant (times the row count), an additive measure, or a nested CASE of those. */
  const result = (r: Node | undefined): Node | undefined => {
    const c = r ? nodeAs(r, 'A_Const') : undefined;
    if (!r || c?.isnull) return r ?? { A_Const: { isnull: true } };
    const nested = nodeAs(r, 'CaseExpr');
    if (nested) {
      const whens = (nested.args ?? []).map((w) => nodeAs(w, 'CaseWhen')!);
      const conditions = [nested.arg, ...whens.map((w) => w.expr)].filter((x): x is PgNode => Boolean(x));
      if (!conditions.every(dimensionsOnly)) return undefined;
      const results = whens.map((w) => result(w.result as Node));
      const otherwise = result(nested.defresult as Node | undefined);
      if (results.some((x) => !x) || !otherwise) return undefined;
      return { CaseExpr: { ...nested, args: whens.map((w, i) => ({ CaseWhen: { ...w, result: results[i] } })), defresult: otherwise } };
    }
    if (c && (c.ival !== undefined || c.fval !== undefined)) {
      const zero = c.fval ? Number(c.fval.fval) === 0 : !c.ival?.ival;
      if (fn === 'count') return countRef();
      return zero ? r : { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '*' } }], lexpr: r, rexpr: countRef() } };
    }
    if (fn === 'count' || !nodeAs(r, 'ColumnRef')) return undefined;
    const item = rawItem(resolve(ctx, typed(r), scope));
    if (item.kind !== 'measure') return undefined;
    const m = memberOf(item.path, scope);
    if (!m?.aggType || !ADDITIVE.has(m.aggType)) return undefined;
    refs.set(exprKey(r), { key: item.path, time: false });
    base.push(item);
    return r;
  };
  const node = result(arg);
  if (!node) return undefined;
  for (const [k, v] of refs) state.refs.set(k, v);
  state.base.push(...base);
  return { kind: 'conditional', node, zeroWhenEmpty: fn === 'count' };
}
