/**
 * Aggregate before the lookup joins (eager aggregation). A one-stage query whose aggregates read
 * only the root cube, joined to cubes that never repeat the root's rows (lookups: many_to_one /
 * one_to_one from the root's side), aggregates the root first and joins the lookups to its groups:
 *
 *   SELECT c.name AS name, sum(r.__e0) AS cost
 *   FROM (SELECT r.campaign_id AS campaign_id, sum(r.cost) AS __e0
 *         FROM <root> AS r WHERE <conditions on the root alone> GROUP BY campaign_id) AS r
 *   LEFT JOIN <lookup> AS c ON <the join, unchanged> WHERE <the other conditions> GROUP BY name
 *
 * The join then probes one row per group instead of one per fact row (the top-campaigns widget:
 * 27 → 18 ms on 10M rows). Exact: an inner row stands for root rows that agree on everything the
 * outer part reads of the root (the root-side dimensions, the columns the joins and the lookup-side
 * dimensions and conditions read), so the joins attach to it exactly what they attached to each of
 * those rows, and sum/count of partial sums/counts (min/max of partial min/max) is the whole one.
 *
 * Grouping sets (a fused statement, range-split.ts): the inner groups by each set's root-side
 * dimensions, plus the join keys for a set with a lookup-side dimension, and carries the original
 * set's mask; the outer groups by that mask and the dimensions, so sets never mix. Not applied when
 * a condition reads a lookup (every set would have to keep the keys) or two sets would become one.
 *
 * Applied only when every part is understood: aggregates sum / count / min / max (min and max
 * unfiltered: an empty filtered group's min would be 0, not absent) over the root alone, root
 * columns read as `{CUBE}.column`, no bare identifiers in model text (a bare name could resolve
 * to another table once the root is a subquery). Anything else keeps the one-stage form.
 */
import type { JoinTree } from '../join-tree.js';
import { isMultiplied } from '../join-tree.js';
import { groupingMask } from '../split.js';
import { and, binary, call, column, exprChildren, ident, literal, mapExpr, select, type Expr, type Select, type SelectColumn } from '../plan-tree.js';

/** What an expression reads: tables (aliases), root columns, aggregates; `opaque` when not understood. */
interface Reads {
  readonly tables: Set<string>;
  readonly rootColumns: Set<string>;
  opaque: boolean;
}

const SQL_WORDS = new Set(
  'and or not is null in like ilike between case when then else end as true false interval distinct second minute hour day week month quarter year'.split(' '),
);
const LEADING_COLUMN = /^\.([A-Za-z_][A-Za-z0-9_]*)/;
/**
 * The inner rows' set mask. Not the outer's name (split.ts SET_ALIAS, `__grouping_set`): ClickHouse
 * names its own grouping-sets column that, and a statement with GROUPING SETS whose result is read
 * by an outer query fails ("Not found column __grouping_set") when an alias takes the name.
 */
const INNER_SET = '__set_mask';

/** Model text with a name that is neither a function call nor an SQL word (e.g. an unqualified column). */
function hasBareName(text: string): boolean {
  if (/[`"]/.test(text)) return true;
  const code = text.replace(/'(?:[^'\\]|\\.|'')*'/g, "''");
  for (const m of code.matchAll(/(?<![\w.$])([A-Za-z_][A-Za-z0-9_]*)(?![\w$])/g)) {
    const after = code.slice((m.index ?? 0) + m[0].length).trimStart();
    if (!after.startsWith('(') && !SQL_WORDS.has(m[1].toLowerCase())) return true;
  }
  return false;
}

function scan(e: Expr, root: string, out: Reads, stopAtAggregates: boolean): void {
  switch (e.kind) {
    case 'template':
      e.parts.forEach((p, i) => {
        if (p.kind === 'raw') {
          // `.column` right after a table reference belongs to it.
          const prev = e.parts[i - 1];
          const text = prev?.kind === 'ident' ? p.sql.replace(LEADING_COLUMN, '') : p.sql;
          if (hasBareName(text)) out.opaque = true;
          return;
        }
        if (p.kind === 'ident') {
          out.tables.add(p.name);
          if (p.name === root) {
            const next = e.parts[i + 1];
            const col = next?.kind === 'raw' ? LEADING_COLUMN.exec(next.sql) : null;
            if (col) out.rootColumns.add(col[1]);
            else out.opaque = true;
          }
          return;
        }
        scan(p, root, out, stopAtAggregates);
      });
      return;
    case 'raw':
      if (hasBareName(e.sql)) out.opaque = true;
      return;
    case 'ident':
      // A table alias alone (`{CUBE}` as a value): not a column we could carry through.
      out.tables.add(e.name);
      out.opaque = true;
      return;
    case 'column':
      out.tables.add(e.table);
      if (e.table === root) out.rootColumns.add(e.name);
      return;
    case 'lambda':
      out.opaque = true;
      return;
    case 'aggregate':
      if (stopAtAggregates) return;
      break;
    default:
      break;
  }
  for (const c of exprChildren(e)) scan(c, root, out, stopAtAggregates);
}

function readsOf(e: Expr, root: string, stopAtAggregates = false): Reads {
  const out: Reads = { tables: new Set(), rootColumns: new Set(), opaque: false };
  scan(e, root, out, stopAtAggregates);
  return out;
}

const onlyRoot = (r: Reads, root: string) => [...r.tables].every((t) => t === root);

function conjuncts(e: Expr | undefined): readonly Expr[] {
  if (!e) return [];
  return e.kind === 'logical' && e.op === 'AND' ? e.args : [e];
}

/** Collects the aggregates of a measure / HAVING expression into `found`; false when one cannot be split into partials. */
function partialAggregates(e: Expr, root: string, found: Map<string, Extract<Expr, { kind: 'aggregate' }>>): boolean {
  const outside = readsOf(e, root, true);
  if (outside.opaque || outside.tables.size > 0) return false;
  let ok = true;
  const visit = (x: Expr): void => {
    if (x.kind === 'aggregate') {
      const splittable = x.fn === 'sum' || x.fn === 'count' || ((x.fn === 'min' || x.fn === 'max') && !x.filter);
      const reads = [x.arg, x.filter].filter((y): y is Expr => y !== undefined).map((y) => readsOf(y, root));
      if (!splittable || reads.some((r) => r.opaque || !onlyRoot(r, root))) ok = false;
      else found.set(JSON.stringify(x), x);
      return;
    }
    for (const c of exprChildren(x)) visit(c);
  };
  visit(e);
  return ok;
}

/**
 * The eager form of a one-stage select (see above), or the select itself when it does not apply.
 * `dimensionCount`: the select's first columns are the query's dimensions (grouped by their aliases).
 */
export function aggregateBeforeJoins(s: Select, tree: JoinTree, dimensionCount: number, setAlias?: string): Select {
  const root = tree.root;
  if (s.joins.length === 0 || s.distinct || s.from?.kind !== 'cube' || s.from.alias !== root) return s;
  // The root's rows must reach the aggregates once each: no join may repeat them.
  if (isMultiplied(tree, root)) return s;
  const dims = s.columns.slice(0, dimensionCount);
  const measures = s.columns.slice(dimensionCount).filter((c) => setAlias === undefined || c.alias !== setAlias);
  if (s.groupBy.length !== dims.length || (s.groupingSets !== undefined) !== (setAlias !== undefined)) return s;

  const carried = new Set<string>();
  const innerDims: SelectColumn[] = [];
  for (const d of dims) {
    const r = readsOf(d.expr, root);
    if (r.opaque) return s;
    if (onlyRoot(r, root)) innerDims.push(d);
    else for (const c of r.rootColumns) carried.add(c); // a lookup-side dimension stays outside
  }
  const innerWhere: Expr[] = [];
  const outerWhere: Expr[] = [];
  for (const c of conjuncts(s.where)) {
    const r = readsOf(c, root);
    if (r.opaque) return s;
    if (onlyRoot(r, root)) innerWhere.push(c);
    else {
      outerWhere.push(c);
      for (const col of r.rootColumns) carried.add(col);
    }
  }
  for (const j of s.joins) {
    const r = readsOf(j.on, root);
    if (r.opaque) return s;
    for (const col of r.rootColumns) carried.add(col);
  }
  const found = new Map<string, Extract<Expr, { kind: 'aggregate' }>>();
  if (!measures.every((m) => partialAggregates(m.expr, root, found))) return s;
  if (s.having && !partialAggregates(s.having, root, found)) return s;
  if (found.size === 0) return s; // dimensions only: nothing to aggregate early

  // Inner column names: dimension aliases, carried columns under their own names, partials __e<i>.
  const partialAlias = new Map([...found.keys()].map((k, i) => [k, `__e${i}`]));
  const names = [...innerDims.map((d) => d.alias ?? ''), ...carried, ...partialAlias.values(), INNER_SET];
  if (new Set(names).size !== names.length || names.some((n) => n === '')) return s;

  const innerAliases = new Set(innerDims.map((d) => d.alias!));
  const setColumn = s.columns.find((c) => setAlias !== undefined && c.alias === setAlias)?.expr;
  const sets = s.groupingSets && setColumn && setsBeforeJoins(s.groupingSets, setColumn, innerAliases, [...carried]);
  if (s.groupingSets && (!sets || outerWhere.length > 0)) return s; // a lookup condition would need every set to carry the keys

  const inner = select({
    columns: [
      ...innerDims,
      ...[...carried].map((c) => ({ expr: column(root, c), alias: c })),
      ...[...found].map(([k, agg]) => ({ expr: agg as Expr, alias: partialAlias.get(k) })),
      ...(sets ? [{ expr: sets.mask, alias: INNER_SET }] : []),
    ],
    from: s.from,
    where: and(...innerWhere),
    groupBy: [...innerDims.map((d) => ident(d.alias!)), ...[...carried].map((c) => ident(c))],
    groupingSets: sets?.exprs,
  });
  const combine = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.kind !== 'aggregate') return undefined;
      const partial = column(root, partialAlias.get(JSON.stringify(x))!);
      return { kind: 'aggregate', fn: x.fn === 'count' ? 'sum' : x.fn, arg: partial };
    });
  return {
    ...s,
    columns: [
      ...dims.map((d) => (innerAliases.has(d.alias!) ? { expr: column(root, d.alias!), alias: d.alias } : d)),
      ...measures.map((m) => ({ expr: combine(m.expr), alias: m.alias })),
      // Each inner row already carries its original set's mask: the outer groups by it, so sets never mix.
      ...(setAlias ? [{ expr: column(root, INNER_SET), alias: setAlias }] : []),
    ],
    from: { kind: 'derived', query: inner, alias: root },
    where: and(...outerWhere),
    groupBy: setAlias ? [ident(setAlias), ...s.groupBy] : s.groupBy,
    groupingSets: undefined,
    having: s.having && combine(s.having),
  };
}

/**
 * The inner grouping sets: each original set's root-side dimensions, plus every carried column when
 * it has a lookup-side dimension (the joins need the keys). The inner rows' mask is mapped to the
 * original set's mask (`grouping()` of the original dimension columns, bit 1 = not in the set).
 * Undefined when two original sets would become one inner set (their rows could not be told apart).
 */
function setsBeforeJoins(
  original: readonly (readonly Expr[])[],
  originalMask: Expr,
  innerAliases: ReadonlySet<string>,
  carried: readonly string[],
): { exprs: Expr[][]; mask: Expr } | undefined {
  const names = (set: readonly Expr[]) => set.map((e) => (e.kind === 'ident' ? e.name : undefined));
  if (originalMask.kind !== 'call' || originalMask.fn !== 'grouping') return undefined;
  const allOriginal = names(originalMask.args);
  if ([...allOriginal, ...original.flatMap(names)].some((n) => n === undefined)) return undefined;
  const sets = original.map((set) => {
    const own = names(set) as string[];
    const lookupSide = own.some((n) => !innerAliases.has(n));
    return [...own.filter((n) => innerAliases.has(n)), ...(lookupSide ? carried : [])];
  });
  const keys = sets.map((set) => [...set].sort().join('\n'));
  if (new Set(keys).size !== keys.length) return undefined;
  const innerColumns = [...new Set(sets.flat())];
  if (innerColumns.length === 0 || innerColumns.length > 30) return undefined;
  const grouping = call('grouping', ...innerColumns.map((c) => ident(c)));
  const mask: Expr = {
    kind: 'multiIf',
    branches: sets.map((set, k) => ({
      when: binary('=', grouping, literal(groupingMask(innerColumns, set))),
      then: literal(groupingMask(allOriginal as string[], names(original[k]) as string[])),
    })),
    otherwise: literal(-1),
  };
  return { exprs: sets.map((set) => set.map((c) => ident(c))), mask };
}
