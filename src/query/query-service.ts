/**
 * The query service: authorize -> normalize -> compile -> batch/cache -> execute -> shape.
 * Every door comes through here, so scope checks, tenant scoping, batching, caching and
 * auditing happen once, the same way for all of them.
 */
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import { compileQuery } from '../compiler/compile.js';
import { normalizeQuery } from '../compiler/normalize.js';
import type { Engine } from '../engine/engine.js';
import { EngineError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery, SemanticQuery } from '../semantic/query.js';
import type { AuditSink } from './audit.js';
import { authorizeQuery, referencedMembers } from './authorize.js';
import { ResultCache } from './cache.js';
import { canonicalJson, fingerprint } from './canonical.js';
import { buildCatalog } from './catalog.js';
import { createExecutor, type ExecutedResult } from './execution.js';
import { planMerges } from './merge.js';
import { createRefreshKeyReader, type RefreshKeyReader } from './refresh-key.js';
import { requestCache } from './request-cache.js';
import { annotate } from './annotate.js';
import type { CatalogCube, CompileResult, QueryResult, QueryService, RequestContext } from './types.js';

export interface RateLimitHook {
  /** Throws UserError('RATE_LIMITED') when the tenant is over its limit. */
  check(principal: Principal): void;
}

export interface QueryServiceDeps {
  readonly model: Model;
  readonly engine: Engine;
  readonly limits: { readonly defaultRowLimit: number; readonly maxRowLimit: number };
  readonly queryTimeoutMs: number;
  readonly cache?: { readonly ttlMs: number; readonly maxEntries: number };
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly audit?: AuditSink;
  readonly rateLimit?: RateLimitHook;
  /** Injectable clock for relative date ranges. */
  readonly now?: () => Date;
}

export interface StrataQueryService extends QueryService {
  /** Drop cached results of a tenant for the given cubes (ingestion, refresh-key change). */
  invalidate(tenantId: string, cubes?: readonly string[]): void;
  /** Called after every invalidation (a door's own caches follow the same rule). */
  onInvalidate(listener: (tenantId: string, cubes?: readonly string[]) => void): void;
  /** Re-records audit entries for reads a door answered from its own cache. */
  auditReplay(ctx: RequestContext, reads: readonly ServedRead[]): void;
  /** Normalize + authorize without compiling (live subscriptions key on it). */
  prepare(principal: Principal, query: SemanticQuery): NormalizedQuery;
  /** A cube's refresh-key value for ctx's tenant, run like any statement (audit, timeout, signal). */
  readonly refreshKeyValue: RefreshKeyReader;
  readonly model: Model;
  /**
   * Charges one request to the tenant's rate limit now (doors that can answer HTTP 429 call it at
   * the edge) and marks the request so its loads are not charged again. Throws RATE_LIMITED.
   */
  admit(ctx: RequestContext): void;
}

/** What a load read, kept on the request so a door cache can replay its audit on a hit. */
export interface ServedRead {
  readonly fingerprint: string;
  readonly members: readonly string[];
  readonly rows: number;
  readonly cubes: readonly string[];
}

/** What the query service keeps per request (typed, keyed on the context; see request-cache.ts). */
interface RequestState {
  /** Reads of the request so far (successful loads only). */
  readonly reads: ServedRead[];
  /** Canonical texts of the queries loaded so far (dedup metric). */
  readonly seen: Set<string>;
  /** The request was charged to its tenant's rate limit (at the edge or by its first load). */
  charged: boolean;
}

const requestState = requestCache((): RequestState => ({ reads: [], seen: new Set(), charged: false }));

/** Reads of the request so far (successful loads only). */
export function servedReads(ctx: RequestContext): readonly ServedRead[] {
  return requestState(ctx).reads;
}

export function createQueryService(deps: QueryServiceDeps): StrataQueryService {
  const { model, engine, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const cache = new ResultCache<ExecutedResult>(deps.cache?.ttlMs ?? 0, deps.cache?.maxEntries ?? 0);
  const executor = createExecutor({ model, engine, limits, cache, metrics: deps.metrics, queryTimeoutMs: deps.queryTimeoutMs });
  const refreshKeyValue = createRefreshKeyReader({ model, engine, queryTimeoutMs: deps.queryTimeoutMs, audit });
  const catalogs = new Map<string, readonly CatalogCube[]>();
  const invalidationListeners: ((tenantId: string, cubes?: readonly string[]) => void)[] = [];

  function prepare(principal: Principal, query: SemanticQuery): NormalizedQuery {
    if (!query || typeof query !== 'object' || Array.isArray(query)) {
      throw new UserError('BAD_USER_INPUT', 'query must be a JSON object in Cube query format');
    }
    const normalized = normalizeQuery(model, query, { now: now(), defaultLimit: limits.defaultRowLimit, maxLimit: limits.maxRowLimit });
    authorizeQuery(model, principal, normalized);
    return normalized;
  }

  /** One batch = the semantic queries of one request issued in the same tick. */
  const loaderFor = requestCache(
    (ctx: RequestContext) =>
      new DataLoader<NormalizedQuery, ExecutedResult, string>(
        async (queries) => {
          const out: Promise<ExecutedResult>[] = new Array(queries.length);
          for (const g of planMerges(model, queries, limits.maxRowLimit)) {
            const group = executor.runGroup(ctx, g, queries);
            for (const i of g.members) {
              const one = group.then((results) => results.get(i)!);
              one.catch(() => undefined); // rejections reach the caller through load(); never unhandled here
              out[i] = one;
            }
          }
          // Each load() adopts its own promise: a group's callers get their rows as soon as that
          // group's statement is done, not when the slowest statement of the batch is.
          return out as unknown as ExecutedResult[];
        },
        { cacheKeyFn: (q) => canonicalJson(q) },
      ),
  );

  /** Charges the request to its tenant's rate limit once, however many loads it makes. */
  function checkRateOnce(ctx: RequestContext): void {
    const state = requestState(ctx);
    if (!deps.rateLimit || state.charged) return;
    state.charged = true;
    deps.rateLimit.check(ctx.principal);
  }

  async function load(ctx: RequestContext, query: SemanticQuery): Promise<QueryResult> {
    const started = performance.now();
    let normalized: NormalizedQuery | undefined;
    try {
      checkRateOnce(ctx);
      normalized = prepare(ctx.principal, query);
      const { seen, reads } = requestState(ctx);
      const k = canonicalJson(normalized);
      if (seen.has(k)) deps.metrics?.batchedQueries.inc({ outcome: 'deduplicated' });
      seen.add(k);
      const executed = await loaderFor(ctx).load(normalized);
      const read: ServedRead = {
        fingerprint: fingerprint(normalized),
        members: referencedMembers(normalized),
        rows: executed.rows.length,
        cubes: executed.compiled.cubes,
      };
      audit(ctx, read, performance.now() - started);
      reads.push(read);
      return {
        query: normalized,
        columns: executed.compiled.columns,
        rows: executed.rows,
        annotation: annotate(model, normalized),
        total: executed.total,
        lastRefreshTime: executed.lastRefreshTime,
        fromCache: executed.fromCache,
      };
    } catch (e) {
      const read = normalized
        ? { fingerprint: fingerprint(normalized), members: referencedMembers(normalized), rows: 0 }
        : { fingerprint: 'invalid', members: [], rows: 0 };
      audit(ctx, read, performance.now() - started, e);
      if (e instanceof EngineError && e.code === 'ENGINE_ERROR') {
        deps.logger?.error({ requestId: ctx.requestId, err: e.message, sql: e.sql }, 'engine error');
      }
      throw e;
    }
  }

  /** Never throws nor blocks: the sink buffers; a failing sink costs a warning, not the query. */
  function audit(ctx: RequestContext, read: Pick<ServedRead, 'fingerprint' | 'members' | 'rows'>, durationMs: number, error?: unknown): void {
    if (!deps.audit) return;
    try {
      deps.audit.record({
        at: new Date(),
        tenantId: ctx.principal.tenantId,
        subject: ctx.principal.subject,
        door: ctx.door,
        queryFingerprint: read.fingerprint,
        members: read.members,
        rows: read.rows,
        durationMs: Math.round(durationMs),
        status: error ? 'error' : 'ok',
        errorCode: error ? ((error as { code?: string }).code ?? 'INTERNAL') : undefined,
        clientAddress: ctx.clientAddress,
        requestId: ctx.requestId,
      });
    } catch (e) {
      deps.logger?.warn({ err: (e as Error).message }, 'audit record failed');
    }
  }

  function compile(principal: Principal, query: SemanticQuery): CompileResult {
    const normalized = prepare(principal, query);
    return { normalized, compiled: compileQuery(model, normalized, principal.tenantId) };
  }

  function catalog(principal: Principal): readonly CatalogCube[] {
    const key = [...principal.scopes].sort().join(' ');
    let c = catalogs.get(key);
    if (!c) {
      c = buildCatalog(model, principal);
      catalogs.set(key, c);
    }
    return c;
  }

  return {
    model,
    load,
    compile,
    catalog,
    prepare,
    refreshKeyValue,
    admit: checkRateOnce,
    onInvalidate: (listener) => {
      invalidationListeners.push(listener);
    },
    auditReplay(ctx, reads) {
      for (const r of reads) audit(ctx, r, 0);
    },
    invalidate: (tenantId, cubes) => {
      cache.invalidate(tenantId, cubes);
      for (const l of invalidationListeners) l(tenantId, cubes);
    },
  };
}
