/**
 * Prints a plan as SQL text in a dialect and collects the parameters the text references.
 * The printer makes no decisions about meaning; it refuses plans a pass has not finished
 * (an unscoped cube source) and integers that are not integers.
 */
import type { SqlStatement } from './compiled.js';
import type { Dialect } from './dialect.js';
import { collectFromItems, visitExpr, visitFrom, visitQuery, type Expr, type ExprVisitor, type FromItem, type Query, type Select } from './plan-tree.js';

const COMPOUND = new Set<Expr['kind']>(['binary', 'logical', 'not', 'isNull', 'in', 'ilike', 'lambda']);
const SIMPLE_TEXT = /^[\w`.]+$/;

export function printStatement(query: Query, dialect: Dialect): SqlStatement {
  const params: Record<string, unknown> = {};
  const p = new Printer(dialect, params);
  const hasJoins = anyJoins(query);
  const suffix = dialect.statementSuffix({ hasJoins });
  const sql = p.query(query, '') + (suffix ? `\n${suffix}` : '');
  return { sql, params };
}

/** Text made of expressions and relations side by side (a model author's statement, e.g. a refresh key). */
export function printFragments(parts: readonly ({ readonly expr: Expr } | { readonly from: FromItem })[], dialect: Dialect): SqlStatement {
  const params: Record<string, unknown> = {};
  const p = new Printer(dialect, params);
  const sql = parts.map((part) => ('expr' in part ? p.expr(part.expr) : p.from(part.from, ''))).join('');
  return { sql, params };
}

function anyJoins(query: Query): boolean {
  let found = false;
  const check = (q: Query): void =>
    visitQuery(q, {
      select: (s) => {
        if (s.joins.length > 0) found = true;
      },
      union: (u) => u.selects.forEach(check),
    });
  check(query);
  for (const item of collectFromItems(query)) if (item.kind === 'derived') check(item.query);
  return found;
}

class Printer {
  private readonly exprs: ExprVisitor<string>;

  constructor(
    private readonly d: Dialect,
    private readonly params: Record<string, unknown>,
  ) {
    const q = (name: string) => d.quoteIdentifier(name);
    this.exprs = {
      raw: (n) => n.sql,
      ident: (n) => q(n.name),
      column: (n) => `${q(n.table)}.${q(n.name)}`,
      param: (n) => {
        if (Object.hasOwn(params, n.name) && params[n.name] !== n.value) {
          throw new Error(`invariant failed: parameter ${n.name} bound to two values`);
        }
        params[n.name] = n.value;
        return d.param(n.name, n.type);
      },
      literal: (n) => {
        if (n.value === null) return 'NULL';
        if (typeof n.value === 'string') return d.stringLiteral(n.value);
        if (typeof n.value === 'boolean') return n.value ? 'true' : 'false';
        if (!Number.isFinite(n.value)) throw new Error('invariant failed: non-finite numeric literal');
        return String(n.value);
      },
      call: (n) => `${n.fn}(${n.args.map((a) => this.expr(a)).join(', ')})`,
      binary: (n) => `${this.atom(n.left)} ${n.op} ${this.atom(n.right)}`,
      logical: (n) => n.args.map((a) => this.operand(a)).join(` ${n.op} `),
      not: (n) => `NOT ${this.atom(n.arg)}`,
      isNull: (n) => `${this.atom(n.arg)} ${n.negated ? 'IS NOT NULL' : 'IS NULL'}`,
      in: (n) => `${this.atom(n.arg)} ${n.negated ? 'NOT IN' : 'IN'} (${n.values.map((v) => this.expr(v)).join(', ')})`,
      ilike: (n) => d.ilike(this.atom(n.arg), this.expr(n.pattern), n.negated),
      template: (n) => n.parts.map((part) => (part.kind === 'template' || COMPOUND.has(part.kind) ? this.atom(part) : this.expr(part))).join(''),
      aggregate: (n) => d.aggregate(n.fn, n.arg && this.expr(n.arg), n.filter && this.expr(n.filter)),
      inZone: (n) => (n.seconds && d.inZoneSeconds ? d.inZoneSeconds(this.expr(n.arg), this.expr(n.tz)) : d.inZone(this.expr(n.arg), this.expr(n.tz))),
      truncate: (n) => d.truncate(n.unit, this.expr(n.arg), this.expr(n.tz)),
      multiIf: (n) =>
        d.multiIf(
          n.branches.map((b) => [this.expr(b.when), this.expr(b.then)] as const),
          this.expr(n.otherwise),
        ),
      lambda: (n) => d.lambda(n.params.map(q), this.expr(n.body)),
    };
  }

  /** An operand of AND / OR: comparisons bind tighter and need no parentheses. */
  operand(e: Expr): string {
    const s = this.expr(e);
    const tight = e.kind === 'binary' || e.kind === 'isNull' || e.kind === 'in' || e.kind === 'ilike';
    return tight || !(COMPOUND.has(e.kind) || (e.kind === 'template' && !SIMPLE_TEXT.test(s))) ? s : `(${s})`;
  }

  expr(e: Expr): string {
    return visitExpr(e, this.exprs);
  }

  /** An expression safe to embed next to operators: compound ones and non-trivial snippets get parentheses. */
  atom(e: Expr): string {
    const s = this.expr(e);
    if (COMPOUND.has(e.kind) || (e.kind === 'template' && !SIMPLE_TEXT.test(s))) return `(${s})`;
    return s;
  }

  query(query: Query, indent: string): string {
    return visitQuery(query, {
      select: (s) => this.select(s, indent),
      union: (u) => u.selects.map((s) => this.select(s, indent)).join(`\n${indent}UNION ALL\n${indent}`),
    });
  }

  select(s: Select, indent: string): string {
    const compact = (!s.from || s.from.kind === 'table') && s.joins.length === 0;
    const nl = compact ? ' ' : `\n${indent}`;
    const cols = s.columns.map((c) => (c.alias === undefined ? this.expr(c.expr) : `${this.atom(c.expr)} AS ${this.d.quoteIdentifier(c.alias)}`)).join(', ');
    let sql = `SELECT ${s.distinct ? 'DISTINCT ' : ''}${cols}`;
    if (s.from) sql += `${nl}FROM ${this.from(s.from, indent)}`;
    for (const j of s.joins) sql += `${nl}${j.type} JOIN ${this.from(j.item, indent)} ON ${this.expr(j.on)}`;
    if (s.where) sql += `${nl}WHERE ${this.expr(s.where)}`;
    if (s.groupingSets) sql += `${nl}GROUP BY GROUPING SETS (${s.groupingSets.map((set) => `(${set.map((g) => this.atom(g)).join(', ')})`).join(', ')})`;
    else if (s.groupBy.length) sql += `${nl}GROUP BY ${s.groupBy.map((g) => this.atom(g)).join(', ')}`;
    if (s.having) sql += `${nl}HAVING ${this.expr(s.having)}`;
    if (s.orderBy.length) sql += `${nl}ORDER BY ${s.orderBy.map((o) => `${this.atom(o.expr)} ${o.direction.toUpperCase()}`).join(', ')}`;
    if (s.limit !== undefined) sql += `${nl}LIMIT ${integer(s.limit)}`;
    if (s.offset !== undefined && s.offset > 0) sql += `${nl}OFFSET ${integer(s.offset)}`;
    return sql;
  }

  from(item: FromItem, indent: string): string {
    const inner = `${indent}  `;
    return visitFrom(item, {
      cube: (n) => {
        throw new Error(`invariant failed: cube "${n.cube}" reached the printer without tenant scoping`);
      },
      table: (n) => {
        const body = n.isQuery ? `(${n.sql})` : n.sql;
        return n.alias ? `${body} AS ${this.d.quoteIdentifier(n.alias)}` : body;
      },
      derived: (n) => {
        const compact = n.query.kind === 'select' && n.query.from?.kind === 'table' && n.query.joins.length === 0;
        const body = compact ? this.query(n.query, indent) : `\n${inner}${this.query(n.query, inner)}\n${indent}`;
        return `(${body}) AS ${this.d.quoteIdentifier(n.alias)}`;
      },
    });
  }
}

function integer(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`invariant failed: ${n} is not a row count`);
  return String(n);
}
