/** Contracts of the query service, the one path every door takes to data. */
import type { Principal } from '../auth/principal.js';
import type { CompiledColumn, CompiledQuery } from '../compiler/compiled.js';
import type { MeasureType, MemberFormat, Relationship } from '../semantic/model.js';
import type { Granularity, NormalizedQuery, SemanticQuery } from '../semantic/query.js';

export type Door = 'graphql' | 'rest' | 'sqlproxy' | 'live' | 'ingest' | 'cli';

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
  readonly joins: readonly { readonly target: string; readonly relationship: Relationship }[];
  readonly exampleQuery: SemanticQuery;
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface QueryService {
  /** Authorize -> normalize -> compile -> batch/cache -> execute -> shape. */
  load(ctx: RequestContext, query: SemanticQuery): Promise<QueryResult>;
  /** Authorize and compile without executing (REST /sql and /dry-run, SQL proxy Describe). */
  compile(principal: Principal, query: SemanticQuery): CompileResult;
  /** Cubes and views with only the members the principal may read. */
  catalog(principal: Principal): readonly CatalogCube[];
  /** Charge the tenant's rate limit once for this request (throws RATE_LIMITED). */
  admit?(ctx: RequestContext): void;
}
