/**
 * The query service: authorize -> normalize -> compile -> batch/cache -> execute -> shape.
 * Every door comes through here, so scope checks, tenant scoping, batching, caching and
 * auditing happen once, the same way for all of them.
 */
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import type { CompiledColumn, CompiledQuery, CompiledSplitQuery } from '../compiler/compiled.js';
import { compileQuery, compileSplitQuery } from '../compiler/compile.js';
import { SplitUnsupportedError } from '../compiler/planner.js';
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
import { planMerges, sortAndSlice, type MergeGroup } from './merge.js';
import { annotate, shapeRows } from './shape.js';
import { addEngineTime } from './timing.js';
import type { CatalogCube, CellValue, CompileResult, QueryResult, QueryService, RequestContext } from './types.js';

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

interface ExecutedResult {
  readonly compiled: CompiledQuery;
  readonly rows: readonly Record<string, CellValue>[];
  readonly total?: number;
  readonly lastRefreshTime: string;
  readonly fromCache: boolean;
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

const READS_KEY = 'query-service:reads';

/** Reads of the request so far (successful loads only). */
export function servedReads(ctx: RequestContext): readonly ServedRead[] {
  return (ctx.memo.get(READS_KEY) as ServedRead[] | undefined) ?? [];
}

const LOADER_KEY = 'query-service:loader';
const RATE_KEY = 'query-service:rate-checked';

/** For a door that admitted the request at its edge: later loads of this context are not charged again. */
export function markAdmitted(ctx: RequestContext): void {
  ctx.memo.set(RATE_KEY, true);
}

export function createQueryService(deps: QueryServiceDeps): StrataQueryService {
  const { model, engine, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const cache = new ResultCache<ExecutedResult>(deps.cache?.ttlMs ?? 0, deps.cache?.maxEntries ?? 0);
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

  // The normalized query (relative ranges already resolved) + tenant + scopes determine the SQL,
  // so a hit needs no compile.
  const cacheKey = (ctx: RequestContext, query: NormalizedQuery): string =>
    cache.enabled ? ResultCache.key(ctx.principal.tenantId, ctx.principal.scopes, canonicalJson(query)) : '';

  function cached(key: string): ExecutedResult | undefined {
    if (!cache.enabled) return undefined;
    const hit = cache.get(key);
    deps.metrics?.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    return hit ? { ...hit.value, fromCache: true } : undefined;
  }

  async function execute(ctx: RequestContext, query: NormalizedQuery): Promise<ExecutedResult> {
    const key = cacheKey(ctx, query);
    const hit = cached(key);
    if (hit) return hit;
    const compiled = compileQuery(model, query, ctx.principal);
    const generation = cache.generation(ctx.principal.tenantId, compiled.cubes);
    const options = { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs };
    const [result, total] = await Promise.all([
      engine.query(compiled.sql, compiled.params, options),
      compiled.total ? engine.query<{ total: unknown }>(compiled.total.sql, compiled.total.params, options) : undefined,
    ]);
    addEngineTime(ctx, result.elapsedMs + (total?.elapsedMs ?? 0));
    const executed: ExecutedResult = {
      compiled,
      rows: shapeRows(compiled.columns, result.rows),
      total: total ? Number(Object.values(total.rows[0] ?? { total: 0 })[0]) : undefined,
      lastRefreshTime: new Date().toISOString(),
      fromCache: false,
    };
    cache.set(key, ctx.principal.tenantId, compiled.cubes, executed, generation);
    return executed;
  }

  /** One batch = the semantic queries of one request issued in the same tick. */
  function loaderFor(ctx: RequestContext): DataLoader<NormalizedQuery, ExecutedResult, string> {
    let loader = ctx.memo.get(LOADER_KEY) as DataLoader<NormalizedQuery, ExecutedResult, string> | undefined;
    if (loader) return loader;
    loader = new DataLoader<NormalizedQuery, ExecutedResult, string>(
      async (queries) => {
        const out: Promise<ExecutedResult>[] = new Array(queries.length);
        for (const g of planMerges(model, queries, limits.maxRowLimit)) {
          const group = runGroup(ctx, g, queries);
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
    );
    ctx.memo.set(LOADER_KEY, loader);
    return loader;
  }

  /** One merge group: one statement (or, past the row cap, one per member); results by query index. */
  async function runGroup(ctx: RequestContext, g: MergeGroup, queries: readonly NormalizedQuery[]): Promise<Map<number, ExecutedResult>> {
    const results = new Map<number, ExecutedResult>();
    if (g.split) {
      const split = await runSplit(ctx, g, queries);
      if (split) return split;
      if (g.split.sets) {
        // Not fusable (or capped): the same queries planned without grouping sets.
        const members = g.members.map((i) => queries[i]);
        const sub = await Promise.all(planMerges(model, members, limits.maxRowLimit, { fuse: false }).map((sg) => runGroup(ctx, sg, members)));
        for (const m of sub) for (const [k, v] of m) results.set(g.members[k], v);
        return results;
      }
      // Not splittable, or capped: each member alone (still concurrently, still cached).
      await Promise.all(g.members.map(async (i) => results.set(i, await execute(ctx, queries[i]))));
      deps.metrics?.batchedQueries.inc({ outcome: 'executed' }, g.members.length);
      return results;
    }
    const result = await execute(ctx, g.merged);
    if (g.reorder && result.rows.length >= limits.maxRowLimit) {
      // The merged fetch hit the row cap, so per-member slices could be wrong: run each alone.
      await Promise.all(g.members.map(async (i) => results.set(i, await execute(ctx, queries[i]))));
      deps.metrics?.batchedQueries.inc({ outcome: 'executed' }, g.members.length);
      return results;
    }
    deps.metrics?.batchedQueries.inc({ outcome: g.members.length > 1 ? 'merged' : 'executed' }, g.members.length);
    for (const i of g.members) results.set(i, project(result, queries[i], g.reorder));
    return results;
  }

  /** A range-split group: one statement, each member's rows cut from its range's columns. Undefined: not possible. */
  async function runSplit(ctx: RequestContext, g: MergeGroup, queries: readonly NormalizedQuery[]): Promise<Map<number, ExecutedResult> | undefined> {
    const split = g.split!;
    const results = new Map<number, ExecutedResult>();
    const pending = g.members.flatMap((i, pos) => {
      const hit = cached(cacheKey(ctx, queries[i]));
      if (hit) results.set(i, hit);
      return hit ? [] : [pos];
    });
    if (pending.length === 0) return results;
    let compiled: CompiledSplitQuery;
    try {
      compiled = compileSplitQuery(model, g.merged, split, ctx.principal);
    } catch (e) {
      if (e instanceof SplitUnsupportedError) return undefined;
      throw e;
    }
    const generation = cache.generation(ctx.principal.tenantId, compiled.cubes);
    const { rows, elapsedMs } = await engine.query(compiled.sql, compiled.params, { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs });
    addEngineTime(ctx, elapsedMs);
    if (rows.length >= limits.maxRowLimit) return undefined; // some range may have lost groups to the cap
    const lastRefreshTime = new Date().toISOString();
    const { splits: _s, sets: _g, ...statement } = compiled;
    // Rows of one (grouping set, range): the set's bitmask, a non-zero row count for the range.
    const parts = new Map<string, ExecutedResult>();
    const part = (set: number | undefined, range: number): ExecutedResult => {
      const key = `${set}:${range}`;
      let p = parts.get(key);
      if (p) return p;
      const dims = set === undefined ? undefined : new Set(split.sets![set]);
      const columns = compiled.columns.filter((c) => c.kind === 'measure' || !dims || dims.has(c.key));
      const { countAlias, measureAliases } = compiled.splits[range];
      const mask = set === undefined || !compiled.sets ? undefined : { alias: compiled.sets.alias, value: compiled.sets.masks[set] };
      const mine = rows.filter((r) => (!mask || Number(r[mask.alias]) === mask.value) && Number(r[countAlias]) > 0);
      const shaped = shapeRows(columns.map((c) => (c.kind === 'measure' ? { ...c, alias: measureAliases[c.alias] } : c)), mine);
      p = { compiled: { ...statement, columns }, rows: shaped, lastRefreshTime, fromCache: false };
      parts.set(key, p);
      return p;
    };
    for (const pos of pending) {
      const i = g.members[pos];
      const one = project(part(split.setOf?.[pos], split.rangeOf[pos]), queries[i], true);
      cache.set(cacheKey(ctx, queries[i]), ctx.principal.tenantId, compiled.cubes, one, generation);
      results.set(i, one);
    }
    deps.metrics?.batchedQueries.inc({ outcome: 'merged' }, pending.length);
    return results;
  }

  function project(result: ExecutedResult, query: NormalizedQuery, reorder: boolean): ExecutedResult {
    const wanted = new Set(query.measures);
    const columns = ownColumnOrder(result.compiled.columns.filter((c) => c.kind !== 'measure' || wanted.has(c.member)), query);
    if (!reorder && columns.length === result.compiled.columns.length && columns.every((c, i) => c === result.compiled.columns[i])) return result;
    let rows = result.rows.map((r) => Object.fromEntries(columns.map((c) => [c.key, r[c.key]])));
    if (reorder) {
      const order = query.order.map(([m, d]) => [orderKey(query, m), d] as const);
      rows = sortAndSlice(rows, order, query.limit, query.offset);
    }
    return { ...result, compiled: { ...result.compiled, columns }, rows };
  }

  /** A member of a merged statement gets its columns in its own query's order (dimensions, time, measures). */
  function ownColumnOrder(columns: readonly CompiledColumn[], query: NormalizedQuery): readonly CompiledColumn[] {
    const keys = [...query.dimensions, ...query.timeDimensions.flatMap((t) => (t.granularity ? [`${t.dimension}.${t.granularity}`] : [])), ...query.measures];
    const byKey = new Map(columns.map((c) => [c.key, c]));
    const ordered = keys.flatMap((k) => (byKey.has(k) ? [byKey.get(k)!] : []));
    return ordered.length === columns.length ? ordered : columns;
  }

  function orderKey(query: NormalizedQuery, member: string): string {
    const td = query.timeDimensions.find((t) => t.dimension === member && t.granularity);
    return td ? `${member}.${td.granularity}` : member;
  }

  function checkRateOnce(ctx: RequestContext): void {
    if (!deps.rateLimit || ctx.memo.has(RATE_KEY)) return;
    ctx.memo.set(RATE_KEY, true);
    deps.rateLimit.check(ctx.principal);
  }

  async function load(ctx: RequestContext, query: SemanticQuery): Promise<QueryResult> {
    const started = performance.now();
    let normalized: NormalizedQuery | undefined;
    try {
      checkRateOnce(ctx);
      normalized = prepare(ctx.principal, query);
      const seen = (ctx.memo.get('query-service:seen') as Set<string> | undefined) ?? new Set<string>();
      ctx.memo.set('query-service:seen', seen);
      const k = canonicalJson(normalized);
      if (seen.has(k)) deps.metrics?.batchedQueries.inc({ outcome: 'deduplicated' });
      seen.add(k);
      const executed = await loaderFor(ctx).load(normalized);
      const read: ServedRead = { fingerprint: fingerprint(normalized), members: referencedMembers(normalized), rows: executed.rows.length, cubes: executed.compiled.cubes };
      audit(ctx, read, performance.now() - started);
      const reads = (ctx.memo.get(READS_KEY) as ServedRead[] | undefined) ?? [];
      ctx.memo.set(READS_KEY, reads);
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
      const read = normalized ? { fingerprint: fingerprint(normalized), members: referencedMembers(normalized), rows: 0 } : { fingerprint: 'invalid', members: [], rows: 0 };
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
    return { normalized, compiled: compileQuery(model, normalized, principal) };
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
