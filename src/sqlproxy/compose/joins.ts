/**
 * `JOIN … ON` in a select that reads cubes, turned into what the plain mapping understands:
 * - the model's own join (Metabase's implicit FK join, `LEFT JOIN campaigns c ON ap.campaign_id =
 *   c.campaign_id`): when the ON condition is exactly the join the model declares, it is that join
 *   (ON true); an INNER JOIN also requires both keys to be present;
 * - a filter by another query's rows (Superset's series limit, `JOIN (SELECT platform … LIMIT 5) s
 *   ON platform = s.platform`): when the joined subquery has one row per join key and nothing else
 *   reads it, the join keeps exactly the cube rows whose keys it returns, so it becomes `IN (…)`.
 * Anything else is left as written (the translator then refuses it).
 */
import type { CatalogCube } from '../../query/types.js';
import { SQLSTATE } from '../sql-error.js';
import { type Node, kindOf } from '../translate/ast.js';
import { tableColumns } from '../translate/columns.js';
import { isCubeRangeVar } from '../translate/select.js';
import { literalOf } from './literals.js';
import { and, boolConst, equals, inList, isNotNull, or, refNames, visitExpr } from './nodes.js';
import { type ComposeContext, MAX_IN_LIST } from './types.js';

interface Table {
  readonly qualifier: string;
  readonly cube: CatalogCube;
  readonly columns: ReadonlySet<string>;
}

/** The cube tables of a FROM item (through joins), or undefined if it holds anything else. */
function cubeTables(item: Node, catalog: readonly CatalogCube[]): Table[] | undefined {
  switch (kindOf(item)) {
    case 'RangeVar': {
      const rv = item.RangeVar;
      if (!isCubeRangeVar(rv, catalog)) return undefined;
      const cube = catalog.find((c) => c.name === rv.relname)!;
      return [{ qualifier: rv.alias?.aliasname ?? rv.relname, cube, columns: new Set(tableColumns(cube).map((c) => c.name)) }];
    }
    case 'JoinExpr': {
      const l = cubeTables(item.JoinExpr.larg, catalog);
      const r = cubeTables(item.JoinExpr.rarg, catalog);
      return l && r ? [...l, ...r] : undefined;
    }
    default:
      return undefined;
  }
}

/** The equalities `a = b` of an AND chain of column references; undefined for anything else. */
function equalities(quals: Node): [string[], string[]][] | undefined {
  const parts: Node[] = kindOf(quals) === 'BoolExpr' && quals.BoolExpr.boolop === 'AND_EXPR' ? quals.BoolExpr.args : [quals];
  const out: [string[], string[]][] = [];
  for (const p of parts) {
    if (kindOf(p) !== 'A_Expr' || p.A_Expr.kind !== 'AEXPR_OP' || p.A_Expr.name?.[0]?.String?.sval !== '=') return undefined;
    const l = refNames(p.A_Expr.lexpr);
    const r = refNames(p.A_Expr.rexpr);
    if (!l || !r) return undefined;
    out.push([l, r]);
  }
  return out;
}

function resolve(names: string[], tables: readonly Table[]): { table: Table; column: string } | undefined {
  const column = names.at(-1)!;
  if (names.length > 1) {
    const table = tables.find((t) => t.qualifier === names.at(-2));
    return table?.columns.has(column) ? { table, column } : undefined;
  }
  const having = tables.filter((t) => t.columns.has(column));
  return having.length === 1 ? { table: having[0], column } : undefined;
}

/** Rewrites the model's joins written with ON (in place, anywhere in FROM). */
export function modelJoins(s: Node, catalog: readonly CatalogCube[]): void {
  const visit = (item: Node): void => {
    if (kindOf(item) !== 'JoinExpr') return;
    const j = item.JoinExpr;
    visit(j.larg);
    visit(j.rarg);
    if (!j.quals || j.isNatural || j.usingClause || (j.jointype !== 'JOIN_INNER' && j.jointype !== 'JOIN_LEFT')) return;
    const left = cubeTables(j.larg, catalog);
    const right = cubeTables(j.rarg, catalog);
    const pairs = equalities(j.quals);
    if (!left || !right || !pairs?.length) return;
    const resolved = pairs.map(([a, b]) => {
      const ra = resolve(a, left) ?? resolve(a, right);
      const rb = resolve(b, left) ?? resolve(b, right);
      if (!ra || !rb) return undefined;
      return left.includes(ra.table) ? { l: ra, r: rb, nodes: [a, b] } : { l: rb, r: ra, nodes: [b, a] };
    });
    if (resolved.some((p) => !p || !left.includes(p.l.table) || !right.includes(p.r.table))) return;
    const ok = resolved as { l: { table: Table; column: string }; r: { table: Table; column: string }; nodes: string[][] }[];
    const lt = ok[0].l.table;
    const rt = ok[0].r.table;
    if (ok.some((p) => p.l.table !== lt || p.r.table !== rt)) return;
    const said = new Set(ok.map((p) => `${p.l.column}=${p.r.column}`));
    const declared = (from: Table, to: Table, flip: boolean) =>
      from.cube.joins.some(
        (d) => d.target === to.cube.name && d.keys?.length === said.size && d.keys.every(([x, y]) => said.has(flip ? `${y}=${x}` : `${x}=${y}`)),
      );
    // LEFT JOIN keeps the left side's rows: the model's join from that side says the same.
    const matches = j.jointype === 'JOIN_LEFT' ? declared(lt, rt, false) : declared(lt, rt, false) || declared(rt, lt, true);
    if (!matches) return;
    const presence =
      j.jointype === 'JOIN_INNER'
        ? ok.flatMap((p) => p.nodes.map((names) => isNotNull({ ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } })))
        : [];
    j.jointype = 'JOIN_INNER';
    j.quals = boolConst(true);
    if (presence.length) s.whereClause = and([...(s.whereClause ? [s.whereClause] : []), ...presence]);
  };
  for (const item of s.fromClause ?? []) visit(item);
}

/**
 * The old join syntax, `FROM a, b WHERE a.k = b.k AND …`: a top-level equality that is exactly the
 * model's join between two of this level's cube tables is that join (the cross join already is),
 * with both keys required to be present (an inner join); it leaves WHERE.
 */
export function commaJoins(s: Node, catalog: readonly CatalogCube[]): void {
  const tables = (s.fromClause ?? []).flatMap((item: Node) => cubeTables(item, catalog) ?? []);
  if (tables.length < 2 || !s.whereClause) return;
  const where: Node = s.whereClause;
  const parts: Node[] = kindOf(where) === 'BoolExpr' && where.BoolExpr.boolop === 'AND_EXPR' ? where.BoolExpr.args : [where];
  const kept: Node[] = [];
  const added: Node[] = [];
  for (const p of parts) {
    const pair = equalities(p)?.[0];
    const a = pair && resolve(pair[0], tables);
    const b = pair && resolve(pair[1], tables);
    const declared =
      a &&
      b &&
      a.table !== b.table &&
      (a.table.cube.joins.some((d) => d.target === b.table.cube.name && d.keys?.length === 1 && d.keys[0][0] === a.column && d.keys[0][1] === b.column) ||
        b.table.cube.joins.some((d) => d.target === a.table.cube.name && d.keys?.length === 1 && d.keys[0][0] === b.column && d.keys[0][1] === a.column));
    if (declared) added.push(...pair.map((names) => isNotNull({ ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } })));
    else kept.push(p);
  }
  if (added.length) s.whereClause = and([...kept, ...added]);
}

/** Rewrites `cubes JOIN (subquery) AS x ON keys` into a filter when the subquery is only a filter. */
export async function semiJoins(s: Node, ctx: ComposeContext): Promise<void> {
  const from: Node[] = s.fromClause ?? [];
  for (let i = 0; i < from.length; i++) {
    const item = from[i];
    if (kindOf(item) !== 'JoinExpr') continue;
    const j = item.JoinExpr;
    if (j.jointype !== 'JOIN_INNER' || !j.quals || j.isNatural || j.usingClause) continue;
    const subLeft = kindOf(j.larg) === 'RangeSubselect';
    const sub: Node | undefined = subLeft ? j.larg.RangeSubselect : kindOf(j.rarg) === 'RangeSubselect' ? j.rarg.RangeSubselect : undefined;
    const tables = cubeTables(subLeft ? j.rarg : j.larg, ctx.catalog);
    const pairs = equalities(j.quals);
    if (!sub || !tables || !pairs || sub.lateral) continue;
    const alias: string | undefined = sub.alias?.aliasname;
    const plan = ctx.translate(sub.subquery.SelectStmt);
    const subNames = new Set(plan.columns.map((c) => c.name));
    const isSub = (names: string[]) => (names.length > 1 ? names.at(-2) === alias : subNames.has(names[0]) && !resolve(names, tables));
    const keys: { outer: Node; index: number }[] = [];
    for (const [a, b] of pairs) {
      const [subSide, outer] = isSub(a) && !isSub(b) ? [a, b] : isSub(b) && !isSub(a) ? [b, a] : [undefined, undefined];
      if (!subSide || !outer || !resolve(outer, tables)) return;
      const index = plan.columns.findIndex((c) => c.name === subSide.at(-1));
      if (index < 0) return;
      keys.push({ outer: { ColumnRef: { fields: outer.map((sval) => ({ String: { sval } })) } }, index });
    }
    if (readsElsewhere(s, j.quals, isSub)) return;
    const { rows } = await ctx.evaluate(sub.subquery.SelectStmt);
    if (rows.length > MAX_IN_LIST) {
      throw ctx.at.error(SQLSTATE.TOO_MANY_ROWS, `the joined subquery returns ${rows.length} rows; at most ${MAX_IN_LIST} can filter another query`, j.quals);
    }
    const seen = new Set<string>();
    const tuples: (typeof rows)[number][] = [];
    for (const r of rows) {
      const key = JSON.stringify(keys.map((k) => r[k.index]));
      if (seen.has(key)) {
        throw ctx.at.unsupported(
          'the joined subquery returns several rows for one join key, so the join would repeat rows',
          j.quals,
          'Join on every column the subquery groups by.',
        );
      }
      seen.add(key);
      if (keys.every((k) => r[k.index] !== null)) tuples.push(r);
    }
    const oid = (k: { index: number }) => plan.columns[k.index].oid;
    const filter = !tuples.length
      ? boolConst(false)
      : keys.length === 1
        ? inList(
            keys[0].outer,
            tuples.map((t) => literalOf(oid(keys[0]), t[keys[0].index])),
          )
        : or(tuples.map((t) => and(keys.map((k) => equals(k.outer, literalOf(oid(k), t[k.index]))))));
    from[i] = subLeft ? j.rarg : j.larg;
    s.whereClause = and([...(s.whereClause ? [s.whereClause] : []), filter]);
  }
}

/** Whether anything but the join condition reads the subquery's columns. */
function readsElsewhere(s: Node, quals: Node, isSub: (names: string[]) => boolean): boolean {
  let found = false;
  const check = (n: unknown) =>
    visitExpr(n, (x) => {
      if (x === quals) return;
      const names = refNames(x);
      if (names && isSub(names)) found = true;
    });
  for (const k of ['targetList', 'whereClause', 'groupClause', 'havingClause', 'sortClause', 'distinctClause']) check(s[k]);
  return found;
}
