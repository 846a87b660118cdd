/**
 * SUM(CASE WHEN <dimensions> THEN <measure> ELSE 0 END) — Metabase's SumIf/CountIf, Superset's
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
  if ((fn !== 'sum' && fn !== 'count') || fc.agg_distinct || fc.agg_filter || fc.args?.length !== 1) return undefined;
  const caseExpr = nodeAs(fc.args[0], 'CaseExpr');
  if (!caseExpr) return undefined;
  const whens = (caseExpr.args ?? []).map((w) => nodeAs(w, 'CaseWhen')!);
  const conditions = [caseExpr.arg, ...whens.map((w) => w.expr)].filter((c): c is PgNode => Boolean(c));
  const refs = new Map<string, { key: string; time: boolean }>();
  const base: ReturnType<typeof rawItem>[] = [];
  for (const cond of conditions) {
    if (aggregateCalls(cond as Node).length) return undefined;
    for (const ref of columnRefs(cond as Node)) {
      const item = rawItem(resolve(ctx, typed(ref), scope));
      if (item.kind !== 'dimension' && item.kind !== 'time') return undefined;
      refs.set(exprKey(ref), { key: itemKey(item), time: item.kind === 'time' || item.type === 'time' });
      base.push(item);
    }
  }
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
  const result = (r: Node | undefined): Node | undefined => {
    const c = r ? nodeAs(r, 'A_Const') : undefined;
    if (!r || c?.isnull) return r ?? { A_Const: { isnull: true } };
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
  const results = whens.map((w) => result(w.result as Node));
  const otherwise = result(caseExpr.defresult as Node | undefined);
  if (results.some((r) => !r) || !otherwise) return undefined;
  for (const [k, v] of refs) state.refs.set(k, v);
  state.base.push(...base);
  const node: Node = {
    CaseExpr: {
      ...caseExpr,
      args: whens.map((w, i) => ({ CaseWhen: { ...w, result: results[i] } })),
      defresult: otherwise,
    },
  };
  return { kind: 'conditional', node, zeroWhenEmpty: fn === 'count' };
}
