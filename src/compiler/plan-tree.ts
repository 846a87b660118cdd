/**
 * The query plan: an immutable tree of SQL nodes, built by the planner, rewritten by passes,
 * printed by a dialect. Every node carries a `kind`; visitors are mapped types over the kinds,
 * so adding a kind fails the build until every visitor handles it.
 *
 * Expressions never contain queries: relations live only in FROM / JOIN items, which is what
 * lets the tenant pass see every table the statement reads.
 */
import type { Granularity } from '../semantic/query.js';

/** ClickHouse query-parameter types the compiler emits. */
export type ParamType = 'String' | 'Float64' | 'Bool' | 'Array(String)';

export type AggregateFn = 'count' | 'countDistinct' | 'countDistinctApprox' | 'sum' | 'avg' | 'min' | 'max';

export type BinaryOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  /** Trusted SQL text: a model author's snippet text, or a constant chosen by the compiler. */
  | { readonly kind: 'raw'; readonly sql: string }
  /** A quoted identifier: table alias or column alias the compiler generated or the model named. */
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'column'; readonly table: string; readonly name: string }
  /** The only way a user value reaches SQL. */
  | { readonly kind: 'param'; readonly name: string; readonly type: ParamType; readonly value: unknown }
  /** A constant from the model or the compiler (case labels, NULL); escaped by the dialect. */
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'logical'; readonly op: 'AND' | 'OR'; readonly args: readonly Expr[] }
  | { readonly kind: 'not'; readonly arg: Expr }
  | { readonly kind: 'isNull'; readonly arg: Expr; readonly negated: boolean }
  | { readonly kind: 'in'; readonly arg: Expr; readonly values: readonly Expr[]; readonly negated: boolean }
  /** Case-insensitive pattern match; the pattern is a parameter with LIKE wildcards escaped. */
  | { readonly kind: 'ilike'; readonly arg: Expr; readonly pattern: Expr; readonly negated: boolean }
  /** A model snippet with its references substituted: parts printed side by side. */
  | { readonly kind: 'template'; readonly parts: readonly Expr[] }
  | { readonly kind: 'aggregate'; readonly fn: AggregateFn; readonly arg?: Expr; readonly filter?: Expr }
  /** A time value (Date, DateTime, DateTime64) seen as DateTime64(3) in the zone `tz`. */
  /** A local wall time in the query zone; `seconds`: the value has whole seconds (compared as DateTime). */
  | { readonly kind: 'inZone'; readonly arg: Expr; readonly tz: Expr; readonly seconds?: boolean }
  /** Start of the period containing `arg` (already in the query zone), as DateTime64(3, tz). */
  | { readonly kind: 'truncate'; readonly unit: Granularity; readonly arg: Expr; readonly tz: Expr }
  | { readonly kind: 'multiIf'; readonly branches: readonly { readonly when: Expr; readonly then: Expr }[]; readonly otherwise: Expr }
  | { readonly kind: 'lambda'; readonly params: readonly string[]; readonly body: Expr };

export type FromItem =
  /** A cube's rows before tenant scoping. The printer refuses it: only the tenant pass may resolve it. */
  | { readonly kind: 'cube'; readonly cube: string; readonly alias: string }
  /** A model table name or SQL (trusted text). Created only by the tenant pass. */
  | { readonly kind: 'table'; readonly sql: string; readonly isQuery: boolean; readonly alias?: string }
  | { readonly kind: 'derived'; readonly query: Query; readonly alias: string };

export interface JoinClause {
  readonly type: 'LEFT' | 'INNER';
  readonly item: FromItem;
  readonly on: Expr;
}

export interface SelectColumn {
  readonly expr: Expr;
  /** Absent only for `*`. */
  readonly alias?: string;
}

export interface OrderItem {
  readonly expr: Expr;
  readonly direction: 'asc' | 'desc';
}

export interface Select {
  readonly kind: 'select';
  readonly distinct: boolean;
  readonly columns: readonly SelectColumn[];
  /** Absent for a constant row (ClickHouse reads system.one). */
  readonly from?: FromItem;
  readonly joins: readonly JoinClause[];
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  /** GROUP BY GROUPING SETS ((…), (…)) instead of groupBy: one aggregation per set over the same rows. */
  readonly groupingSets?: readonly (readonly Expr[])[];
  readonly having?: Expr;
  readonly orderBy: readonly OrderItem[];
  readonly limit?: number;
  readonly offset?: number;
}

/** UNION ALL of selects with identical column lists. */
export interface Union {
  readonly kind: 'union';
  readonly selects: readonly Select[];
}

export type Query = Select | Union;

// ---- visitors: mapped types over the kinds ----

export type ExprVisitor<R> = { readonly [K in Expr['kind']]: (node: Extract<Expr, { kind: K }>) => R };
export type FromVisitor<R> = { readonly [K in FromItem['kind']]: (node: Extract<FromItem, { kind: K }>) => R };
export type QueryVisitor<R> = { readonly [K in Query['kind']]: (node: Extract<Query, { kind: K }>) => R };

export function visitExpr<R>(node: Expr, visitor: ExprVisitor<R>): R {
  return (visitor[node.kind] as (n: Expr) => R)(node);
}
export function visitFrom<R>(node: FromItem, visitor: FromVisitor<R>): R {
  return (visitor[node.kind] as (n: FromItem) => R)(node);
}
export function visitQuery<R>(node: Query, visitor: QueryVisitor<R>): R {
  return (visitor[node.kind] as (n: Query) => R)(node);
}

/**
 * Rebuild a query with every FROM / JOIN item (at any depth) passed through `fn`, innermost
 * first. Passes use it so that no relation can be skipped.
 */
export function mapFromItems(query: Query, fn: (item: FromItem) => FromItem): Query {
  const mapItem = (item: FromItem): FromItem =>
    fn(
      visitFrom<FromItem>(item, {
        cube: (n) => n,
        table: (n) => n,
        derived: (n) => ({ ...n, query: mapFromItems(n.query, fn) }),
      }),
    );
  const mapSelect = (s: Select): Select => ({
    ...s,
    from: s.from && mapItem(s.from),
    joins: s.joins.map((j) => ({ ...j, item: mapItem(j.item) })),
  });
  return visitQuery<Query>(query, {
    select: (s) => mapSelect(s),
    union: (u) => ({ ...u, selects: u.selects.map(mapSelect) }),
  });
}

/** Every FROM / JOIN item of a query, at any depth (for tests and invariants). */
export function collectFromItems(query: Query): FromItem[] {
  const out: FromItem[] = [];
  mapFromItems(query, (item) => {
    out.push(item);
    return item;
  });
  return out;
}

// ---- factories ----

/** Names user values p0, p1, … in the order the planner binds them. */
export class ParamBag {
  private next = 0;
  add(value: unknown, type: ParamType): Expr {
    return { kind: 'param', name: `p${this.next++}`, type, value };
  }
}

export const raw = (sql: string): Expr => ({ kind: 'raw', sql });
export const ident = (name: string): Expr => ({ kind: 'ident', name });
export const column = (table: string, name: string): Expr => ({ kind: 'column', table, name });
export const literal = (value: string | number | boolean | null): Expr => ({ kind: 'literal', value });
export const call = (fn: string, ...args: Expr[]): Expr => ({ kind: 'call', fn, args });
export const binary = (op: BinaryOp, left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
export const not = (arg: Expr): Expr => ({ kind: 'not', arg });
export const isNull = (arg: Expr, negated = false): Expr => ({ kind: 'isNull', arg, negated });
export const inList = (arg: Expr, values: readonly Expr[], negated = false): Expr => ({ kind: 'in', arg, values, negated });
export const ilike = (arg: Expr, pattern: Expr, negated = false): Expr => ({ kind: 'ilike', arg, pattern, negated });
export const TRUE: Expr = raw('1');
export const NULL: Expr = literal(null);

/** AND of the conditions, flattening nested ANDs; undefined when there are none. */
export function and(...conds: (Expr | undefined)[]): Expr | undefined {
  return logical('AND', conds);
}
export function or(...conds: (Expr | undefined)[]): Expr | undefined {
  return logical('OR', conds);
}
function logical(op: 'AND' | 'OR', conds: (Expr | undefined)[]): Expr | undefined {
  const args: Expr[] = [];
  for (const c of conds) {
    if (!c) continue;
    if (c.kind === 'logical' && c.op === op) args.push(...c.args);
    else args.push(c);
  }
  if (args.length === 0) return undefined;
  if (args.length === 1) return args[0];
  return { kind: 'logical', op, args };
}

export function select(parts: Partial<Omit<Select, 'kind'>> & Pick<Select, 'columns'>): Select {
  return { kind: 'select', distinct: false, joins: [], groupBy: [], orderBy: [], ...parts };
}

/** The direct sub-expressions of a node (no queries: expressions never contain them). */
export function exprChildren(node: Expr): readonly Expr[] {
  return visitExpr<readonly Expr[]>(node, {
    raw: () => [],
    ident: () => [],
    column: () => [],
    param: () => [],
    literal: () => [],
    call: (n) => n.args,
    binary: (n) => [n.left, n.right],
    logical: (n) => n.args,
    not: (n) => [n.arg],
    isNull: (n) => [n.arg],
    in: (n) => [n.arg, ...n.values],
    ilike: (n) => [n.arg, n.pattern],
    template: (n) => n.parts,
    aggregate: (n) => [...(n.arg ? [n.arg] : []), ...(n.filter ? [n.filter] : [])],
    inZone: (n) => [n.arg, n.tz],
    truncate: (n) => [n.arg, n.tz],
    multiIf: (n) => [...n.branches.flatMap((b) => [b.when, b.then]), n.otherwise],
    lambda: (n) => [n.body],
  });
}

/** Rebuilds an expression top-down: `fn` returns a replacement, or undefined to keep the node and map its children. */
export function mapExpr(node: Expr, fn: (e: Expr) => Expr | undefined): Expr {
  const replaced = fn(node);
  if (replaced) return replaced;
  const m = (e: Expr) => mapExpr(e, fn);
  return visitExpr<Expr>(node, {
    raw: (n) => n,
    ident: (n) => n,
    column: (n) => n,
    param: (n) => n,
    literal: (n) => n,
    call: (n) => ({ ...n, args: n.args.map(m) }),
    binary: (n) => ({ ...n, left: m(n.left), right: m(n.right) }),
    logical: (n) => ({ ...n, args: n.args.map(m) }),
    not: (n) => ({ ...n, arg: m(n.arg) }),
    isNull: (n) => ({ ...n, arg: m(n.arg) }),
    in: (n) => ({ ...n, arg: m(n.arg), values: n.values.map(m) }),
    ilike: (n) => ({ ...n, arg: m(n.arg), pattern: m(n.pattern) }),
    template: (n) => ({ ...n, parts: n.parts.map(m) }),
    aggregate: (n) => ({ ...n, arg: n.arg && m(n.arg), filter: n.filter && m(n.filter) }),
    inZone: (n) => ({ ...n, arg: m(n.arg), tz: m(n.tz) }),
    truncate: (n) => ({ ...n, arg: m(n.arg), tz: m(n.tz) }),
    multiIf: (n) => ({ ...n, branches: n.branches.map((b) => ({ when: m(b.when), then: m(b.then) })), otherwise: m(n.otherwise) }),
    lambda: (n) => ({ ...n, body: m(n.body) }),
  });
}
