/**
 * Statements the plain mapping cannot take whole (WITH, UNION/INTERSECT/EXCEPT, window functions,
 * subqueries in WHERE, JOIN … ON, joins between query results) are composed:
 * 1. rewrites that keep everything pushed down: CTEs inlined, the model's joins written with ON,
 *    subqueries used as filters answered first and inlined as values (ctes.ts, joins.ts, sublinks.ts);
 * 2. every select that still reads cube tables becomes a leaf: the query service answers it (same
 *    scopes, tenant pass, cache and audit as any statement) and its rows become a temporary table;
 * 3. what is left — over leaves only, never over a cube — runs on the post engine (a real Postgres,
 *    catalog-db.ts `runOverRows`), which gives it Postgres semantics: UNION, window functions,
 *    joins of results, CASE, ORDER/LIMIT over expressions.
 * User SQL never reaches ClickHouse: leaves go through the translator, the rest only sees leaf rows.
 */
import { deparse } from 'pgsql-deparser';
import { encodeText, OID, type ParamValue, TYPE_NAME } from '../pg-types.js';
import { SqlError, SQLSTATE } from '../sql-error.js';
import { type Node, kindOf } from '../translate/ast.js';
import { aggregateCalls } from '../translate/post.js';
import { isCubeRangeVar, type SemanticPlan } from '../translate/select.js';
import { inlineCtes } from './ctes.js';
import { expandGroupingSets, hasGroupingSets } from './grouping-sets.js';
import { commaJoins, modelJoins, semiJoins } from './joins.js';
import { cellConst, clone, isSetOperation, nullConst, parseSelectBody, quoteIdent, visitExpr } from './nodes.js';
import { inlineSublinks } from './sublinks.js';
import type { ComposeContext } from './types.js';
import { hasWindows, splitWindows } from './window-split.js';

/** Rows one composed statement may hold in its temporary tables (the post engine is in memory). */
export const MAX_COMPOSED_ROWS = 200_000;

export interface TempTable {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Cells in Postgres text format. */
  readonly rows: readonly (readonly (string | null)[])[];
}

export type Composed =
  /** The rewrites made the statement one semantic query: answered as usual. */
  | { readonly kind: 'plan'; readonly plan: SemanticPlan }
  /** SQL over the temporary tables, for the post engine. */
  | { readonly kind: 'engine'; readonly sql: string; readonly tables: readonly TempTable[] };

export { needsCompose } from './features.js';

export interface ComposeOptions {
  /** Bound parameter values ($n) of the parts that run on the post engine. */
  param(n: number): ParamValue | undefined;
  /** Records the type of a $n used only by the post engine's part (text). */
  expect(n: number, oid: number): void;
  readonly maxRows?: number;
}

export async function compose(select: Node, ctx: ComposeContext, opts: ComposeOptions): Promise<Composed> {
  return new Composer(ctx, opts).run(select);
}

class Composer {
  private readonly tables: TempTable[] = [];
  private rows = 0;
  private plan?: SemanticPlan;

  constructor(
    private readonly ctx: ComposeContext,
    private readonly opts: ComposeOptions,
  ) {}

  async run(select: Node): Promise<Composed> {
    let s = clone(select);
    const inlined = s.withClause ? inlineCtes(s) : undefined;
    if (inlined) {
      s = inlined;
      const plan = this.tryTranslate(s);
      if (plan) return { kind: 'plan', plan };
    }
    const outer = await this.rewrite(s, true);
    if (this.plan) return { kind: 'plan', plan: this.plan };
    this.bindParams(outer);
    return { kind: 'engine', sql: await deparse({ SelectStmt: outer } as never), tables: this.tables };
  }

  private tryTranslate(s: Node): SemanticPlan | undefined {
    try {
      return this.ctx.translate(s);
    } catch {
      return undefined;
    }
  }

  /** `s` with every select that reads cubes replaced by a leaf (or, at the top, kept as a plan). */
  private async rewrite(written: Node, top = false): Promise<Node> {
    const s = (written.withClause && inlineCtes(written)) || written;
    if (isSetOperation(s)) {
      await this.ctes(s);
      s.larg = await this.rewrite(s.larg);
      s.rarg = await this.rewrite(s.rarg);
      return s;
    }
    await this.ctes(s);
    if (this.readsCubes(s)) {
      if (s.withClause)
        throw this.ctx.at.unsupported('WITH in a query that also reads cube tables directly is not supported; read the cube inside a WITH query too');
      modelJoins(s, this.ctx.catalog);
      commaJoins(s, this.ctx.catalog);
      await semiJoins(s, this.ctx);
      await inlineSublinks(s, this.ctx);
      if (hasWindows(s)) return this.rewrite(splitWindows(s), top);
      if (hasGroupingSets(s)) return this.rewrite(expandGroupingSets(s, this.ctx), top);
      const plan = this.ctx.translate(s);
      if (top) {
        this.plan = plan;
        return s;
      }
      return this.leaf(s);
    }
    for (const sub of this.subselects(s)) sub.SelectStmt = await this.rewrite(sub.SelectStmt);
    return s;
  }

  /** WITH queries that could not be inlined (read elsewhere than FROM): each composed in turn. */
  private async ctes(s: Node): Promise<void> {
    for (const c of s.withClause?.ctes ?? []) {
      const q = c.CommonTableExpr.ctequery;
      if (kindOf(q) === 'SelectStmt') q.SelectStmt = await this.rewrite(q.SelectStmt);
    }
  }

  /**
   * Whether a FROM item of this level (through joins) is a cube table, or a plain projection of one
   * (Superset's `virtual_table`): the translator reads those through to the cube (COUNT(*) counts fact
   * rows), so this level must be translated with it rather than over its grouped rows.
   */
  private readsCubes(s: Node): boolean {
    const visit = (item: Node): boolean => {
      if (kindOf(item) === 'RangeVar') return isCubeRangeVar(item.RangeVar, this.ctx.catalog);
      if (kindOf(item) === 'JoinExpr') return visit(item.JoinExpr.larg) || visit(item.JoinExpr.rarg);
      if (kindOf(item) === 'RangeSubselect') return this.isProjection(item.RangeSubselect.subquery.SelectStmt);
      return false;
    };
    return (s.fromClause ?? []).some(visit);
  }

  private isProjection(s: Node): boolean {
    if (isSetOperation(s) || s.withClause || s.groupClause || s.havingClause || s.distinctClause || s.limitCount || s.limitOffset) return false;
    if (aggregateCalls(s.targetList ?? []).length) return false;
    const cubeOnly = (item: Node): boolean =>
      kindOf(item) === 'RangeVar'
        ? isCubeRangeVar(item.RangeVar, this.ctx.catalog)
        : kindOf(item) === 'JoinExpr' && cubeOnly(item.JoinExpr.larg) && cubeOnly(item.JoinExpr.rarg);
    return Boolean(s.fromClause?.length) && s.fromClause.every(cubeOnly);
  }

  /** The wrapped selects this level reads: subqueries in FROM and in expressions. */
  private subselects(s: Node): Node[] {
    const out: Node[] = [];
    const fromItem = (item: Node): void => {
      if (kindOf(item) === 'RangeSubselect') out.push(item.RangeSubselect.subquery);
      if (kindOf(item) === 'JoinExpr') {
        fromItem(item.JoinExpr.larg);
        fromItem(item.JoinExpr.rarg);
        visitExpr(item.JoinExpr.quals, (n) => kindOf(n) === 'SubLink' && out.push(n.SubLink.subselect));
      }
    };
    for (const item of s.fromClause ?? []) fromItem(item);
    for (const k of ['targetList', 'whereClause', 'havingClause', 'sortClause', 'groupClause']) {
      visitExpr(s[k], (n) => kindOf(n) === 'SubLink' && out.push(n.SubLink.subselect));
    }
    return out;
  }

  /** Answers `s` through the query service and stands a temporary table in for it. */
  private async leaf(s: Node): Promise<Node> {
    const { plan, rows } = await this.ctx.evaluate(s);
    this.rows += rows.length;
    const max = this.opts.maxRows ?? MAX_COMPOSED_ROWS;
    if (this.rows > max) {
      throw new SqlError(
        SQLSTATE.TOO_MANY_ROWS,
        `the parts of this statement return more than ${max} rows, the most Strata combines in one statement (UNION, WITH, window functions, joins of results)`,
        undefined,
        'ERROR',
        'Aggregate or filter inside the subqueries.',
      );
    }
    const name = `strata_leaf_${this.tables.length + 1}`;
    this.tables.push({
      name,
      columns: plan.columns.map((c, i) => ({ name: `c${i + 1}`, type: TYPE_NAME[c.oid] ?? 'text' })),
      rows: rows.map((r) => r.map((v, i) => encodeText(plan.columns[i].oid, v))),
    });
    return parseSelectBody(`SELECT ${plan.columns.map((c, i) => `c${i + 1} AS ${quoteIdent(c.name)}`).join(', ')} FROM pg_temp.${name}`);
  }

  /** $n left in the post engine's part become literals (the engine runs unparameterized SQL). */
  private bindParams(root: Node): void {
    const visit = (n: unknown): unknown => {
      if (Array.isArray(n)) return n.map(visit);
      if (!n || typeof n !== 'object') return n;
      const o = n as Node;
      if (kindOf(o) === 'ParamRef') {
        const number: number = o.ParamRef.number;
        const v = this.opts.param(number);
        if (v === undefined) this.opts.expect(number, OID.text);
        return v === undefined ? nullConst() : cellConst(v);
      }
      for (const [k, v] of Object.entries(o)) o[k] = visit(v);
      return o;
    };
    visit(root);
  }
}
