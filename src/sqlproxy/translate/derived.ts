/**
 * The select-list, GROUP BY and ORDER BY expressions the plain mapping cannot express as members
 * (epoch buckets, week starts, date parts, ratios of aggregates, CASE...). The translator asks the
 * query service for the members underneath at their own grain (`base` dimensions, measures); the
 * `finish` step (post.ts) evaluates the expressions per row, regroups, filters HAVING and orders.
 */
import { STRING_FUNCTIONS, stringFunctionOid } from './string-functions.js';
import type { CellValue } from '../../query/types.js';
import { OID } from '../pg-types.js';
import { SqlError, SQLSTATE } from '../sql-error.js';
import { type Node, kindOf, plainName } from './ast.js';
import { castOid, type Value, type ValueContext } from './values.js';
import { cellValue, compare, evalRow, exprKey, merge, type Merge, type Row, valueCell } from './post.js';

/** What an aggregate call inside a derived expression reads. */
export type AggSpec =
  | { readonly kind: 'measure'; readonly key: string; readonly merge: Merge; readonly name: string; readonly count: boolean }
  /** AVG of a sum measure over fact rows = SUM / row count. */
  | { readonly kind: 'ratio'; readonly sum: string; readonly count: string }
  /** SUM/COUNT of a CASE over dimensions choosing additive measures (select/conditional.ts), summed over the base rows. */
  | { readonly kind: 'conditional'; readonly node: Node; readonly zeroWhenEmpty: boolean }
  /** MIN/MAX/COUNT(DISTINCT) of a dimension, accumulated over the base rows. */
  | { readonly kind: 'dimension'; readonly fn: 'min' | 'max' | 'count_distinct'; readonly key: string; readonly time: boolean };

/** A column of the output: a key of the semantic row, a constant, or an expression. */
export type PostColumn =
  | { readonly kind: 'key'; readonly key: string; readonly time: boolean; readonly group: boolean }
  | { readonly kind: 'constant'; readonly value: CellValue }
  | { readonly kind: 'expr'; readonly node: Node; readonly aggregated: boolean };

export interface PostPlan {
  readonly columns: readonly PostColumn[];
  /** Column references of group expressions, by exprKey of the ColumnRef node -> semantic row key. */
  readonly refs: ReadonlyMap<string, { readonly key: string; readonly time: boolean }>;
  /** Aggregate calls by exprKey. */
  readonly aggs: ReadonlyMap<string, AggSpec>;
  readonly having?: Node;
  /** Conditions over each loaded row, before grouping (case-sensitive LIKE). */
  readonly where?: Node;
  /** A row-count measure read alongside: over no fact rows, other aggregates are NULL (Postgres), counts 0. */
  readonly rowCount?: string;
  readonly order: readonly { readonly column: PostColumn; readonly desc: boolean; readonly nullsFirst?: boolean }[];
  readonly limit?: number;
  readonly offset?: number;
}

/** Postgres' static result type of an expression (RowDescription is sent before any row). */
export function inferOid(node: Node, columnOid: (ref: Node) => number): number {
  switch (kindOf(node)) {
    case 'ColumnRef':
      return columnOid(node);
    case 'A_Const': {
      const c = node.A_Const;
      if (c.ival || 'ival' in c) return OID.int4;
      if (c.fval) return OID.numeric;
      if (c.boolval || 'boolval' in c) return OID.bool;
      return OID.text;
    }
    case 'TypeCast': {
      const type = plainName(node.TypeCast.typeName.names).replace(/^pg_catalog\./, '');
      if (type === 'int4' || type === 'integer' || type === 'int2' || type === 'smallint') return OID.int4;
      return castOid(type) ?? OID.text;
    }
    case 'FuncCall': {
      const fn = plainName(node.FuncCall.funcname).replace(/^pg_catalog\./, '');
      const args: Node[] = node.FuncCall.args ?? [];
      if (fn === 'count') return OID.int8;
      if (fn === 'date_trunc') return OID.timestamp;
      if (fn === 'to_char') return OID.text;
      if (STRING_FUNCTIONS.has(fn)) return stringFunctionOid(fn);
      if ((fn === 'min' || fn === 'max' || fn === 'coalesce' || fn === 'nullif') && args[0]) return inferOid(args[0], columnOid);
      return OID.numeric;
    }
    case 'MinMaxExpr':
      return inferOid(node.MinMaxExpr.args[0], columnOid);
    case 'CoalesceExpr':
      return inferOid(node.CoalesceExpr.args[0], columnOid);
    case 'CaseExpr': {
      const first = node.CaseExpr.args?.[0]?.CaseWhen?.result;
      const r = first && kindOf(first) === 'A_Const' && first.A_Const.isnull ? node.CaseExpr.defresult : first;
      return r ? inferOid(r, columnOid) : OID.text;
    }
    case 'NullTest':
    case 'BoolExpr':
      return OID.bool;
    case 'A_Expr': {
      const e = node.A_Expr;
      const op = plainName(e.name);
      if (e.kind === 'AEXPR_NULLIF') return inferOid(e.lexpr ?? e.rexpr[0], columnOid);
      if (['=', '<>', '!=', '<', '<=', '>', '>='].includes(op)) return OID.bool;
      if (op === '||') return OID.text;
      const l = e.lexpr ? inferOid(e.lexpr, columnOid) : OID.numeric;
      const r = inferOid(e.rexpr, columnOid);
      if (l === OID.timestamp || r === OID.timestamp || l === OID.date || r === OID.date) return OID.timestamp;
      if (op === '/' || l === OID.numeric || r === OID.numeric) return OID.numeric;
      return l === OID.int8 || r === OID.int8 ? OID.int8 : l;
    }
    default:
      return OID.text;
  }
}

type Group = {
  sample: Row;
  measures: Record<string, CellValue>;
  dims: Map<string, { set: Set<string>; min?: CellValue; max?: CellValue }>;
  /** Running sums of conditional aggregates, by exprKey (absent: no non-NULL value yet). */
  sums: Map<string, number>;
  rows: number;
};

/** Evaluates, regroups, filters (HAVING), orders and limits. Output rows are keyed "c0", "c1", ... */
export function finish(plan: PostPlan, rows: readonly Row[], ctx: ValueContext): Row[] {
  const groupCols = plan.columns.map((c, i) => ({ c, i })).filter(({ c }) => (c.kind === 'key' && c.group) || (c.kind === 'expr' && !c.aggregated));
  const measures = [...plan.aggs.values()].flatMap((a) =>
    a.kind === 'measure'
      ? [{ key: a.key, merge: a.merge, name: a.name }]
      : a.kind === 'ratio'
        ? [
            { key: a.sum, merge: 'sum' as Merge, name: a.sum },
            { key: a.count, merge: 'sum' as Merge, name: a.count },
          ]
        : [],
  );
  const dimAggs = [...plan.aggs.values()].filter((a): a is Extract<AggSpec, { kind: 'dimension' }> => a.kind === 'dimension');
  const conditionals = [...plan.aggs.entries()].filter((e): e is [string, Extract<AggSpec, { kind: 'conditional' }>] => e[1].kind === 'conditional');
  const rowEnv = (row: Row) => ({
    column: (ref: Node): Value => {
      const r = plan.refs.get(exprKey(ref));
      if (!r) throw new SqlError(SQLSTATE.GROUPING, 'a column of this expression must appear in the GROUP BY clause or be used in an aggregate function');
      return cellValue(row[r.key], r.time, ctx);
    },
    aggregate: (): Value => {
      throw new SqlError(SQLSTATE.GROUPING, 'aggregate functions are not allowed here');
    },
  });
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const env = rowEnv(row);
    if (plan.where) {
      const w = evalRow(plan.where, env, ctx);
      if (!(w.t === 'bool' && w.v)) continue;
    }
    const keyParts = groupCols.map(({ c }) => (c.kind === 'key' ? row[c.key] : c.kind === 'expr' ? valueCell(evalRow(c.node, env, ctx)) : null));
    const k = JSON.stringify(keyParts);
    let g = groups.get(k);
    if (!g) {
      g = { sample: row, measures: {}, dims: new Map(), sums: new Map(), rows: 0 };
      groups.set(k, g);
    }
    g.rows++;
    for (const m of measures) {
      if (g.rows > 1 && m.merge === 'none') {
        throw new SqlError(
          SQLSTATE.NOT_SUPPORTED,
          `measure "${m.name}" cannot be re-aggregated over this grouping expression (it is not additive); group by a column or a date_trunc() of one`,
        );
      }
      g.measures[m.key] = g.rows === 1 ? (row[m.key] ?? null) : merge(m.merge, g.measures[m.key], row[m.key] ?? null);
    }
    for (const [key, c] of conditionals) {
      const v = evalRow(c.node, env, ctx);
      if (v.t === 'null') continue;
      if (v.t !== 'number') throw new SqlError(SQLSTATE.DATATYPE_MISMATCH, 'function sum(text) does not exist');
      g.sums.set(key, (g.sums.get(key) ?? 0) + v.v);
    }
    for (const d of dimAggs) {
      const v = row[d.key] ?? null;
      const acc = g.dims.get(d.key) ?? { set: new Set<string>() };
      if (v !== null) {
        acc.set.add(String(v));
        if (acc.min === undefined || String(v) < String(acc.min)) acc.min = v;
        if (acc.max === undefined || String(v) > String(acc.max)) acc.max = v;
      }
      g.dims.set(d.key, acc);
    }
  }
  // An aggregate without GROUP BY over no rows is one row (SUM NULL, COUNT 0), as in Postgres.
  if (!groups.size && !groupCols.length) groups.set('[]', { sample: {}, measures: {}, dims: new Map(), sums: new Map(), rows: 0 });
  const noFacts = (g: Group) => !g.rows || (plan.rowCount !== undefined && Number(g.sample[plan.rowCount] ?? 0) === 0 && !groupCols.length);
  const out: { values: Value[]; order: Value[] }[] = [];
  for (const g of groups.values()) {
    const base = rowEnv(g.sample);
    const env = {
      column: base.column,
      aggregate: (node: Node): Value => {
        const a = plan.aggs.get(exprKey(node));
        if (!a) throw new SqlError(SQLSTATE.NOT_SUPPORTED, `aggregate ${plainName(node.FuncCall.funcname)}() is not supported here`);
        if (a.kind === 'measure') return cellValue(noFacts(g) ? (a.count ? 0 : null) : g.measures[a.key], false, ctx);
        if (a.kind === 'ratio') {
          const s = g.measures[a.sum];
          const n = Number(g.measures[a.count] ?? 0);
          return s === null || s === undefined || !n ? { t: 'null' } : { t: 'number', v: Number(s) / n };
        }
        if (a.kind === 'conditional') {
          const sum = g.sums.get(exprKey(node));
          return sum === undefined ? (a.zeroWhenEmpty ? { t: 'number', v: 0 } : { t: 'null' }) : { t: 'number', v: sum };
        }
        const acc = g.dims.get(a.key);
        if (a.fn === 'count_distinct') return { t: 'number', v: acc?.set.size ?? 0 };
        const v = a.fn === 'min' ? acc?.min : acc?.max;
        return cellValue(v ?? null, a.time, ctx);
      },
    };
    const value = (c: PostColumn): Value =>
      c.kind === 'key'
        ? c.group
          ? cellValue(g.sample[c.key], c.time, ctx)
          : env.aggregate(keyNode(c.key))
        : c.kind === 'constant'
          ? cellValue(c.value, false, ctx)
          : evalRow(c.node, env, ctx);
    if (plan.having) {
      const h = evalRow(plan.having, env, ctx);
      if (!(h.t === 'bool' && h.v)) continue;
    }
    out.push({ values: plan.columns.map(value), order: plan.order.map((o) => value(o.column)) });
  }
  if (plan.order.length) {
    out.sort((a, b) => {
      for (let i = 0; i < plan.order.length; i++) {
        const o = plan.order[i];
        const x = a.order[i];
        const y = b.order[i];
        const nullsFirst = o.nullsFirst ?? o.desc;
        if (x.t === 'null' || y.t === 'null') {
          if (x.t === y.t) continue;
          return (x.t === 'null') === nullsFirst ? -1 : 1;
        }
        const c = compare(x, y);
        if (c) return o.desc ? -c : c;
      }
      return 0;
    });
  }
  const start = plan.offset ?? 0;
  const sliced = out.slice(start, plan.limit === undefined ? undefined : start + plan.limit);
  return sliced.map((r) => Object.fromEntries(r.values.map((v, i) => [`c${i}`, valueCell(v)])) as Row);
}

/** A measure column selected plainly reads like MEASURE(col): registered in aggs under this key. */
export function keyNode(key: string): Node {
  return { FuncCall: { funcname: [{ String: { sval: 'measure' } }], args: [{ A_Const: { sval: { sval: key } } }] } };
}
