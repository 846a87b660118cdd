/**
 * GROUP BY ROLLUP / CUBE / GROUPING SETS over cubes (subtotals in BI pivots): one select per grouping
 * set, each an ordinary semantic query — so every subtotal is the measure computed at that grain (a
 * ratio or a distinct count included), not a re-aggregation — combined with UNION ALL. Columns not
 * grouped in a set read NULL there, GROUPING(…) is that set's bit mask, and ORDER BY / LIMIT apply to
 * the combined rows, as in Postgres.
 */
import { SQLSTATE } from '../sql-error.js';
import { type Node, kindOf } from '../translate/ast.js';
import { exprKey } from '../translate/post.js';
import { figureName } from '../translate/select.js';
import { TYPE_NAME } from '../pg-types.js';
import { clone, columnRef, nullConst, parseSelectBody, refNames } from './nodes.js';
import type { ComposeContext } from './types.js';

/** Most grouping sets one statement may expand to (CUBE of n columns is 2^n). */
export const MAX_GROUPING_SETS = 64;

export function hasGroupingSets(s: Node): boolean {
  return (s.groupClause ?? []).some((g: Node) => kindOf(g) === 'GroupingSet');
}

/** `s` as the UNION ALL of one select per grouping set. */
export function expandGroupingSets(s: Node, ctx: ComposeContext): Node {
  if (s.distinctClause) throw ctx.at.unsupported('DISTINCT with GROUPING SETS, ROLLUP or CUBE is not supported');
  const targets: Node[] = s.targetList ?? [];
  // GROUP BY 1 / GROUP BY alias mean the select-list expression.
  const resolveItem = (g: Node): Node => {
    const c = kindOf(g) === 'A_Const' ? g.A_Const : undefined;
    if (c?.ival !== undefined) {
      const n = c.ival.ival ?? 0;
      if (n < 1 || n > targets.length) throw ctx.at.error(SQLSTATE.UNDEFINED_COLUMN, `position ${n} is not in select list`, g);
      return targets[n - 1].ResTarget.val;
    }
    const names = refNames(g);
    if (names?.length === 1) {
      const t = targets.find((x) => x.ResTarget.name === names[0]);
      if (t && kindOf(t.ResTarget.val) !== 'ColumnRef') return t.ResTarget.val;
    }
    return g;
  };
  let sets: Node[][] = [[]];
  for (const g of s.groupClause ?? []) {
    const options = kindOf(g) === 'GroupingSet' ? expand(g, ctx) : [[g]];
    sets = sets.flatMap((acc) => options.map((o) => [...acc, ...o]));
    if (sets.length > MAX_GROUPING_SETS) throw ctx.at.unsupported(`more than ${MAX_GROUPING_SETS} grouping sets`, g);
  }
  const resolved = sets.map((set) => dedupe(set.map(resolveItem)));
  const all = dedupe(resolved.flat());
  const allKeys = new Set(all.map(exprKey));

  // The full grouping gives each column its type: a column left out of a set is a NULL of that type.
  const full: Node = clone(s);
  full.groupClause = all.map(clone);
  full.targetList = targets.map((t) => ({ ResTarget: { ...t.ResTarget, val: replaceGrouping(clone(t.ResTarget.val), new Set(all.map(exprKey)), ctx) } }));
  if (full.havingClause) full.havingClause = replaceGrouping(full.havingClause, new Set(all.map(exprKey)), ctx);
  for (const k of ['sortClause', 'limitCount', 'limitOffset']) delete full[k];
  const types = ctx.translate(full).columns.map((c) => TYPE_NAME[c.oid] ?? 'text');

  const arms = resolved.map((set) => {
    const grouped = new Set(set.map(exprKey));
    const inner: Node = clone(s);
    inner.groupClause = set.map(clone);
    const outerTargets: Node[] = [];
    inner.targetList = [];
    targets.forEach((t, i) => {
      const rt = t.ResTarget;
      const name: string = rt.name ?? figureName(rt.val);
      const key = exprKey(rt.val);
      if (allKeys.has(key) && !grouped.has(key)) {
        outerTargets.push({ ResTarget: { name, val: { TypeCast: { arg: nullConst(), typeName: { names: [{ String: { sval: types[i] } }], typemod: -1 } } } } });
        return;
      }
      inner.targetList.push({ ResTarget: { ...rt, name: `_g${i}`, val: replaceGrouping(clone(rt.val), grouped, ctx) } });
      outerTargets.push({ ResTarget: { name, val: columnRef(`_g${i}`) } });
    });
    // The grand total of a select without measures is still one row per non-empty input: count it.
    if (!inner.targetList.length) inner.targetList.push(parseSelectBody('SELECT COUNT(*) AS _gcount').targetList[0]);
    if (inner.havingClause) inner.havingClause = replaceGrouping(inner.havingClause, grouped, ctx);
    for (const k of ['sortClause', 'limitCount', 'limitOffset']) delete inner[k];
    inner.limitOption = 'LIMIT_OPTION_DEFAULT';
    // A grouping set of constants only (the grand total with no measure) still reads the cube once.
    const arm = parseSelectBody('SELECT 1 FROM (SELECT 1) AS _g');
    arm.targetList = outerTargets;
    arm.fromClause[0].RangeSubselect.subquery = { SelectStmt: inner };
    return arm;
  });

  let combined: Node = arms[0];
  for (const arm of arms.slice(1)) combined = { op: 'SETOP_UNION', all: true, limitOption: 'LIMIT_OPTION_DEFAULT', larg: combined, rarg: arm };
  if (arms.length === 1) combined = { ...combined };
  // ORDER BY over a UNION names output columns: an expression of the select list becomes its position.
  const sortClause = (s.sortClause ?? []).map((sb: Node) => {
    const node: Node = sb.SortBy.node;
    if (kindOf(node) === 'A_Const' || (refNames(node)?.length === 1 && targets.some((t) => t.ResTarget.name === refNames(node)![0]))) return sb;
    const i = targets.findIndex((t) => exprKey(t.ResTarget.val) === exprKey(node));
    if (i < 0) throw ctx.at.unsupported('with ROLLUP, CUBE or GROUPING SETS, ORDER BY a column of the select list', node);
    return { SortBy: { ...sb.SortBy, node: { A_Const: { ival: { ival: i + 1 } } } } };
  });
  return wrap(combined, { sortClause, limitCount: s.limitCount, limitOffset: s.limitOffset, limitOption: s.limitOption });
}

/** The grouping sets one GroupingSet item stands for, each a list of expressions. */
function expand(g: Node, ctx: ComposeContext): Node[][] {
  const gs = g.GroupingSet;
  const elements: Node[][] = (gs.content ?? []).map((c: Node) => (kindOf(c) === 'RowExpr' ? c.RowExpr.args : [c]));
  switch (gs.kind) {
    case 'GROUPING_SET_EMPTY':
      return [[]];
    case 'GROUPING_SET_SIMPLE':
      return [elements.flat()];
    case 'GROUPING_SET_ROLLUP':
      return elements.map((_, i) => elements.slice(0, elements.length - i).flat()).concat([[]]);
    case 'GROUPING_SET_CUBE': {
      if (elements.length > 6) throw ctx.at.unsupported(`CUBE of more than 6 elements is more than ${MAX_GROUPING_SETS} grouping sets`, g);
      const out: Node[][] = [];
      // Full set first: the first select of the UNION gives the columns their types.
      for (let mask = (1 << elements.length) - 1; mask >= 0; mask--) out.push(elements.filter((_, i) => mask & (1 << (elements.length - 1 - i))).flat());
      return out;
    }
    case 'GROUPING_SET_SETS':
      return (gs.content ?? []).flatMap((c: Node) => (kindOf(c) === 'GroupingSet' ? expand(c, ctx) : [kindOf(c) === 'RowExpr' ? c.RowExpr.args : [c]]));
    default:
      throw ctx.at.unsupported('this grouping set is not supported', g);
  }
}

function dedupe(items: Node[]): Node[] {
  const seen = new Set<string>();
  return items.filter((n) => {
    const k = exprKey(n);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** GROUPING(a, b, …) in one arm: bit i (from the left) is 1 when argument i is not grouped there. */
function replaceGrouping(node: Node, grouped: ReadonlySet<string>, ctx: ComposeContext): Node {
  const visit = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(visit);
    if (!n || typeof n !== 'object') return n;
    const o = n as Node;
    if (kindOf(o) === 'GroupingFunc') {
      const args: Node[] = o.GroupingFunc.args ?? [];
      if (args.length > 31) throw ctx.at.unsupported('GROUPING() with more than 31 arguments', o);
      const mask = args.reduce((m, a, i) => m | ((grouped.has(exprKey(a)) ? 0 : 1) << (args.length - 1 - i)), 0);
      return { A_Const: mask === 0 ? { ival: {} } : { ival: { ival: mask } } };
    }
    if (kindOf(o) === 'SelectStmt' || kindOf(o) === 'SubLink') return o;
    const out: Node = {};
    for (const [k, v] of Object.entries(o)) out[k] = visit(v);
    return out;
  };
  return visit(node) as Node;
}

/** Puts ORDER BY / LIMIT on a set operation (or a lone select) without disturbing its arms. */
function wrap(combined: Node, tail: Record<string, unknown>): Node {
  const out: Node = { ...combined };
  for (const [k, v] of Object.entries(tail)) {
    if (v !== undefined && !(Array.isArray(v) && !v.length)) out[k] = v;
  }
  return out;
}
