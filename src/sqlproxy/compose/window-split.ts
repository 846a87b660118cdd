/**
 * Window functions (and DISTINCT ON) run after grouping, so such a select splits exactly into an inner
 * select without them (WHERE, GROUP BY, HAVING and every expression the windows read, as hidden
 * columns) and an outer select over it (the window calls, ORDER BY, DISTINCT, LIMIT). The inner one
 * reads the cubes and is answered by the query service; the outer one runs on the post engine.
 */
import { type Node, kindOf } from '../translate/ast.js';
import { aggregateCalls, columnRefs, exprKey } from '../translate/post.js';
import { figureName } from '../translate/select.js';
import { columnRef, hasWindowCall, nullConst, parseSelectBody } from './nodes.js';

/** Parse-tree wrappers that are not value expressions: lifted through, never lifted whole. */
const STRUCTURAL = new Set(['CaseWhen', 'SortBy', 'List', 'String', 'TypeName', 'WindowDef', 'ResTarget', 'Integer', 'Float', 'Boolean']);

export function hasWindows(s: Node): boolean {
  return Boolean(s.windowClause?.length) || hasWindowCall(s.targetList) || hasWindowCall(s.sortClause) || hasDistinctOn(s);
}

/** DISTINCT ON (…) also runs after grouping: the same split, its expressions lifted like ORDER BY's. */
export function hasDistinctOn(s: Node): boolean {
  return (s.distinctClause ?? []).some((d: Node) => Object.keys(d).length > 0);
}

/** `s` (reads cubes, has window calls) as `SELECT <windows> FROM (<s without them>) AS _w`. */
export function splitWindows(s: Node): Node {
  const targets: Node[] = s.targetList ?? [];
  const innerTargets: Node[] = [];
  const outerTargets: Node[] = [];
  const outputNames = new Set<string>();
  const used = new Set<string>();
  const hidden: Node[] = [];
  // One hidden column per distinct expression: DISTINCT ON and ORDER BY must name the same one.
  const hiddenByKey = new Map<string, string>();

  const lift = (expr: Node): Node => {
    const kind = kindOf(expr);
    if (STRUCTURAL.has(kind)) return mapChildren(expr, lift);
    if (!hasWindowCall(expr)) {
      if (!columnRefs(expr).length && !aggregateCalls(expr).length) return expr;
      const key = exprKey(expr);
      let name = hiddenByKey.get(key);
      if (!name) {
        name = `_w${hidden.length}`;
        hiddenByKey.set(key, name);
        hidden.push({ ResTarget: { name, val: expr } });
      }
      return columnRef(name);
    }
    return mapChildren(expr, lift);
  };
  /** An ORDER BY / DISTINCT ON item: an ordinal or an output name stays, anything else is lifted. */
  const liftItem = (node: Node): Node => {
    const bareName = kindOf(node) === 'ColumnRef' && node.ColumnRef.fields.length === 1 ? node.ColumnRef.fields[0].String?.sval : undefined;
    return kindOf(node) === 'A_Const' || (bareName !== undefined && outputNames.has(bareName)) ? node : lift(node);
  };

  targets.forEach((t, i) => {
    const rt = t.ResTarget;
    const outputName: string = rt.name ?? figureName(rt.val);
    outputNames.add(outputName);
    if (hasWindowCall(rt.val)) {
      innerTargets.push({ ResTarget: { name: `_c${i}`, val: nullConst() } });
      outerTargets.push({ ResTarget: { name: outputName, val: lift(rt.val) } });
      return;
    }
    // Keep the name the select gave (GROUP BY may use it) unless two columns share it.
    const innerName = used.has(outputName) || outputName === '?column?' ? `_c${i}` : outputName;
    used.add(innerName);
    innerTargets.push({ ResTarget: { ...rt, name: innerName } });
    outerTargets.push({ ResTarget: { name: outputName, val: columnRef(innerName) } });
  });

  const outerSort = (s.sortClause ?? []).map((sb: Node) => ({ SortBy: { ...sb.SortBy, node: liftItem(sb.SortBy.node) } }));
  const windowClause = (s.windowClause ?? []).map((w: Node) => mapChildren(w, lift));

  const inner: Node = { ...s, targetList: [...innerTargets, ...hidden] };
  for (const k of ['sortClause', 'limitCount', 'limitOffset', 'windowClause', 'distinctClause', 'withClause']) delete inner[k];
  inner.limitOption = 'LIMIT_OPTION_DEFAULT';

  const outer = parseSelectBody('SELECT 1 FROM (SELECT 1) AS _w');
  outer.targetList = outerTargets;
  outer.fromClause[0].RangeSubselect.subquery = { SelectStmt: inner };
  for (const [k, v] of Object.entries({
    sortClause: outerSort,
    windowClause,
    distinctClause: hasDistinctOn(s) ? s.distinctClause.map(liftItem) : s.distinctClause,
    limitCount: s.limitCount,
    limitOffset: s.limitOffset,
    limitOption: s.limitOption,
  })) {
    if (v !== undefined && !(Array.isArray(v) && !v.length)) outer[k] = v;
  }
  return outer;
}

/** A copy of a wrapped node with `fn` applied to each wrapped child (and to each in child lists). */
function mapChildren(node: Node, fn: (n: Node) => Node): Node {
  const kind = kindOf(node);
  const body: Node = {};
  for (const [k, v] of Object.entries(node[kind] as Node)) {
    if (Array.isArray(v)) body[k] = v.map((x) => (isWrapped(x) ? fn(x) : x));
    else if (isWrapped(v)) body[k] = fn(v);
    else if (k === 'over' && v && typeof v === 'object') body[k] = mapChildren({ WindowDef: v }, fn).WindowDef;
    else body[k] = v;
  }
  return { [kind]: body };
}

function isWrapped(v: unknown): v is Node {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && /^[A-Z]/.test(keys[0]);
}
