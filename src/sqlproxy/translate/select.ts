/**
 * SELECT over cubes/views -> SemanticQuery. Pure: it needs only the caller's catalog (what the
 * principal may see), the bound parameters, the clock and the session time zone. Anything it
 * cannot map exactly is refused with a SQLSTATE and a position; nothing is ever forwarded.
 */
import type { CatalogCube, CatalogMember } from '../../query/types.js';
import type { Filter, Granularity, OrderDirection, SemanticQuery } from '../../semantic/query.js';
import { GRANULARITIES } from '../../semantic/query.js';
import { suggest } from '../../semantic/suggest.js';
import { OID, type Cell } from '../pg-types.js';
import { SqlError, SQLSTATE } from '../sql-error.js';
import { type Node, type PositionOf, kindOf, locationOf, plainName, Positioned, strings } from './ast.js';
import { conjuncts, FALSE, filter, member, negateFilter, type Predicate, TRUE } from './filters.js';
import { memberOid, tableColumns } from './columns.js';
import { castOid, evalValue, localText, type ParamSource, toBool, toNumber, toText, toTimestamp, truncUnit, type Value, type ValueContext } from './values.js';
import { DateTime } from 'luxon';
import { type AggSpec, inferOid, keyNode, type PostColumn, type PostPlan } from './derived.js';
import { aggregateCalls, columnRefs, exprKey, unsupportedCall } from './post.js';

export interface OutputColumn {
  readonly name: string;
  readonly oid: number;
  /** Where the cell comes from: a QueryResult row key, or a constant. */
  readonly source: { readonly kind: 'key'; readonly key: string } | { readonly kind: 'constant'; readonly value: Cell };
}

export interface SemanticPlan {
  readonly query: SemanticQuery;
  readonly columns: readonly OutputColumn[];
  /** Known to return no rows (WHERE false, LIMIT 0): the door answers without loading. */
  readonly empty: boolean;
  /** Expressions finished over the loaded rows (derived.ts `finish`); output keys are "c0", "c1", ... */
  readonly post?: PostPlan;
}

export interface TranslateOptions {
  readonly catalog: readonly CatalogCube[];
  readonly params: ParamSource;
  readonly now: Date;
  readonly timezone: string;
  readonly position: PositionOf;
}

/** Thrown for a column the caller cannot see; the door may probe whether it exists but is forbidden. */
export class UnknownColumnError extends SqlError {
  constructor(
    message: string,
    position: number | undefined,
    /** "cube.column" when the table is known. */
    readonly memberPath: string | undefined,
    hint?: string,
  ) {
    super(SQLSTATE.UNDEFINED_COLUMN, message, position, 'ERROR', hint);
  }
}

// ---- internal shapes ----

/** What a name in FROM scope stands for. */
type Raw =
  | { readonly kind: 'column'; readonly cube: CatalogCube; readonly member: CatalogMember }
  | { readonly kind: 'time'; readonly member: CatalogMember; readonly granularity: Granularity; readonly asDate: boolean }
  | { readonly kind: 'constant'; readonly value: Cell; readonly oid: number }
  /** An output column of an aggregated subquery. */
  | { readonly kind: 'resolved'; readonly item: Item };

/** A projected expression. */
type Item =
  | { readonly kind: 'dimension'; readonly path: string; readonly oid: number; readonly type: CatalogMember['type'] }
  | { readonly kind: 'time'; readonly path: string; readonly granularity: Granularity; readonly oid: number }
  | { readonly kind: 'measure'; readonly path: string; readonly oid: number; readonly type: CatalogMember['type'] }
  | { readonly kind: 'segment'; readonly path: string }
  | { readonly kind: 'constant'; readonly value: Cell; readonly oid: number }
  /** An expression finished over the loaded rows (post.ts). */
  | { readonly kind: 'derived'; readonly key: string; readonly node: Node; readonly aggregated: boolean; readonly oid: number };

/** Members and expressions collected for the finishing step. */
interface PostState {
  readonly refs: Map<string, { key: string; time: boolean }>;
  readonly aggs: Map<string, AggSpec>;
  readonly base: Item[];
}

interface ScopeEntry {
  readonly qualifier: string;
  readonly table: string;
  readonly cube?: CatalogCube;
  readonly columns: ReadonlyMap<string, Raw>;
  readonly order: readonly string[];
}

interface Parts {
  measures: string[];
  dimensions: string[];
  timeDimensions: { dimension: string; granularity: Granularity }[];
  segments: string[];
  filters: Filter[];
  order: [string, OrderDirection][];
  limit?: number;
  offset?: number;
  empty: boolean;
}

/** A filterable thing on the left of a predicate. */
interface Target {
  readonly path: string;
  readonly kind: 'dimension' | 'measure' | 'segment';
  readonly type: CatalogMember['type'];
  readonly oid: number;
  /** Time truncation applied to the column (date_trunc, CAST AS date). */
  readonly trunc?: Granularity;
  /** LOWER()/UPPER() applied: only LIKE/ILIKE may use it (Cube's contains is case-insensitive). */
  readonly folded?: boolean;
  /** extract(epoch from col): values are epoch seconds (Grafana's $__unixEpochFilter). */
  readonly epoch?: boolean;
}

const AGGREGATES = new Set(['sum', 'count', 'avg', 'min', 'max', 'measure']);
const GRANULARITY_RANK = new Map(GRANULARITIES.map((g, i) => [g, i]));
const LUXON_UNIT: Readonly<Record<Granularity, string>> = {
  second: 'seconds',
  minute: 'minutes',
  hour: 'hours',
  day: 'days',
  week: 'weeks',
  month: 'months',
  quarter: 'quarters',
  year: 'years',
};

export function translateSelect(select: Node, opts: TranslateOptions): SemanticPlan {
  return new Translator(opts).top(select);
}

/** Cube or view names a statement reads through RangeVars in schema public (or unqualified). */
export function isCubeRangeVar(rv: Node, catalog: readonly CatalogCube[]): boolean {
  const schema: string | undefined = rv.schemaname;
  if (schema && schema !== 'public') return false;
  return catalog.some((c) => c.name === rv.relname);
}

class Translator {
  private readonly at: Positioned;
  /** Set while translating the top-level select: where derived expressions register their members. */
  private state?: PostState;
  /** Case-sensitive LIKE conditions checked over the loaded rows (with the scope they resolve in). */
  private rowFilters: Node[] = [];
  private scopeForRowFilter?: ScopeEntry[];
  private readonly vctx: ValueContext;

  constructor(private readonly opts: TranslateOptions) {
    this.at = new Positioned(opts.position);
    this.vctx = { at: this.at, params: opts.params, now: opts.now, timezone: opts.timezone };
  }

  top(select: Node): SemanticPlan {
    const { parts, columns, post } = this.select(select, true);
    const items = columns.map((c) => c.item);
    if (!parts.measures.length && !parts.dimensions.length && !parts.timeDimensions.length && !parts.empty) {
      if (items.some((i) => i.kind === 'segment')) {
        throw this.at.unsupported('a segment column has no per-row value; select a dimension or a measure with it, or filter on it in WHERE');
      }
      throw this.at.unsupported('select at least one dimension or measure of the table (constant-only selects over a cube are not supported)');
    }
    const query: SemanticQuery = {
      ...(parts.measures.length ? { measures: parts.measures } : {}),
      ...(parts.dimensions.length ? { dimensions: parts.dimensions } : {}),
      ...(parts.timeDimensions.length ? { timeDimensions: parts.timeDimensions } : {}),
      ...(parts.segments.length ? { segments: parts.segments } : {}),
      ...(parts.filters.length ? { filters: parts.filters } : {}),
      ...(parts.order.length ? { order: parts.order } : {}),
      ...(parts.limit !== undefined ? { limit: parts.limit } : {}),
      ...(parts.offset ? { offset: parts.offset } : {}),
      timezone: this.opts.timezone,
    };
    return {
      query,
      empty: parts.empty,
      columns: columns.map(({ name, item }, i) => ({ name, oid: itemOid(item), source: post ? { kind: 'key', key: `c${i}` } : itemSource(item) })),
      ...(post ? { post } : {}),
    };
  }

  // ---------------------------------------------------------------- SELECT

  private select(s: Node, top = false): { parts: Parts; columns: { name: string; item: Item }[]; aggregated: boolean; post?: PostPlan } {
    this.refuseUnsupportedClauses(s);
    const outerState = this.state;
    const state: PostState = { refs: new Map(), aggs: new Map(), base: [] };
    this.state = top ? state : undefined;
    try {
      return this.selectIn(s, top, state);
    } finally {
      this.state = outerState;
    }
  }

  private selectIn(s: Node, top: boolean, state: PostState): { parts: Parts; columns: { name: string; item: Item }[]; aggregated: boolean; post?: PostPlan } {
    const from: Node[] = s.fromClause ?? [];
    if (!from.length) throw this.at.unsupported('a query without FROM cannot be mixed with cube tables');
    const parts: Parts = { measures: [], dimensions: [], timeDimensions: [], segments: [], filters: [], order: [], empty: false };
    const scope = this.fromClause(from, parts);
    if ((parts.limit !== undefined || parts.offset) && (s.whereClause || s.sortClause?.length || s.havingClause)) {
      throw this.at.unsupported(
        'filtering or ordering over a subquery that has LIMIT/OFFSET is not supported',
        s.whereClause ?? s.sortClause?.[0]?.SortBy?.node,
      );
    }
    if (s.sortClause?.length) parts.order = [];
    const aggregated = isAggregated(s);
    const wrapper = scope.length === 1 && scope[0].columns.size > 0 && [...scope[0].columns.values()].some((r) => r.kind === 'resolved');
    if (wrapper && aggregated) {
      throw this.at.unsupported('aggregating over an aggregated subquery is not supported; aggregate in one SELECT', s.groupClause?.[0] ?? s.targetList?.[0]);
    }

    // Select list.
    const columns: { name: string; item: Item; node?: Node }[] = [];
    for (const target of s.targetList ?? []) {
      const rt = target.ResTarget;
      const val: Node = rt.val;
      if (kindOf(val) === 'ColumnRef' && strings(val.ColumnRef.fields).at(-1) === '*') {
        for (const { name, raw } of this.star(val, scope)) columns.push({ name, item: this.rawItem(raw) });
        continue;
      }
      const item = this.exprOrDerived(val, scope, 'select');
      columns.push({ name: rt.name ?? figureName(val), item, node: val });
    }

    // WHERE.
    this.scopeForRowFilter = top ? scope : undefined;
    if (s.whereClause) this.applyPredicate(this.predicate(s.whereClause, scope, 'where'), parts);
    this.scopeForRowFilter = undefined;

    // GROUP BY.
    const grouped = new Set<string>();
    let groupDerived = false;
    for (const g of s.groupClause ?? []) {
      if (kindOf(g) === 'GroupingSet') throw this.at.unsupported('GROUPING SETS, ROLLUP and CUBE are not supported', g);
      const item = this.groupItem(g, columns, scope);
      if (item.kind === 'measure') throw this.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', g);
      if (item.kind === 'segment') throw this.at.unsupported('cannot group by a segment column', g);
      if (item.kind === 'constant') continue;
      if (item.kind === 'derived' && item.aggregated) throw this.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', g);
      if (item.kind === 'derived') groupDerived = true;
      grouped.add(itemKey(item));
      addItem(parts, item);
    }

    for (const c of columns) {
      if (
        aggregated &&
        (c.item.kind === 'dimension' || c.item.kind === 'time' || (c.item.kind === 'derived' && !c.item.aggregated)) &&
        !grouped.has(itemKey(c.item))
      ) {
        throw this.at.error(SQLSTATE.GROUPING, `column "${c.name}" must appear in the GROUP BY clause or be used in an aggregate function`, c.node);
      }
      addItem(parts, c.item);
    }

    const orderDerived = (s.sortClause ?? []).some((sb: Node) => this.orderItem(sb.SortBy.node, columns, scope).kind === 'derived');
    const derived = columns.some((c) => c.item.kind === 'derived') || groupDerived || orderDerived;
    const noGrouping = top && aggregated && !parts.dimensions.length && !parts.timeDimensions.length && !s.havingClause;
    if (top && (derived || noGrouping || this.rowFilters.length)) return this.postPlan(s, scope, parts, columns, aggregated, state);
    if (derived) throw this.at.unsupported('expressions over cube columns are not supported in a subquery; put them in the outer query', s.targetList?.[0]);

    // HAVING.
    if (s.havingClause) this.applyPredicate(this.predicate(s.havingClause, scope, 'having'), parts);

    // ORDER BY.
    for (const sb of s.sortClause ?? []) {
      const by = sb.SortBy;
      if (by.sortby_dir === 'SORTBY_USING') throw this.at.unsupported('ORDER BY ... USING is not supported', by.node);
      const item = this.orderItem(by.node, columns, scope);
      if (item.kind === 'constant') continue;
      if (item.kind === 'segment') throw this.at.unsupported('cannot order by a segment column', by.node);
      if (item.kind === 'derived') throw this.at.unsupported('this ORDER BY expression is not supported', by.node);
      const key = itemKey(item);
      if (item.kind === 'measure') {
        if (!parts.measures.includes(item.path)) parts.measures.push(item.path);
      } else if (!parts.dimensions.includes(key) && !parts.timeDimensions.some((t) => `${t.dimension}.${t.granularity}` === key)) {
        if (aggregated) throw this.at.error(SQLSTATE.GROUPING, `ORDER BY expression must appear in the GROUP BY clause`, by.node);
        throw this.at.unsupported('ORDER BY a dimension that is not selected would change the grouping; select it too', by.node);
      }
      parts.order.push([item.path, by.sortby_dir === 'SORTBY_DESC' ? 'desc' : 'asc']);
    }

    this.limitOffset(s, parts);
    return { parts, columns, aggregated };
  }

  private refuseUnsupportedClauses(s: Node): void {
    if (s.op && s.op !== 'SETOP_NONE') throw this.at.unsupported('UNION, INTERSECT and EXCEPT are not supported over cubes', s.larg?.targetList?.[0]);
    if (s.withClause)
      throw this.at.unsupported(
        'WITH (common table expressions) is not supported over cubes; use a subquery in FROM',
        s.withClause.WithClause ? s.withClause.WithClause.location : undefined,
      );
    if (s.intoClause) throw this.at.unsupported('SELECT INTO is not supported');
    if (s.lockingClause?.length) throw this.at.unsupported('FOR UPDATE/SHARE is not supported (the SQL interface is read-only)');
    if (s.windowClause?.length) throw this.at.unsupported('window functions are not supported');
    if (s.valuesLists?.length) throw this.at.unsupported('VALUES is not supported here');
    const distinct: Node[] | undefined = s.distinctClause;
    if (distinct?.length && distinct.some((d) => Object.keys(d).length > 0)) {
      throw this.at.unsupported(
        'DISTINCT ON is not supported',
        distinct.find((d) => Object.keys(d).length > 0),
      );
    }
  }

  private limitOffset(s: Node, parts: Parts): void {
    if (s.limitOption === 'LIMIT_OPTION_WITH_TIES') throw this.at.unsupported('FETCH ... WITH TIES is not supported', s.limitCount);
    const count = s.limitCount ? this.intValue(s.limitCount, 'LIMIT', '2201W') : undefined;
    const offset = s.limitOffset ? this.intValue(s.limitOffset, 'OFFSET', '2201X') : undefined;
    if (parts.limit !== undefined && (count !== undefined || offset !== undefined)) {
      // Outer LIMIT/OFFSET over an inner limited subquery.
      const innerLimit = parts.limit;
      const skip = offset ?? 0;
      parts.offset = (parts.offset ?? 0) + skip;
      parts.limit = Math.max(0, Math.min(innerLimit - skip, count ?? Infinity));
    } else {
      if (count !== undefined) parts.limit = count;
      if (offset !== undefined) parts.offset = (parts.offset ?? 0) + offset;
    }
    if (parts.limit === 0) parts.empty = true;
  }

  private intValue(node: Node, what: string, code: string): number | undefined {
    const v = toNumber(evalValue(node, this.vctx, OID.int8), this.vctx, node);
    if (v.t === 'null') return undefined;
    if (v.t === 'unknown') return undefined;
    if (v.t !== 'number' || !Number.isInteger(v.v)) throw this.at.error(SQLSTATE.INVALID_TEXT, `${what} must be an integer`, node);
    if (v.v < 0) throw this.at.error(code, `${what} must not be negative`, node);
    return v.v;
  }

  // ---------------------------------------------------------------- FROM

  private fromClause(from: Node[], parts: Parts): ScopeEntry[] {
    const entries: ScopeEntry[] = [];
    const visit = (n: Node) => {
      switch (kindOf(n)) {
        case 'RangeVar':
          entries.push(this.rangeVar(n));
          return;
        case 'JoinExpr': {
          const j = n.JoinExpr;
          const onTrue = j.quals && kindOf(j.quals) === 'A_Const' && j.quals.A_Const.boolval?.boolval === true;
          if (j.jointype !== 'JOIN_INNER' || j.isNatural || j.usingClause || (j.quals && !onTrue)) {
            throw this.at.unsupported(
              "explicit JOIN conditions are not supported: query a view, or CROSS JOIN cubes and the model's join is used",
              j.quals ?? j.larg,
              'Views expose members of several cubes as one table.',
            );
          }
          visit(j.larg);
          visit(j.rarg);
          return;
        }
        case 'RangeSubselect': {
          if (from.length !== 1) throw this.at.unsupported('a subquery in FROM cannot be combined with other tables', n);
          if (n.RangeSubselect.lateral) throw this.at.unsupported('LATERAL is not supported', n);
          entries.push(this.subquery(n, parts));
          return;
        }
        case 'RangeFunction':
          throw this.at.unsupported('functions in FROM are not supported over cubes', n);
        default:
          throw this.at.unsupported(`${kindOf(n)} in FROM is not supported`, n);
      }
    };
    for (const f of from) visit(f);
    const cubes = entries.filter((e) => e.cube).map((e) => e.cube!);
    if (cubes.length > 1) this.checkJoinable(cubes, from);
    return entries;
  }

  private rangeVar(n: Node): ScopeEntry {
    const rv = n.RangeVar;
    const loc = rv.location;
    if (rv.schemaname && rv.schemaname !== 'public') {
      throw this.at.error(SQLSTATE.UNDEFINED_TABLE, `relation "${rv.schemaname}.${rv.relname}" does not exist`, loc);
    }
    const cube = this.opts.catalog.find((c) => c.name === rv.relname);
    if (!cube) {
      const s = suggest(
        rv.relname,
        this.opts.catalog.map((c) => c.name),
      );
      throw this.at.error(SQLSTATE.UNDEFINED_TABLE, `relation "${rv.relname}" does not exist`, loc, s ? `Perhaps you meant "${s}".` : undefined);
    }
    const columns = new Map<string, Raw>();
    const order: string[] = [];
    for (const col of tableColumns(cube)) {
      columns.set(col.name, { kind: 'column', cube, member: col.member });
      order.push(col.name);
    }
    return { qualifier: rv.alias?.aliasname ?? rv.relname, table: rv.relname, cube, columns, order };
  }

  private subquery(n: Node, outerParts: Parts): ScopeEntry {
    const sub = n.RangeSubselect;
    const alias: string = sub.alias?.aliasname ?? 'subquery';
    const s: Node = sub.subquery.SelectStmt;
    if (!s) throw this.at.unsupported('only SELECT subqueries are supported in FROM', n);
    const transparent = !isAggregated(s) && !s.limitCount && !s.limitOffset && !s.distinctClause?.length && !s.havingClause && (s.fromClause?.length ?? 0) > 0;
    const columns = new Map<string, Raw>();
    const order: string[] = [];
    if (transparent) {
      // A projection of cube columns: its names become aliases, its WHERE joins the outer query.
      this.refuseUnsupportedClauses(s);
      const scope = this.fromClause(s.fromClause, outerParts);
      for (const target of s.targetList ?? []) {
        const rt = target.ResTarget;
        const val: Node = rt.val;
        if (kindOf(val) === 'ColumnRef' && strings(val.ColumnRef.fields).at(-1) === '*') {
          for (const { name, raw } of this.star(val, scope)) {
            columns.set(name, raw);
            order.push(name);
          }
          continue;
        }
        const name: string = rt.name ?? figureName(val);
        columns.set(name, this.rawOf(val, scope));
        order.push(name);
      }
      if (s.whereClause) this.applyPredicate(this.predicate(s.whereClause, scope, 'where'), outerParts);
      return { qualifier: alias, table: alias, columns, order };
    }
    // An aggregated subquery: the outer query may only project, filter, order and limit it.
    const inner = this.select(s);
    Object.assign(outerParts, inner.parts);
    for (const { name, item } of inner.columns) {
      columns.set(name, { kind: 'resolved', item });
      order.push(name);
    }
    return { qualifier: alias, table: alias, columns, order };
  }

  private checkJoinable(cubes: CatalogCube[], from: Node[]): void {
    const view = cubes.find((c) => c.kind === 'view');
    if (view) throw this.at.unsupported(`view "${view.name}" cannot be joined with other tables`, from[0]);
    const names = new Set(cubes.map((c) => c.name));
    const adjacent = new Map<string, Set<string>>();
    for (const c of this.opts.catalog) {
      for (const j of c.joins) {
        if (!adjacent.has(c.name)) adjacent.set(c.name, new Set());
        if (!adjacent.has(j.target)) adjacent.set(j.target, new Set());
        adjacent.get(c.name)!.add(j.target);
        adjacent.get(j.target)!.add(c.name);
      }
    }
    // Every cube must be reachable from the first through the model's joins.
    const seen = new Set<string>([cubes[0].name]);
    const queue = [cubes[0].name];
    while (queue.length) {
      for (const next of adjacent.get(queue.shift()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    const unreachable = [...names].find((n) => !seen.has(n));
    if (unreachable) throw this.at.unsupported(`the model defines no join between "${cubes[0].name}" and "${unreachable}"`, from[0]);
  }

  private star(ref: Node, scope: ScopeEntry[]): { name: string; raw: Raw }[] {
    const fields = strings(ref.ColumnRef.fields);
    const entries = fields.length > 1 ? [this.entry(fields.slice(0, -1), scope, ref)] : scope;
    return entries.flatMap((e) => e.order.map((name) => ({ name, raw: e.columns.get(name)! })));
  }

  private entry(qual: string[], scope: ScopeEntry[], node: Node): ScopeEntry {
    const table = qual.at(-1)!;
    const schema = qual.length > 1 ? qual.at(-2) : undefined;
    const found = scope.find((e) => e.qualifier === table && (!schema || (schema === 'public' && e.table === table && e.cube)));
    if (!found) throw this.at.error(SQLSTATE.UNDEFINED_TABLE, `missing FROM-clause entry for table "${table}"`, node);
    return found;
  }

  // ---------------------------------------------------------------- names

  private resolve(ref: Node, scope: ScopeEntry[]): Raw {
    const fields = strings(ref.ColumnRef.fields);
    const name = fields.at(-1)!;
    const loc = ref.ColumnRef.location;
    if (fields.length > 1) {
      const e = this.entry(fields.slice(0, -1), scope, ref);
      const raw = e.columns.get(name);
      if (!raw) throw this.unknownColumn(`${fields.slice(0, -1).join('.')}.${name}`, name, [e], loc);
      return raw;
    }
    const hits = scope.filter((e) => e.columns.has(name));
    if (hits.length > 1) throw this.at.error(SQLSTATE.AMBIGUOUS_COLUMN, `column reference "${name}" is ambiguous`, loc);
    if (!hits.length) throw this.unknownColumn(name, name, scope, loc);
    return hits[0].columns.get(name)!;
  }

  private unknownColumn(shown: string, name: string, scope: ScopeEntry[], loc: number): SqlError {
    const candidates = scope.flatMap((e) => e.order.map((c) => ({ e, c })));
    const best = suggest(
      name,
      candidates.map((x) => x.c),
    );
    const owner = scope.length === 1 && scope[0].cube ? scope[0].cube.name : undefined;
    return new UnknownColumnError(
      `column ${JSON.stringify(shown)} does not exist`,
      this.opts.position(loc),
      owner ? `${owner}.${name}` : undefined,
      best ? `Perhaps you meant to reference the column "${best}".` : undefined,
    );
  }

  // ---------------------------------------------------------------- expressions

  private rawItem(raw: Raw): Item {
    switch (raw.kind) {
      case 'constant':
        return { kind: 'constant', value: raw.value, oid: raw.oid };
      case 'resolved':
        return raw.item;
      case 'time':
        return { kind: 'time', path: raw.member.path, granularity: raw.granularity, oid: raw.asDate ? OID.date : OID.timestamp };
      case 'column': {
        const m = raw.member;
        if (m.kind === 'segment') return { kind: 'segment', path: m.path };
        if (m.kind === 'measure') return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
        return { kind: 'dimension', path: m.path, oid: memberOid(m), type: m.type };
      }
    }
  }

  /** An expression of the select list, GROUP BY or ORDER BY. */
  private exprItem(node: Node, scope: ScopeEntry[], clause: 'select' | 'group' | 'order'): Item {
    switch (kindOf(node)) {
      case 'ColumnRef':
        if (strings(node.ColumnRef.fields).at(-1) === '*') throw this.at.unsupported('* is only allowed in the select list', node);
        return this.rawItem(this.resolve(node, scope));
      case 'A_Const':
      case 'SQLValueFunction':
        return this.constItem(node);
      case 'TypeCast': {
        const type = plainName(node.TypeCast.typeName.names);
        if (!this.mentionsColumn(node.TypeCast.arg)) return this.constItem(node);
        return this.castItem(this.exprItem(node.TypeCast.arg, scope, clause), type, node);
      }
      case 'FuncCall': {
        const fc = node.FuncCall;
        const fn = plainName(fc.funcname);
        if (fc.over) throw this.at.unsupported('window functions are not supported', node);
        if (AGGREGATES.has(fn)) {
          if (clause === 'group') throw this.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', node);
          return this.aggregate(node, scope);
        }
        if (fn === 'date_trunc' || fn === 'date') {
          const t = this.timeTarget(node, scope);
          if (t) return { kind: 'time', path: t.path, granularity: t.granularity, oid: fn === 'date' ? OID.date : OID.timestamp };
        }
        if (!this.mentionsColumn(node)) return this.constItem(node);
        throw this.at.unsupported(
          `function ${fn}() is not supported over cube columns`,
          node,
          'Supported: MEASURE(), SUM/COUNT/AVG/MIN/MAX matching the measure type, date_trunc(), CAST(... AS date).',
        );
      }
      default:
        if (!this.mentionsColumn(node)) return this.constItem(node);
        throw this.at.unsupported(
          'expressions over cube columns are not supported; select columns, MEASURE(col), aggregates, date_trunc() or CAST',
          node,
          'Define a measure or dimension in the model for derived values.',
        );
    }
  }

  /** The plain mapping, or (top-level select only) an expression finished over the loaded rows. */
  private exprOrDerived(node: Node, scope: ScopeEntry[], clause: 'select' | 'group' | 'order'): Item {
    try {
      return this.exprItem(node, scope, clause);
    } catch (e) {
      if (!this.state || !(e instanceof SqlError) || e.code !== SQLSTATE.NOT_SUPPORTED) throw e;
      try {
        return this.derive(node, scope, this.state);
      } catch {
        throw e;
      }
    }
  }

  private derive(node: Node, scope: ScopeEntry[], state: PostState): Item {
    const bad = unsupportedCall(node);
    if (bad) throw this.at.unsupported('this function is not supported over cube columns', bad);
    const aggs = aggregateCalls(node);
    const oids = new Map<string, number>();
    for (const ref of columnRefs(node)) {
      const item = this.rawItem(this.resolve(ref, scope));
      if (item.kind !== 'dimension' && item.kind !== 'time')
        throw this.at.unsupported('only dimension columns may appear outside aggregates in an expression', ref);
      state.refs.set(exprKey(ref), { key: itemKey(item), time: item.kind === 'time' || item.type === 'time' });
      state.base.push(item);
      oids.set(exprKey(ref), item.oid);
    }
    for (const call of aggs) state.aggs.set(exprKey(call), this.aggSpec(call, scope, state));
    const oid = inferOid(node, (ref) => {
      const known = oids.get(exprKey(ref));
      if (known !== undefined) return known;
      const item = this.rawItem(this.resolve(ref, scope));
      return item.kind === 'segment' ? OID.bool : item.oid;
    });
    return { kind: 'derived', key: exprKey(node), node, aggregated: aggs.length > 0, oid };
  }

  /** What an aggregate call inside an expression reads: a measure, SUM/COUNT, or an aggregate of a dimension. */
  private aggSpec(call: Node, scope: ScopeEntry[], state: PostState): AggSpec {
    const fc = call.FuncCall;
    const fn = plainName(fc.funcname);
    const args: Node[] = fc.args ?? [];
    const measureSpec = (item: Item): AggSpec => {
      if (item.kind !== 'measure') throw this.at.unsupported(`${fn}() is not supported here`, call);
      state.base.push(item);
      const m = this.memberOf(item.path, scope);
      return { kind: 'measure', key: item.path, merge: mergeOf(m?.aggType), name: m?.name ?? item.path, count: m?.aggType === 'count' };
    };
    try {
      return measureSpec(this.aggregate(call, scope));
    } catch (e) {
      const arg = args[0];
      const argKind = arg ? kindOf(arg) : '';
      const isOne = argKind === 'A_Const' && arg.A_Const.ival?.ival === 1;
      if (((fn === 'count' && !fc.agg_distinct) || fn === 'sum') && isOne) return measureSpec(this.countItem(scope, call));
      if (argKind === 'ColumnRef') {
        const item = this.rawItem(this.resolve(arg, scope));
        if ((item.kind === 'dimension' || item.kind === 'time') && (fn === 'min' || fn === 'max' || (fn === 'count' && fc.agg_distinct))) {
          state.base.push(item);
          return { kind: 'dimension', fn: fn === 'count' ? 'count_distinct' : fn, key: itemKey(item), time: item.kind === 'time' || item.type === 'time' };
        }
        const m = item.kind === 'measure' ? this.memberOf(item.path, scope) : undefined;
        if (fn === 'avg' && m?.aggType === 'sum' && !fc.agg_distinct) {
          const count = this.countItem(scope, call);
          state.base.push(item, count);
          return { kind: 'ratio', sum: m.path, count: itemKey(count) };
        }
      }
      throw e;
    }
  }

  private memberOf(path: string, scope: ScopeEntry[]): CatalogMember | undefined {
    for (const c of this.scopeCubes(scope)) {
      const m = c.measures.find((x) => x.path === path);
      if (m) return m;
    }
    return undefined;
  }

  /** The cubes a scope reads, through transparent subqueries too (Superset's virtual_table). */
  private scopeCubes(scope: ScopeEntry[]): CatalogCube[] {
    const out = new Set<CatalogCube>();
    for (const e of scope) {
      if (e.cube) out.add(e.cube);
      else for (const raw of e.columns.values()) if (raw.kind === 'column') out.add(raw.cube);
    }
    return [...out];
  }

  /** The row-count measure for COUNT(*): the cube's `count`, else its first count measure. */
  private countItem(scope: ScopeEntry[], node: Node): Extract<Item, { kind: 'measure' }> {
    const cubes = this.scopeCubes(scope);
    if (cubes.length !== 1) throw this.at.unsupported('COUNT(*) over several tables is ambiguous; use MEASURE(table.count)', node);
    const measures = cubes[0].measures.filter((m) => m.aggType === 'count');
    const m = measures.find((x) => x.name === 'count') ?? measures[0];
    if (!m) throw this.at.unsupported(`table "${cubes[0].name}" has no count measure for COUNT(*); add a measure of type count to the model`, node);
    return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
  }

  /** Post mode: ask for the members underneath, finish expressions, HAVING, ORDER BY and LIMIT over the rows. */
  private postPlan(
    s: Node,
    scope: ScopeEntry[],
    parts: Parts,
    columns: { name: string; item: Item; node?: Node }[],
    aggregated: boolean,
    state: PostState,
  ): { parts: Parts; columns: { name: string; item: Item }[]; aggregated: boolean; post: PostPlan } {
    const toColumn = (item: Item): PostColumn => {
      switch (item.kind) {
        case 'dimension':
        case 'time':
          return { kind: 'key', key: itemKey(item), time: item.kind === 'time' || item.type === 'time', group: true };
        case 'measure': {
          const m = this.memberOf(item.path, scope);
          state.aggs.set(exprKey(keyNode(item.path)), {
            kind: 'measure',
            key: item.path,
            merge: mergeOf(m?.aggType),
            name: m?.name ?? item.path,
            count: m?.aggType === 'count',
          });
          return { kind: 'key', key: item.path, time: false, group: false };
        }
        case 'constant':
          return { kind: 'constant', value: item.value };
        case 'segment':
          return { kind: 'constant', value: null };
        case 'derived':
          return { kind: 'expr', node: item.node, aggregated: item.aggregated };
      }
    };
    const post: { -readonly [K in keyof PostPlan]: PostPlan[K] } = {
      columns: columns.map((c) => toColumn(c.item)),
      refs: state.refs,
      aggs: state.aggs,
      order: [],
    };
    if (this.rowFilters.length) post.where = this.rowFilters.length === 1 ? this.rowFilters[0] : { BoolExpr: { boolop: 'AND_EXPR', args: this.rowFilters } };
    if (s.havingClause) {
      this.derive(s.havingClause, scope, state);
      post.having = s.havingClause;
    }
    post.order = (s.sortClause ?? []).flatMap((sb: Node) => {
      const by = sb.SortBy;
      const item = this.orderItem(by.node, columns, scope);
      if (item.kind === 'constant') return [];
      return [
        {
          column: toColumn(item),
          desc: by.sortby_dir === 'SORTBY_DESC',
          nullsFirst: by.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : by.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : undefined,
        },
      ];
    });
    for (const item of [...columns.map((c) => c.item), ...state.base]) if (item.kind !== 'derived') addItem(parts, item);
    for (const a of state.aggs.values()) {
      if (a.kind === 'measure') addItem(parts, { kind: 'measure', path: a.key, oid: OID.numeric, type: 'number' });
    }
    if (aggregated && !parts.dimensions.length && !parts.timeDimensions.length) {
      const cubes = this.scopeCubes(scope);
      const count =
        cubes.length === 1
          ? (cubes[0].measures.find((m) => m.aggType === 'count' && m.name === 'count') ?? cubes[0].measures.find((m) => m.aggType === 'count'))
          : undefined;
      if (count) {
        addItem(parts, { kind: 'measure', path: count.path, oid: OID.int8, type: 'number' });
        post.rowCount = count.path;
      }
    }
    this.limitOffset(s, parts);
    post.limit = parts.limit;
    post.offset = parts.offset;
    parts.limit = undefined;
    parts.offset = undefined;
    parts.order = [];
    return { parts, columns, aggregated, post };
  }

  private constItem(node: Node): Item {
    const v = evalValue(node, this.vctx);
    switch (v.t) {
      case 'null':
        return { kind: 'constant', value: null, oid: OID.text };
      case 'number':
        return { kind: 'constant', value: v.v, oid: Number.isInteger(v.v) && Math.abs(v.v) < 2 ** 31 ? OID.int4 : OID.numeric };
      case 'bool':
        return { kind: 'constant', value: v.v, oid: OID.bool };
      case 'string':
        return { kind: 'constant', value: v.v, oid: OID.text };
      case 'timestamp':
        return { kind: 'constant', value: localText(v.v), oid: v.date ? OID.date : OID.timestamp };
      default:
        throw this.at.unsupported('this constant cannot be selected', node);
    }
  }

  private castItem(item: Item, type: string, node: Node): Item {
    const target = castOid(type);
    if (item.kind === 'time' || (item.kind === 'dimension' && item.type === 'time')) {
      if (target === OID.date) {
        if (item.kind === 'time' && (GRANULARITY_RANK.get(item.granularity) ?? 0) > (GRANULARITY_RANK.get('day') ?? 0)) {
          return { ...item, oid: OID.date };
        }
        return { kind: 'time', path: item.path, granularity: 'day', oid: OID.date };
      }
      if (target === OID.timestamp) return item.kind === 'time' ? { ...item, oid: OID.timestamp } : item;
    }
    if ((item.kind === 'dimension' || item.kind === 'measure') && target !== undefined) {
      const family = item.type;
      if (target === OID.text && family === 'string') return item;
      if (family === 'number' && (target === OID.int8 || target === OID.numeric)) {
        const oid =
          type === 'float8' || type === 'double precision'
            ? OID.float8
            : type === 'int4' || type === 'integer'
              ? OID.int4
              : target === OID.int8
                ? OID.int8
                : OID.numeric;
        return { ...item, oid };
      }
      if (family === 'boolean' && target === OID.bool) return item;
    }
    if (item.kind === 'constant') return item;
    throw this.at.unsupported(`CAST to ${type} is not supported for this column`, node);
  }

  /** MEASURE(col), or the aggregate that matches the measure's type. */
  private aggregate(node: Node, scope: ScopeEntry[]): Item {
    const fc = node.FuncCall;
    const fn = plainName(fc.funcname);
    if (fc.agg_filter) throw this.at.unsupported('aggregate FILTER (WHERE ...) is not supported; filter in WHERE', node);
    if (fc.agg_order?.length) throw this.at.unsupported('ordered aggregates are not supported', node);
    if (fn === 'count' && fc.agg_star) return this.countItem(scope, node);
    const args: Node[] = fc.args ?? [];
    if (args.length !== 1) throw this.at.error(SQLSTATE.UNDEFINED_FUNCTION, `function ${fn}() takes one measure column`, node);
    const arg = args[0];
    if (kindOf(arg) !== 'ColumnRef') {
      throw this.at.unsupported(`${fn.toUpperCase()}() accepts a measure column only`, arg, 'Define a measure in the model for derived aggregations.');
    }
    const raw = this.resolve(arg, scope);
    if (raw.kind === 'resolved') throw this.at.unsupported('cannot aggregate a column of an aggregated subquery', arg);
    if (raw.kind !== 'column' || raw.member.kind !== 'measure') {
      const name = strings(arg.ColumnRef.fields).at(-1);
      throw this.at.unsupported(
        `column "${name}" is not a measure; ${fn.toUpperCase()}() applies to measures only`,
        arg,
        'Aggregations are defined in the model: use a measure, or GROUP BY this dimension.',
      );
    }
    const m = raw.member;
    const agg = m.aggType ?? 'number';
    const ok =
      fn === 'measure' ||
      // A count is additive too: SUM of per-group counts is the count (Metabase/Superset sum every numeric column).
      (fn === 'sum' && (agg === 'sum' || agg === 'count') && !fc.agg_distinct) ||
      (fn === 'count' && agg === 'count' && !fc.agg_distinct) ||
      (fn === 'count' && (agg === 'count_distinct' || agg === 'count_distinct_approx')) ||
      (fn === 'avg' && agg === 'avg' && !fc.agg_distinct) ||
      (fn === 'min' && agg === 'min') ||
      (fn === 'max' && agg === 'max');
    if (!ok) {
      throw this.at.unsupported(
        `${fn.toUpperCase()}${fc.agg_distinct ? '(DISTINCT' : '('}${m.name}) does not match measure "${m.name}" of type ${agg}`,
        node,
        `Use MEASURE(${m.name})${suggestAggregate(agg, m.name)}.`,
      );
    }
    return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
  }

  /** date_trunc('unit', col) / date(col) / CAST(col AS date) over a time column. */
  private timeTarget(node: Node, scope: ScopeEntry[]): { path: string; granularity: Granularity; member: CatalogMember } | undefined {
    const kind = kindOf(node);
    if (kind === 'FuncCall') {
      const fc = node.FuncCall;
      const fn = plainName(fc.funcname);
      const args: Node[] = fc.args ?? [];
      if (fn === 'date_trunc') {
        if (args.length !== 2) throw this.at.error(SQLSTATE.UNDEFINED_FUNCTION, 'date_trunc() takes a unit and a time column', node);
        if (!this.mentionsColumn(args[1])) return undefined;
        const unitV = evalValue(args[0], this.vctx);
        if (unitV.t !== 'string') throw this.at.unsupported("date_trunc unit must be a string literal such as 'month'", args[0]);
        const unit = truncUnit(unitV.v, this.at, args[0]);
        const base = this.timeBase(args[1], scope);
        if (base.granularity && !coarserOrEqual(unit, base.granularity)) {
          throw this.at.unsupported(`cannot truncate a ${base.granularity} column to ${unit}`, node);
        }
        return { path: base.member.path, granularity: unit, member: base.member };
      }
      if (fn === 'date' && args.length === 1) {
        if (!this.mentionsColumn(args[0])) return undefined;
        const base = this.timeBase(args[0], scope);
        return {
          path: base.member.path,
          granularity: base.granularity && coarserOrEqual(base.granularity, 'day') && base.granularity !== 'week' ? base.granularity : 'day',
          member: base.member,
        };
      }
    }
    if (kind === 'TypeCast' && castOid(plainName(node.TypeCast.typeName.names)) === OID.date && this.mentionsColumn(node.TypeCast.arg)) {
      const base = this.timeBase(node.TypeCast.arg, scope);
      const g = base.granularity && (GRANULARITY_RANK.get(base.granularity) ?? 0) > (GRANULARITY_RANK.get('day') ?? 0) ? base.granularity : 'day';
      return { path: base.member.path, granularity: g, member: base.member };
    }
    return undefined;
  }

  /** The time column under truncations/casts, with any truncation already applied by a subquery. */
  private timeBase(node: Node, scope: ScopeEntry[]): { member: CatalogMember; granularity?: Granularity } {
    const kind = kindOf(node);
    if (kind === 'TypeCast' && castOid(plainName(node.TypeCast.typeName.names)) === OID.timestamp) return this.timeBase(node.TypeCast.arg, scope);
    if (kind === 'FuncCall' || kind === 'TypeCast') {
      const t = this.timeTarget(node, scope);
      if (t) return { member: t.member, granularity: t.granularity };
    }
    if (kind === 'ColumnRef') {
      const raw = this.resolve(node, scope);
      if (raw.kind === 'column' && raw.member.type === 'time' && raw.member.kind === 'dimension') return { member: raw.member };
      if (raw.kind === 'time') return { member: raw.member, granularity: raw.granularity };
      throw this.at.error(SQLSTATE.DATATYPE_MISMATCH, `column "${strings(node.ColumnRef.fields).at(-1)}" is not a time dimension`, node);
    }
    throw this.at.unsupported('expected a time column (optionally wrapped in date_trunc or CAST)', node);
  }

  /** A column reference inside a subquery's select list, kept raw for the outer query. */
  private rawOf(node: Node, scope: ScopeEntry[]): Raw {
    if (kindOf(node) === 'ColumnRef') return this.resolve(node, scope);
    const t = this.timeTarget(node, scope);
    if (t)
      return {
        kind: 'time',
        member: t.member,
        granularity: t.granularity,
        asDate: kindOf(node) === 'TypeCast' || plainName(node.FuncCall?.funcname) === 'date',
      };
    if (!this.mentionsColumn(node)) {
      const item = this.constItem(node);
      if (item.kind === 'constant') return { kind: 'constant', value: item.value, oid: item.oid };
    }
    throw this.at.unsupported('a subquery in FROM may only select columns, date_trunc() or CAST of columns (aggregate in the outer query)', node);
  }

  private groupItem(node: Node, columns: { name: string; item: Item }[], scope: ScopeEntry[]): Item {
    const byPosition = this.ordinal(node, columns);
    if (byPosition) return byPosition;
    if (kindOf(node) === 'ColumnRef') {
      const fields = strings(node.ColumnRef.fields);
      // Postgres resolves GROUP BY names to input columns first, then output names.
      if (fields.length === 1 && !scope.some((e) => e.columns.has(fields[0]))) {
        const out = columns.find((c) => c.name === fields[0]);
        if (out) return out.item;
      }
    }
    return this.exprOrDerived(node, scope, 'group');
  }

  private orderItem(node: Node, columns: { name: string; item: Item }[], scope: ScopeEntry[]): Item {
    const byPosition = this.ordinal(node, columns);
    if (byPosition) return byPosition;
    if (kindOf(node) === 'ColumnRef') {
      const fields = strings(node.ColumnRef.fields);
      // ORDER BY resolves output names first.
      if (fields.length === 1) {
        const out = columns.filter((c) => c.name === fields[0]);
        if (out.length > 1) throw this.at.error(SQLSTATE.AMBIGUOUS_COLUMN, `ORDER BY "${fields[0]}" is ambiguous`, node);
        if (out.length === 1) return out[0].item;
      }
    }
    return this.exprOrDerived(node, scope, 'order');
  }

  private ordinal(node: Node, columns: { name: string; item: Item }[]): Item | undefined {
    if (kindOf(node) !== 'A_Const' || !('ival' in node.A_Const)) return undefined;
    const n: number = node.A_Const.ival.ival ?? 0;
    if (n < 1 || n > columns.length) throw this.at.error(SQLSTATE.UNDEFINED_COLUMN, `position ${n} is not in select list`, node);
    return columns[n - 1].item;
  }

  private mentionsColumn(node: Node): boolean {
    let found = false;
    const visit = (n: unknown): void => {
      if (found || !n || typeof n !== 'object') return;
      if (Array.isArray(n)) {
        for (const x of n) visit(x);
        return;
      }
      const o = n as Node;
      if ('ColumnRef' in o || ('FuncCall' in o && o.FuncCall.agg_star)) {
        found = true;
        return;
      }
      Object.values(o).forEach(visit);
    };
    visit(node);
    return found;
  }

  // ---------------------------------------------------------------- predicates

  private applyPredicate(p: Predicate, parts: Parts): void {
    if (p.kind === 'const') {
      if (!p.value) parts.empty = true;
      return;
    }
    if (p.kind === 'segment' || p.kind === 'all') {
      for (const seg of p.kind === 'segment' ? [p] : p.segments) if (!parts.segments.includes(seg.path)) parts.segments.push(seg.path);
      if (p.kind === 'all') parts.filters.push(...p.filters.flatMap(conjuncts));
      return;
    }
    parts.filters.push(...conjuncts(p.filter));
  }

  private predicate(node: Node, scope: ScopeEntry[], clause: 'where' | 'having', negated = false): Predicate {
    switch (kindOf(node)) {
      case 'BoolExpr': {
        const b = node.BoolExpr;
        if (b.boolop === 'NOT_EXPR') return this.negate(this.predicate(b.args[0], scope, clause, !negated), node);
        const parts = (b.args as Node[]).map((a) => this.predicate(a, scope, clause, negated));
        return b.boolop === 'AND_EXPR' ? this.and(parts) : this.or(parts, node);
      }
      case 'A_Expr':
        return this.comparison(node, scope, clause, negated);
      case 'NullTest': {
        const t = this.target(node.NullTest.arg, scope, clause);
        if (!t) return { kind: 'const', value: (evalValue(node.NullTest.arg, this.vctx).t === 'null') === (node.NullTest.nulltesttype === 'IS_NULL') };
        if (t.kind === 'segment') throw this.at.unsupported('a segment is never NULL', node);
        return filter(member(t.path, node.NullTest.nulltesttype === 'IS_NULL' ? 'notSet' : 'set'));
      }
      case 'BooleanTest': {
        const bt = node.BooleanTest;
        const t = this.target(bt.arg, scope, clause);
        const test: string = bt.booltesttype;
        const want = test === 'IS_TRUE' || test === 'IS_NOT_FALSE';
        if (!t) {
          const v = toBool(evalValue(bt.arg, this.vctx), this.vctx, bt.arg);
          return { kind: 'const', value: v.t === 'bool' ? v.v === want : false };
        }
        if (test === 'IS_UNKNOWN' || test === 'IS_NOT_UNKNOWN') {
          return filter(member(t.path, test === 'IS_UNKNOWN' ? 'notSet' : 'set'));
        }
        return this.booleanIs(t, want, node);
      }
      case 'ColumnRef': {
        const t = this.target(node, scope, clause)!;
        return this.booleanIs(t, true, node);
      }
      case 'SubLink':
        throw this.at.unsupported('subqueries in WHERE are not supported', node);
      default: {
        if (this.mentionsColumn(node)) {
          const t = this.target(node, scope, clause);
          if (t) return this.booleanIs(t, true, node);
          throw this.at.unsupported('this condition is not supported', node);
        }
        const v = toBool(evalValue(node, this.vctx), this.vctx, node);
        return v.t === 'bool' ? (v.v ? TRUE : FALSE) : v.t === 'null' ? FALSE : TRUE;
      }
    }
  }

  private booleanIs(t: Target, want: boolean, node: Node): Predicate {
    if (t.kind === 'segment') {
      if (!want) throw this.at.unsupported('a segment cannot be negated; segments can only narrow the rows', node);
      return { kind: 'segment', path: t.path, location: locationOf(node) };
    }
    if (t.type !== 'boolean') throw this.at.error(SQLSTATE.DATATYPE_MISMATCH, `argument of WHERE must be type boolean, not a ${t.type} column`, node);
    return filter(member(t.path, 'equals', [want]));
  }

  private negate(p: Predicate, node: Node): Predicate {
    if (p.kind === 'const') return { kind: 'const', value: !p.value };
    if (p.kind === 'segment' || p.kind === 'all') throw this.at.unsupported('a segment cannot be negated; segments can only narrow the rows', node);
    const n = negateFilter(p.filter);
    if (!n) throw this.at.unsupported('this condition cannot be negated', node);
    return filter(n);
  }

  private and(parts: Predicate[]): Predicate {
    if (parts.some((p) => p.kind === 'const' && !p.value)) return FALSE;
    const rest = parts.filter((p) => p.kind !== 'const');
    if (!rest.length) return TRUE;
    if (rest.length === 1) return rest[0];
    const segments: { path: string; location?: number }[] = [];
    const filters: Filter[] = [];
    for (const p of rest) {
      if (p.kind === 'segment') segments.push({ path: p.path, location: p.location });
      else if (p.kind === 'all') {
        segments.push(...p.segments);
        filters.push(...p.filters);
      } else if (p.kind === 'filter') filters.push(p.filter);
    }
    if (segments.length) return { kind: 'all', segments, filters };
    return filter({ and: filters });
  }

  private or(parts: Predicate[], node: Node): Predicate {
    if (parts.some((p) => p.kind === 'const' && p.value)) return TRUE;
    const rest = parts.filter((p) => p.kind !== 'const');
    if (!rest.length) return FALSE;
    const seg = rest.find((p) => p.kind === 'segment' || p.kind === 'all');
    if (seg) {
      const loc = seg.kind === 'segment' ? seg.location : seg.kind === 'all' ? seg.segments[0].location : undefined;
      throw this.at.unsupported('a segment cannot be combined with OR; segments can only narrow the rows', loc ?? locationOf(node));
    }
    if (rest.length === 1) return rest[0];
    return filter({ or: rest.map((p) => (p as Extract<Predicate, { kind: 'filter' }>).filter) });
  }

  /** A filterable column expression, or undefined when the expression is constant. */
  private target(node: Node, scope: ScopeEntry[], clause: 'where' | 'having'): Target | undefined {
    if (!this.mentionsColumn(node)) return undefined;
    switch (kindOf(node)) {
      case 'ColumnRef': {
        const raw = this.resolve(node, scope);
        return this.rawTarget(raw, node);
      }
      case 'FuncCall': {
        const fn = plainName(node.FuncCall.funcname);
        if (AGGREGATES.has(fn)) {
          if (clause === 'where') throw this.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in WHERE', node);
          const item = this.aggregate(node, scope) as Extract<Item, { kind: 'measure' }>;
          return { path: item.path, kind: 'measure', type: item.type, oid: item.oid };
        }
        if (fn === 'lower' || fn === 'upper') {
          const args: Node[] = node.FuncCall.args ?? [];
          const t = args.length === 1 ? this.target(args[0], scope, clause) : undefined;
          if (t && t.type === 'string' && t.kind === 'dimension') return { ...t, folded: true };
          throw this.at.unsupported(`${fn}() is only supported around a text column with LIKE/ILIKE`, node);
        }
        const args: Node[] = node.FuncCall.args ?? [];
        if ((fn === 'extract' || fn === 'date_part') && args.length === 2) {
          const part = evalValue(args[0], this.vctx);
          const inner = part.t === 'string' && part.v.toLowerCase() === 'epoch' ? this.target(args[1], scope, clause) : undefined;
          if (inner?.type === 'time' && inner.kind === 'dimension') return { ...inner, epoch: true };
        }
        const t = this.timeTarget(node, scope);
        if (t) return { path: t.path, kind: 'dimension', type: 'time', oid: OID.timestamp, trunc: t.granularity };
        throw this.at.unsupported(`function ${fn}() is not supported in a condition`, node);
      }
      case 'TypeCast': {
        const type = plainName(node.TypeCast.typeName.names);
        const t = this.timeTarget(node, scope);
        if (t) return { path: t.path, kind: 'dimension', type: 'time', oid: OID.date, trunc: t.granularity };
        const inner = this.target(node.TypeCast.arg, scope, clause);
        if (!inner) return undefined;
        const oid = castOid(type);
        if (
          (oid === OID.timestamp && inner.type === 'time') ||
          (oid === OID.text && inner.type === 'string') ||
          ((oid === OID.numeric || oid === OID.int8) && inner.type === 'number') ||
          (oid === OID.bool && inner.type === 'boolean')
        ) {
          return inner;
        }
        throw this.at.unsupported(`CAST to ${type} is not supported in a condition on this column`, node);
      }
      default:
        throw this.at.unsupported('expressions over cube columns are not supported in conditions', node);
    }
  }

  private rawTarget(raw: Raw, node: Node): Target {
    switch (raw.kind) {
      case 'column': {
        const m = raw.member;
        return { path: m.path, kind: m.kind, type: m.type, oid: memberOid(m) };
      }
      case 'time':
        return { path: raw.member.path, kind: 'dimension', type: 'time', oid: raw.asDate ? OID.date : OID.timestamp, trunc: raw.granularity };
      case 'resolved': {
        const it = raw.item;
        if (it.kind === 'time') return { path: it.path, kind: 'dimension', type: 'time', oid: it.oid, trunc: it.granularity };
        if (it.kind === 'dimension' || it.kind === 'measure') return { path: it.path, kind: it.kind, type: it.type, oid: it.oid };
        if (it.kind === 'segment') return { path: it.path, kind: 'segment', type: 'boolean', oid: OID.bool };
        throw this.at.unsupported('cannot filter on a constant column', node);
      }
      case 'constant':
        throw this.at.unsupported('cannot filter on a constant column of a subquery', node);
    }
  }

  private comparison(node: Node, scope: ScopeEntry[], clause: 'where' | 'having', negated = false): Predicate {
    const e = node.A_Expr;
    const kind: string = e.kind;
    const op = plainName(e.name);
    switch (kind) {
      case 'AEXPR_OP': {
        if (!['=', '<>', '!=', '<', '<=', '>', '>='].includes(op)) {
          throw this.at.unsupported(`operator ${op} is not supported in conditions`, node);
        }
        let lt = this.target(e.lexpr, scope, clause);
        let rt = e.rexpr ? this.target(e.rexpr, scope, clause) : undefined;
        if (lt && rt) throw this.at.unsupported('comparing two columns is not supported; compare a column with a value', node);
        if (!lt && !rt) return this.constComparison(op, e.lexpr, e.rexpr, node);
        let valueNode: Node = e.rexpr;
        let o = op;
        if (!lt) {
          lt = rt;
          rt = undefined;
          valueNode = e.lexpr;
          o = FLIP[op] ?? op;
        }
        return this.compare(lt!, o, [valueNode], node);
      }
      case 'AEXPR_IN': {
        const t = this.target(e.lexpr, scope, clause);
        if (!t) throw this.at.unsupported('IN needs a column on the left', node);
        const items: Node[] = e.rexpr.List ? e.rexpr.List.items : [e.rexpr];
        return this.compare(t, op === '=' ? 'in' : 'notin', items, node);
      }
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL': {
        const t = this.target(e.lexpr, scope, clause);
        if (!t || !((kind === 'AEXPR_OP_ANY' && op === '=') || (kind === 'AEXPR_OP_ALL' && (op === '<>' || op === '!=')))) {
          throw this.at.unsupported('only column = ANY(array) and column <> ALL(array) are supported', node);
        }
        return this.compare(t, op === '=' ? 'in' : 'notin', this.arrayItems(e.rexpr), node);
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const t = this.target(e.lexpr, scope, clause);
        if (!t) throw this.at.unsupported('LIKE needs a column on the left', node);
        if (negated && kind === 'AEXPR_LIKE') throw this.at.unsupported('NOT (... LIKE ...) is not supported; write NOT LIKE or use ILIKE', node);
        return this.like(t, op.startsWith('!'), e.rexpr, node, kind === 'AEXPR_LIKE');
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM': {
        const t = this.target(e.lexpr, scope, clause);
        if (!t) throw this.at.unsupported('BETWEEN needs a column on the left', node);
        const [lo, hi] = e.rexpr.List.items as Node[];
        const p = this.between(t, lo, hi, kind.endsWith('_SYM'), node);
        return kind.includes('NOT') ? this.negate(p, node) : p;
      }
      default:
        throw this.at.unsupported(`this kind of condition (${kind.replace('AEXPR_', '').toLowerCase()}) is not supported`, node);
    }
  }

  private arrayItems(node: Node): Node[] {
    if (kindOf(node) === 'A_ArrayExpr') return node.A_ArrayExpr.elements ?? [];
    if (kindOf(node) === 'TypeCast' && kindOf(node.TypeCast.arg) === 'A_ArrayExpr') return node.TypeCast.arg.A_ArrayExpr.elements ?? [];
    // '{a,b}' or $1 bound to an array literal.
    const v = evalValue(kindOf(node) === 'TypeCast' ? node.TypeCast.arg : node, this.vctx);
    if (v.t === 'unknown') return [];
    if (v.t === 'string' && /^\{.*\}$/s.test(v.v)) {
      return parseArrayLiteral(v.v).map((s) => (s === null ? { A_Const: { isnull: true } } : { A_Const: { sval: { sval: s } } }));
    }
    throw this.at.unsupported('ANY() needs an ARRAY[...] or an array literal', node);
  }

  private constComparison(op: string, l: Node, r: Node, node: Node): Predicate {
    const a = evalValue(l, this.vctx);
    const b = evalValue(r, this.vctx);
    if (a.t === 'unknown' || b.t === 'unknown') throw this.at.unsupported('a condition must involve a column', node);
    if (a.t === 'null' || b.t === 'null') return FALSE;
    const av = comparable(a);
    const bv = comparable(b.t === 'string' && a.t === 'number' ? toNumber(b, this.vctx, r) : a.t === 'string' && b.t === 'number' ? b : b);
    const an = a.t === 'string' && b.t === 'number' ? comparable(toNumber(a, this.vctx, l)) : av;
    const c = an < bv ? -1 : an > bv ? 1 : 0;
    const result = op === '=' ? c === 0 : op === '<>' || op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    return result ? TRUE : FALSE;
  }

  /** A value typed for the target column (parameters learn their type here). */
  private value(t: Target, node: Node): Value {
    const expect =
      t.type === 'time' ? OID.timestamp : t.type === 'number' ? (t.oid === OID.int8 ? OID.int8 : OID.numeric) : t.type === 'boolean' ? OID.bool : OID.text;
    const v = evalValue(node, this.vctx, t.epoch ? OID.float8 : expect);
    switch (t.type) {
      case 'time': {
        if (t.epoch) {
          const n = toNumber(v, this.vctx, node);
          // Nominal epoch of a timestamp without time zone: the wall time read as UTC.
          return n.t === 'number'
            ? { t: 'timestamp', v: DateTime.fromMillis(n.v * 1000, { zone: 'UTC' }).setZone(this.opts.timezone, { keepLocalTime: true }), date: false }
            : n;
        }
        return toTimestamp(v, this.vctx, node);
      }
      case 'number':
        return toNumber(v, this.vctx, node);
      case 'boolean':
        return toBool(v, this.vctx, node);
      default:
        if (v.t === 'timestamp' || v.t === 'interval') throw this.at.error(SQLSTATE.DATATYPE_MISMATCH, 'cannot compare a text column with a time value', node);
        return toText(v);
    }
  }

  private compare(t: Target, op: string, valueNodes: Node[], node: Node): Predicate {
    if (t.kind === 'segment') {
      if (valueNodes.length !== 1 || !['=', '<>', '!='].includes(op)) throw this.at.unsupported('a segment column can only be tested with = true', node);
      const v = toBool(evalValue(valueNodes[0], this.vctx, OID.bool), this.vctx, valueNodes[0]);
      if (v.t === 'unknown') return TRUE;
      if (v.t !== 'bool') return FALSE;
      return this.booleanIs(t, op === '=' ? v.v : !v.v, node);
    }
    if (t.folded) throw this.at.unsupported('LOWER()/UPPER() is only supported with LIKE/ILIKE', node);
    if (t.type === 'time' && t.kind === 'dimension') return this.timeCompare(t, op, valueNodes, node);
    const values = valueNodes.map((n) => this.value(t, n));
    if (values.some((v) => v.t === 'unknown')) return filter(member(t.path, 'equals', []));
    const known = values.filter((v) => v.t !== 'null').map(plain);
    if (op === 'in' || op === 'notin') {
      if (!known.length) return op === 'in' ? FALSE : FALSE;
      return filter(member(t.path, op === 'in' ? 'equals' : 'notEquals', known));
    }
    if (!known.length) return FALSE; // col = NULL is never true
    if ((op === '<' || op === '<=' || op === '>' || op === '>=') && t.type !== 'number' && t.type !== 'time') {
      throw this.at.unsupported(`ordering comparisons (${op}) are only supported on numeric and time columns`, node);
    }
    const operator = ({ '=': 'equals', '<>': 'notEquals', '!=': 'notEquals', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const)[op as '='];
    return filter(member(t.path, operator, known));
  }

  private timeCompare(t: Target, op: string, valueNodes: Node[], node: Node): Predicate {
    const values = valueNodes.map((n) => this.value(t, n));
    if (values.some((v) => v.t === 'unknown')) return filter(member(t.path, 'inDateRange', []));
    if (op === 'in' || op === 'notin') {
      const eq = values.map((v) => this.timeOp(t, '=', v));
      const any = this.or(eq, node);
      return op === 'in' ? any : this.negate(any, node);
    }
    return this.timeOp(t, op, values[0]);
  }

  /** trunc(col) op X, rewritten as a range on the raw column. */
  private timeOp(t: Target, op: string, v: Value): Predicate {
    if (v.t !== 'timestamp') return FALSE;
    const { ceil, next, aligned } = bounds(t.trunc, v.v);
    const raw = !t.trunc;
    switch (op) {
      case '>=':
        return filter(member(t.path, 'afterOrOnDate', [localText(ceil)]));
      case '>':
        return filter(raw ? member(t.path, 'afterDate', [localText(v.v)]) : member(t.path, 'afterOrOnDate', [localText(next)]));
      case '<':
        return filter(member(t.path, 'beforeDate', [localText(ceil)]));
      case '<=':
        return filter(raw ? member(t.path, 'beforeOrOnDate', [localText(v.v)]) : member(t.path, 'beforeDate', [localText(next)]));
      case '=':
        if (!aligned) return FALSE;
        return filter(member(t.path, 'inDateRange', [localText(v.v), localText(next.minus({ milliseconds: 1 }))]));
      default:
        if (!aligned) return TRUE;
        return filter(member(t.path, 'notInDateRange', [localText(v.v), localText(next.minus({ milliseconds: 1 }))]));
    }
  }

  private between(t: Target, loNode: Node, hiNode: Node, symmetric: boolean, node: Node): Predicate {
    if (t.kind === 'segment' || t.folded) throw this.at.unsupported('BETWEEN is not supported on this column', node);
    let lo = this.value(t, loNode);
    let hi = this.value(t, hiNode);
    if (lo.t === 'unknown' || hi.t === 'unknown') return filter(member(t.path, t.type === 'time' ? 'inDateRange' : 'gte', []));
    if (lo.t === 'null' || hi.t === 'null') return FALSE;
    if (symmetric && comparable(lo) > comparable(hi)) [lo, hi] = [hi, lo];
    if (t.type === 'time' && t.kind === 'dimension') {
      if (lo.t !== 'timestamp' || hi.t !== 'timestamp') return FALSE;
      const start = bounds(t.trunc, lo.v).ceil;
      const end = t.trunc ? bounds(t.trunc, hi.v).next.minus({ milliseconds: 1 }) : hi.v;
      if (end < start) return FALSE;
      return filter(member(t.path, 'inDateRange', [localText(start), localText(end)]));
    }
    if (t.type !== 'number') throw this.at.unsupported('BETWEEN is only supported on numeric and time columns', node);
    return filter({ and: [member(t.path, 'gte', [plain(lo)]), member(t.path, 'lte', [plain(hi)])] });
  }

  private like(t: Target, negated: boolean, patternNode: Node, node: Node, caseSensitive = false): Predicate {
    if (t.kind !== 'dimension' || t.type !== 'string') throw this.at.unsupported('LIKE is only supported on text dimensions', node);
    const v = evalValue(patternNode, this.vctx, OID.text);
    if (v.t === 'unknown') return filter(member(t.path, 'contains', []));
    if (v.t === 'null') return FALSE;
    if (v.t !== 'string') throw this.at.error(SQLSTATE.DATATYPE_MISMATCH, 'LIKE pattern must be text', patternNode);
    const parsed = parseLike(v.v);
    if (!parsed) {
      throw this.at.unsupported(
        "only LIKE patterns of the form 'x', '%x%', 'x%' and '%x' are supported",
        patternNode,
        "Matching is case-insensitive, as Cube's contains/startsWith/endsWith.",
      );
    }
    const op = parsed.kind;
    const f = member(t.path, op, [parsed.text]);
    if (caseSensitive && !t.folded && parsed.text.toLowerCase() !== parsed.text.toUpperCase()) {
      // Postgres LIKE is case-sensitive, Cube's startsWith/contains are not: the members' filter
      // narrows the rows, the exact test runs over them (finished rows, translate/post.ts).
      if (!this.state || !this.scopeForRowFilter) throw this.at.unsupported('case-sensitive LIKE is supported in the outer query only; use ILIKE', node);
      this.derive(node, this.scopeForRowFilter, this.state);
      this.rowFilters.push(node);
      return negated ? TRUE : filter(f);
    }
    return negated ? this.negate(filter(f), node) : filter(f);
  }
}

const FLIP: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '<>': '<>', '!=': '!=' };

function bounds(g: Granularity | undefined, x: DateTime): { ceil: DateTime; next: DateTime; aligned: boolean } {
  if (!g) return { ceil: x, next: x.plus({ milliseconds: 1 }), aligned: true };
  const floor = x.startOf(g);
  const aligned = floor.toMillis() === x.toMillis();
  const next = floor.plus({ [LUXON_UNIT[g]]: 1 });
  return { ceil: aligned ? x : next, next, aligned };
}

function comparable(v: Value): number | string {
  switch (v.t) {
    case 'number':
      return v.v;
    case 'string':
      return v.v;
    case 'bool':
      return v.v ? 1 : 0;
    case 'timestamp':
      return v.v.toMillis();
    default:
      return 0;
  }
}

function plain(v: Value): string | number | boolean {
  switch (v.t) {
    case 'number':
    case 'string':
    case 'bool':
      return v.v;
    case 'timestamp':
      return localText(v.v);
    default:
      return '';
  }
}

function coarserOrEqual(a: Granularity, b: Granularity): boolean {
  if (a === b) return true;
  if (a === 'week' || b === 'week') return a === 'week' && (GRANULARITY_RANK.get(b) ?? 9) <= (GRANULARITY_RANK.get('day') ?? 0);
  return (GRANULARITY_RANK.get(a) ?? 0) >= (GRANULARITY_RANK.get(b) ?? 0);
}

function isAggregated(s: Node): boolean {
  if (s.groupClause?.length || s.havingClause) return true;
  let found = false;
  const visit = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Node;
    if ('SelectStmt' in o) return; // nested selects have their own aggregation
    if ('FuncCall' in o && AGGREGATES.has(plainName(o.FuncCall.funcname)) && !o.FuncCall.over) {
      found = true;
      return;
    }
    Object.values(o).forEach(visit);
  };
  visit(s.targetList);
  return found;
}

function addItem(parts: Parts, item: Item): void {
  switch (item.kind) {
    case 'measure':
      if (!parts.measures.includes(item.path)) parts.measures.push(item.path);
      return;
    case 'dimension':
      if (!parts.dimensions.includes(item.path)) parts.dimensions.push(item.path);
      return;
    case 'time':
      if (!parts.timeDimensions.some((t) => t.dimension === item.path && t.granularity === item.granularity)) {
        parts.timeDimensions.push({ dimension: item.path, granularity: item.granularity });
      }
      return;
    default:
      return;
  }
}

function mergeOf(agg: string | undefined): 'sum' | 'min' | 'max' | 'none' {
  return agg === 'sum' || agg === 'count' ? 'sum' : agg === 'min' ? 'min' : agg === 'max' ? 'max' : 'none';
}

function itemKey(item: Item): string {
  switch (item.kind) {
    case 'derived':
      return item.key;
    case 'time':
      return `${item.path}.${item.granularity}`;
    case 'constant':
      return '';
    default:
      return item.path;
  }
}

function itemOid(item: Item): number {
  return item.kind === 'segment' ? OID.bool : item.oid;
}

function itemSource(item: Item): OutputColumn['source'] {
  if (item.kind === 'constant') return { kind: 'constant', value: item.value };
  if (item.kind === 'derived') return { kind: 'constant', value: null };
  if (item.kind === 'segment') return { kind: 'constant', value: null };
  return { kind: 'key', key: itemKey(item) };
}

/** Postgres' FigureColname: the default output name of an expression. */
export function figureName(node: Node): string {
  switch (kindOf(node)) {
    case 'ColumnRef':
      return strings(node.ColumnRef.fields).at(-1) ?? '?column?';
    case 'FuncCall':
      return strings(node.FuncCall.funcname).at(-1)!.toLowerCase();
    case 'TypeCast': {
      const inner = figureName(node.TypeCast.arg);
      return inner !== '?column?' ? inner : strings(node.TypeCast.typeName.names).at(-1)!;
    }
    case 'SQLValueFunction':
      return String(node.SQLValueFunction.op).replace('SVFOP_', '').replace(/_N$/, '').toLowerCase();
    case 'CaseExpr':
      return 'case';
    default:
      return '?column?';
  }
}

function suggestAggregate(agg: string, name: string): string {
  const fn = (
    { sum: 'SUM', count: 'COUNT', count_distinct: 'COUNT(DISTINCT', count_distinct_approx: 'COUNT(DISTINCT', avg: 'AVG', min: 'MIN', max: 'MAX' } as Record<
      string,
      string
    >
  )[agg];
  if (!fn) return '';
  return fn.includes('(') ? ` or ${fn} ${name})` : ` or ${fn}(${name})`;
}

/** '%x%' -> contains x; 'x%' -> startsWith; '%x' -> endsWith; 'x' -> equals. */
export function parseLike(pattern: string): { kind: 'contains' | 'startsWith' | 'endsWith' | 'equals'; text: string } | undefined {
  const chars: { c: string; wild: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      chars.push({ c: pattern[++i], wild: false });
    } else chars.push({ c, wild: c === '%' || c === '_' });
  }
  const lead = chars.length > 0 && chars[0].wild && chars[0].c === '%';
  const trail = chars.length > 1 && chars[chars.length - 1].wild && chars[chars.length - 1].c === '%';
  const body = chars.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (body.some((x) => x.wild)) return undefined;
  const text = body.map((x) => x.c).join('');
  if (lead && trail) return text ? { kind: 'contains', text } : undefined;
  if (lead) return { kind: 'endsWith', text };
  if (trail) return { kind: 'startsWith', text };
  return { kind: 'equals', text };
}

function parseArrayLiteral(s: string): (string | null)[] {
  const body = s.slice(1, -1);
  const out: (string | null)[] = [];
  let i = 0;
  while (i < body.length) {
    while (body[i] === ' ') i++;
    if (body[i] === '"') {
      let v = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        v += body[i++];
      }
      i++;
      out.push(v);
    } else {
      let j = body.indexOf(',', i);
      if (j < 0) j = body.length;
      const v = body.slice(i, j).trim();
      out.push(v.toUpperCase() === 'NULL' ? null : v);
      i = j;
    }
    while (i < body.length && body[i] !== ',') i++;
    i++;
  }
  return body.trim() === '' ? [] : out;
}
