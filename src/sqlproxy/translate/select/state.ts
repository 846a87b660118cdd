/**
 * Shapes shared by the clause visitors of translate/select/, and the context they receive instead
 * of a class's `this`. Typed parse-tree nodes come from libpg-query, which re-exports
 * @pgsql/types (the package the architecture rules give a home; @pgsql/types itself has none).
 */
import type { Node as PgNode, SelectStmt } from 'libpg-query';
import type { CatalogCube, CatalogMember } from '../../../query/types.js';
import type { Filter, Granularity, OrderDirection } from '../../../semantic/query.js';
import { OID, type Cell } from '../../pg-types.js';
import { type Node, kindOf, Positioned } from '../ast.js';
import type { AggSpec, PostPlan } from '../derived.js';
import type { ValueContext } from '../values.js';
import type { OutputColumn, TranslateOptions } from '../select.js';

export type { PgNode };

// ---- typed nodes ----

type KindsOf<U> = U extends unknown ? keyof U : never;
/** Every node kind of the typed tree, e.g. 'ColumnRef'. */
export type NodeKind = KindsOf<PgNode>;
/** The typed body of a node of kind K: the value under its single key. */
export type Body<K extends NodeKind> = Extract<PgNode, Record<K, unknown>>[K];

/** The typed body when `node` is a K node (same test as kindOf: exactly one key), else undefined. */
export function nodeAs<K extends NodeKind>(node: Node | undefined, kind: K): Body<K> | undefined {
  return node && kindOf(node) === kind ? node[kind] : undefined;
}

/** The boundary from the loose tree (parse.ts, post.ts helpers) to the typed one. */
export function typed(node: Node): PgNode {
  return node as PgNode;
}

/** The statement body handed to translateSelect (the router passes `stmt.SelectStmt`). */
export function asSelect(node: Node): SelectStmt {
  return node as SelectStmt;
}

/** Whether an expression reads a column (COUNT(*) counts as reading one): else it is a constant. */
export function mentionsColumn(node: Node | undefined): boolean {
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

// ---- internal shapes ----

/** What a name in FROM scope stands for. */
export type Raw =
  | { readonly kind: 'column'; readonly cube: CatalogCube; readonly member: CatalogMember }
  | { readonly kind: 'time'; readonly member: CatalogMember; readonly granularity: Granularity; readonly asDate: boolean }
  | { readonly kind: 'constant'; readonly value: Cell; readonly oid: number }
  /** An output column of an aggregated subquery. */
  | { readonly kind: 'resolved'; readonly item: Item };

/** A projected expression. */
export type Item =
  | { readonly kind: 'dimension'; readonly path: string; readonly oid: number; readonly type: CatalogMember['type'] }
  | { readonly kind: 'time'; readonly path: string; readonly granularity: Granularity; readonly oid: number }
  | { readonly kind: 'measure'; readonly path: string; readonly oid: number; readonly type: CatalogMember['type'] }
  | { readonly kind: 'segment'; readonly path: string }
  | { readonly kind: 'constant'; readonly value: Cell; readonly oid: number }
  /** An expression finished over the loaded rows (post.ts). */
  | { readonly kind: 'derived'; readonly key: string; readonly node: Node; readonly aggregated: boolean; readonly oid: number };

export type MeasureItem = Extract<Item, { kind: 'measure' }>;

/** A select-list entry: its output name, what it maps to, and the expression (for positions). */
export interface Column {
  readonly name: string;
  readonly item: Item;
  readonly node?: PgNode;
}

/** Members and expressions collected for the finishing step. */
export interface PostState {
  readonly refs: Map<string, { key: string; time: boolean }>;
  readonly aggs: Map<string, AggSpec>;
  readonly base: Item[];
}

export interface ScopeEntry {
  readonly qualifier: string;
  readonly table: string;
  readonly cube?: CatalogCube;
  readonly columns: ReadonlyMap<string, Raw>;
  readonly order: readonly string[];
}

export interface Parts {
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

/** A translated SELECT: the semantic parts, its output columns, and the post plan in post mode. */
export interface Selected {
  readonly parts: Parts;
  readonly columns: Column[];
  readonly aggregated: boolean;
  readonly post?: PostPlan;
}

/** A filterable thing on the left of a predicate. */
export interface Target {
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

/** What every visitor reads and the little it writes; one per translateSelect call. */
export interface Ctx {
  readonly opts: TranslateOptions;
  readonly at: Positioned;
  readonly vctx: ValueContext;
  /** Set while translating the top-level select: where derived expressions register their members. */
  state?: PostState;
  /** Case-sensitive LIKE conditions checked over the loaded rows (with the scope they resolve in). */
  readonly rowFilters: Node[];
  scopeForRowFilter?: ScopeEntry[];
  /** The top-level select groups by a measure's value: measure columns outside aggregates are per fact row (row-grain.ts). */
  rowGrain?: boolean;
}

export function createContext(opts: TranslateOptions): Ctx {
  const at = new Positioned(opts.position);
  return { opts, at, vctx: { at, params: opts.params, now: opts.now, timezone: opts.timezone }, rowFilters: [] };
}

// ---- items ----

export const AGGREGATES = new Set(['sum', 'count', 'avg', 'min', 'max', 'measure']);

export function addItem(parts: Parts, item: Item): void {
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

export function mergeOf(agg: string | undefined): 'sum' | 'min' | 'max' | 'none' {
  return agg === 'sum' || agg === 'count' ? 'sum' : agg === 'min' ? 'min' : agg === 'max' ? 'max' : 'none';
}

export function itemKey(item: Item): string {
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

export function itemOid(item: Item): number {
  return item.kind === 'segment' ? OID.bool : item.oid;
}

export function itemSource(item: Item): OutputColumn['source'] {
  if (item.kind === 'constant') return { kind: 'constant', value: item.value };
  if (item.kind === 'derived') return { kind: 'constant', value: null };
  if (item.kind === 'segment') return { kind: 'constant', value: null };
  return { kind: 'key', key: itemKey(item) };
}
