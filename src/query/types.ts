/** Contracts of the query service, the one path every door takes to data. */
import type { Principal } from '../auth/principal.js';
import type { CompiledColumn, CompiledQuery } from '../compiler/compiled.js';
import type { MeasureType, MemberFormat, Relationship } from '../semantic/model.js';
import type { Comparison, Granularity, LocalDateTime, NormalizedQuery, SemanticQuery } from '../semantic/query.js';
import type { CatalogFacts } from './catalog-facts.js';
import type { NotedResult } from './result-notes.js';

/** ops: the operator's endpoints (/metrics). */
export type Door = 'graphql' | 'rest' | 'sqlproxy' | 'live' | 'ingest' | 'cli' | 'ops' | 'mcp' | 'reports' | 'link';

/**
 * Who asks, through which door, for which request: built once per request by the shared edge
 * (src/edge/context.ts). Per-request state (the batching loader, served reads, engine time) is
 * kept in typed caches keyed on this object (query/request-cache.ts), never on it.
 */
export interface RequestContext {
  readonly requestId: string;
  readonly door: Door;
  readonly principal: Principal;
  readonly clientAddress?: string;
  /** The client's User-Agent (HTTP) or application_name (SQL proxy), for the audit trail. */
  readonly userAgent?: string;
  /** Aborts the engine query (client went away, SQL proxy cancel). */
  readonly signal?: AbortSignal;
}

export interface MemberAnnotation {
  readonly title: string;
  readonly shortTitle: string;
  readonly type: 'number' | 'string' | 'time' | 'boolean';
  readonly format?: MemberFormat;
  readonly description?: string;
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly granularity?: { readonly name: Granularity; readonly title: string };
}

export interface Annotation {
  readonly measures: Readonly<Record<string, MemberAnnotation>>;
  readonly dimensions: Readonly<Record<string, MemberAnnotation>>;
  readonly segments: Readonly<Record<string, MemberAnnotation>>;
  readonly timeDimensions: Readonly<Record<string, MemberAnnotation>>;
}

export type CellValue = string | number | boolean | null;

export interface QueryResult {
  readonly query: NormalizedQuery;
  readonly columns: readonly CompiledColumn[];
  /**
   * Rows keyed by CompiledColumn.key ("cube.member", "cube.date.day"). Numbers are JS numbers,
   * times are local "YYYY-MM-DDTHH:mm:ss.SSS" strings in the query's time zone.
   */
  readonly rows: readonly Readonly<Record<string, CellValue>>[];
  readonly annotation: Annotation;
  readonly total?: number;
  /** ISO instant the data was read from the engine (older when served from cache). */
  readonly lastRefreshTime: string;
  readonly fromCache: boolean;
  /** The rollup pre-aggregation that answered ("cube.name"); absent when the cube's table did. */
  readonly rollup?: { readonly name: string; readonly table: string };
  /** Set when the query asked for a comparison (compareTo, or a two-range compareDateRange). */
  readonly comparison?: ComparisonResult;
}

export type ChangeDirection = 'up' | 'down' | 'flat';

/** One measure of one row in both periods. */
export interface MeasureChange {
  readonly current: number | null;
  readonly previous: number | null;
  /** current - previous; null when either is unknown. */
  readonly change: number | null;
  /** Change in percent of the previous value; null when the previous value is 0 or unknown. */
  readonly percentChange: number | null;
  readonly direction: ChangeDirection | null;
}

/** A row matched across the periods on its dimensions (and its time bucket's position in the range). */
export interface ComparisonRow {
  /** Dimension values on the current period's axis (a comparison-only row gets its current-period bucket). */
  readonly dimensions: Readonly<Record<string, CellValue>>;
  /** Time buckets of the comparison period, when the row exists there. */
  readonly compareDimensions: Readonly<Record<string, CellValue>> | null;
  readonly measures: Readonly<Record<string, MeasureChange>>;
}

export interface ComparisonResult {
  readonly compareTo: Comparison;
  /** The time dimension whose range is compared. */
  readonly timeDimension: string;
  readonly dateRange: readonly [LocalDateTime, LocalDateTime];
  readonly compareDateRange: readonly [LocalDateTime, LocalDateTime];
  /** The comparison period's own result. */
  readonly previous: QueryResult;
  /** Current rows in their order, then rows only the comparison period has. */
  readonly rows: readonly ComparisonRow[];
}

export interface CompileResult {
  readonly normalized: NormalizedQuery;
  readonly compiled: CompiledQuery;
}

// ---- Catalog: what a caller may see (GraphQL catalog, REST /meta, SQL proxy tables) ----

export interface CatalogMember {
  readonly path: string;
  readonly name: string;
  readonly kind: 'measure' | 'dimension' | 'segment';
  readonly type: 'number' | 'string' | 'time' | 'boolean';
  /** Measures only: the aggregation ("sum", "count", "number" for derived KPIs...). */
  readonly aggType?: MeasureType;
  readonly title: string;
  readonly shortTitle: string;
  readonly description?: string;
  readonly format?: MemberFormat;
  readonly scopes: readonly string[];
  readonly primaryKey?: boolean;
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface CatalogCube {
  readonly name: string;
  readonly kind: 'cube' | 'view';
  readonly title: string;
  readonly description?: string;
  readonly measures: readonly CatalogMember[];
  readonly dimensions: readonly CatalogMember[];
  readonly segments: readonly CatalogMember[];
  /** Outgoing joins (cubes only). */
  readonly joins: readonly {
    readonly target: string;
    readonly relationship: Relationship;
    /** The ON condition as [this cube's dimension, target's dimension] pairs, when it is column equalities (tenant column left out). */
    readonly keys?: readonly (readonly [string, string])[];
  }[];
  readonly exampleQuery: SemanticQuery;
  readonly meta: Readonly<Record<string, unknown>>;
  /** The cube's rollups and what each answers (members the caller may read only); views: none. */
  readonly rollups?: readonly CatalogRollup[];
}

export interface CatalogRollup {
  /** "cube.name" */
  readonly name: string;
  /** Every measure it answers exactly (listed or computed from listed ones), as paths. */
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly segments: readonly string[];
  readonly timeDimension?: string;
  readonly granularity?: string;
}

export interface QueryService {
  /** Authorize -> normalize -> compile -> batch/cache -> execute -> shape. */
  load(ctx: RequestContext, query: SemanticQuery): Promise<QueryResult>;
  /** Authorize and compile without executing (REST /sql and /dry-run, SQL proxy Describe). */
  compile(principal: Principal, query: SemanticQuery): CompileResult;
  /** Cubes and views with only the members the principal may read. */
  catalog(principal: Principal): readonly CatalogCube[];
  /** Normalize + authorize without compiling (checks a query's names, values and scopes). */
  prepare(principal: Principal, query: SemanticQuery): NormalizedQuery;
  /** Charge the request's cost (its semantic queries) before it runs (throws RATE_LIMITED / QUOTA_EXCEEDED). */
  admit?(ctx: RequestContext, cost?: number): void;
  /** Record a refusal a door decided itself (a GraphQL scope check): audit trail + metrics. */
  refused?(ctx: RequestContext, error: unknown, action?: string): void;
  /** Per-tenant data coverage and sample values (cached), for the catalog agents read (catalog-facts.ts). */
  readonly facts?: CatalogFacts;
  /** Notes on a result, and the one shape of an empty answer (result-notes.ts). */
  noteResult?(ctx: RequestContext, result: QueryResult): Promise<NotedResult>;
}
