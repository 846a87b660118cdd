/** Small builders and readers over libpg-query's JSON parse tree, for the compose rewrites. */
import { parseSync } from 'libpg-query';
import type { Cell } from '../pg-types.js';
import { type Node, kindOf, strings } from '../translate/ast.js';

export function clone<T>(node: T): T {
  return structuredClone(node);
}

/** The SelectStmt body of one SELECT text (our own, trusted text). */
export function parseSelectBody(sql: string): Node {
  const stmt = parseSync(sql).stmts?.[0]?.stmt as Node | undefined;
  if (!stmt?.SelectStmt) throw new Error(`not a SELECT: ${sql.slice(0, 80)}`);
  return stmt.SelectStmt;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function boolConst(v: boolean): Node {
  return v ? { A_Const: { boolval: { boolval: true } } } : { A_Const: { boolval: {} } };
}

export function nullConst(): Node {
  return { A_Const: { isnull: true } };
}

/** A literal of a cell value: numbers as numbers, booleans as booleans, anything else as text. */
export function cellConst(v: Cell): Node {
  if (v === null) return nullConst();
  if (typeof v === 'boolean') return boolConst(v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && Math.abs(v) < 2 ** 31) return { A_Const: { ival: v === 0 ? {} : { ival: v } } };
    return { A_Const: { fval: { fval: String(v) } } };
  }
  return { A_Const: { sval: { sval: v } } };
}

export function and(items: readonly Node[]): Node {
  const flat = items.flatMap((n) => (kindOf(n) === 'BoolExpr' && n.BoolExpr.boolop === 'AND_EXPR' ? n.BoolExpr.args : [n]));
  return flat.length === 1 ? flat[0] : { BoolExpr: { boolop: 'AND_EXPR', args: flat } };
}

export function or(items: readonly Node[]): Node {
  return items.length === 1 ? items[0] : { BoolExpr: { boolop: 'OR_EXPR', args: [...items] } };
}

export function not(item: Node): Node {
  return { BoolExpr: { boolop: 'NOT_EXPR', args: [item] } };
}

export function equals(left: Node, right: Node): Node {
  return { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '=' } }], lexpr: left, rexpr: right } };
}

export function inList(left: Node, values: readonly Node[]): Node {
  return { A_Expr: { kind: 'AEXPR_IN', name: [{ String: { sval: '=' } }], lexpr: left, rexpr: { List: { items: [...values] } } } };
}

export function isNotNull(arg: Node): Node {
  return { NullTest: { arg, nulltesttype: 'IS_NOT_NULL' } };
}

export function columnRef(...names: string[]): Node {
  return { ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } };
}

/** The names of a ColumnRef ([qualifier..., column]); undefined for `*`. */
export function refNames(node: Node): string[] | undefined {
  if (kindOf(node) !== 'ColumnRef') return undefined;
  const fields: Node[] = node.ColumnRef.fields;
  if (fields.some((f) => kindOf(f) !== 'String')) return undefined;
  return strings(fields);
}

/** A SelectStmt body with a set operation (UNION/INTERSECT/EXCEPT). */
export function isSetOperation(s: Node): boolean {
  return Boolean(s.op && s.op !== 'SETOP_NONE');
}

/** A window call (`fn(...) OVER (...)`) anywhere in `node`, not looking into subqueries. */
export function hasWindowCall(node: unknown): boolean {
  let found = false;
  visitExpr(node, (n) => {
    if (kindOf(n) === 'FuncCall' && n.FuncCall.over) found = true;
  });
  return found;
}

/**
 * Visits the expression nodes of `node` (wrapped {Kind: {...}} objects), not entering subqueries
 * (SubLink's select, RangeSubselect): what belongs to one query level.
 */
export function visitExpr(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) {
    for (const x of node) visitExpr(x, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const keys = Object.keys(node);
  if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
    const kind = keys[0];
    visit(node as Node);
    if (kind === 'SelectStmt' || kind === 'RangeSubselect') return;
    if (kind === 'SubLink') {
      visitExpr((node as Node).SubLink.testexpr, visit);
      return;
    }
  }
  for (const v of Object.values(node)) visitExpr(v, visit);
}
