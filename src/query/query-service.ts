/**
 * The query service: authorize -> normalize -> compile -> batch/cache -> execute -> shape.
 * Every door comes through here, so scope checks, tenant scoping, batching, caching and
 * auditing happen once, the same way for all of them.
 */
import { checkFill, checkFillable, type FillMode, zeroFill } from './zero-fill.js';
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import { compileQuery } from '../compiler/compile.js';
import type { RollupAvailability } from '../compiler/rollup/route.js';
import { normalizeQuery } from '../compiler/normalize.js';
import type { Engine } from '../engine/engine.js';
import { EngineError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Model } from '../semantic/model.js';
import type { Comparison, NormalizedQuery, SemanticQuery } from '../semantic/query.js';
import { splitComparison } from '../compiler/compare.js';
import { type ComparisonPlan, matchComparison, planComparison } from './compare.js';
import type { AuditSink } from './audit.js';
import { authorizeQuery, referencedMembers } from './authorize.js';
import { ResultCache } from './cache.js';
import type { EngineSlots } from './engine-slots.js';
import { canonicalJson, fingerprint } from './canonical.js';
import { buildCatalog } from './catalog.js';
import { createCatalogFacts } from './catalog-facts.js';
import { noteResult } from './result-notes.js';
import { createExecutor, type ExecutedResult } from './execution.js';
import { planMerges } from './merge.js';
import { createRefreshKeyReader, type RefreshKeyReader } from './refresh-key.js';
import { requestCache } from './request-cache.js';
import { annotate } from './annotate.js';
import { createExporter, type ExportOptions, type ExportResult } from './export.js';
import type { CatalogCube, CompileResult, QueryResult, QueryService, RequestContext } from './types.js';

export interface RateLimitHook {
  /**
   * Charges `cost` semantic queries to the tenant before they run: throws UserError('RATE_LIMITED')
   * when over its rate limit, QUOTA_EXCEEDED when over its plan's monthly quota.
   */
  check(principal: Principal, cost: number): void;
}

/** Who asked and what was served, for the tenant's records (principals seen, monthly usage). */
export interface UsageHook {
  /** Once per request (context): the principal was seen at this door. */
  seen(ctx: RequestContext): void;
  /** A semantic query was answered: its rows and their JSON size. */
  served(ctx: RequestContext, usage: { readonly rows: number; readonly bytes: number }): void;
  /** Rows a statement brought back from the engine. */
  engineRows(ctx: RequestContext, rows: number): void;
  /** A request refused (rate limit, quota, scope). */
  refused(ctx: RequestContext, code: string): void;
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
  /** Fair sharing of the engine between tenants: every statement waits for its tenant's turn. */
  readonly slots?: EngineSlots;
  readonly usage?: UsageHook;
  /** Injectable clock for relative date ranges. */
  readonly now?: () => Date;
  /** The rollups built and maintained now (rollups/registry.ts); absent: every query reads its cube's table. */
  readonly rollups?: (tenantId: string) => RollupAvailability | undefined;
}

export interface StrataQueryService extends QueryService {
  /** Drop cached results of a tenant for the given cubes (ingestion, refresh-key change); tenant ALL_TENANTS (cache.ts): every tenant. */
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
   * Charges a request's cost (its semantic queries: GraphQL root fields, REST queries...) to the
   * tenant's rate limit and quota before it runs; its next `cost` loads are then not charged again,
   * later ones are charged one by one. Doors that can answer HTTP 429 call it at the edge. Throws
   * RATE_LIMITED / QUOTA_EXCEEDED (recorded as refusals).
   */
  admit(ctx: RequestContext, cost?: number): void;
  /** Records a refusal that happened outside a load (a door's own scope check): audit + usage. */
  refused?(ctx: RequestContext, error: unknown, action?: string): void;
  /** A query's rows written to a file by the engine (exports, export.ts): same authorization, charged and audited like a load. */
  exportRows?(ctx: RequestContext, query: SemanticQuery, options: ExportOptions): Promise<ExportResult>;
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
  /** Loads already paid for by admit(ctx, cost). */
  prepaid: number;
  /** The principal's sighting was recorded. */
  sighted: boolean;
}

const requestState = requestCache((): RequestState => ({ reads: [], seen: new Set(), prepaid: 0, sighted: false }));

/** Refusals the audit trail keeps, from every door. */
const REFUSALS = new Set(['FORBIDDEN', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'UNAUTHENTICATED', 'TENANT_SUSPENDED']);

export function isRefusal(e: unknown): boolean {
  return REFUSALS.has((e as { code?: string } | null)?.code ?? '');
}

/** JSON size of a result's rows, computed once per rows array (cache hits share it). */
const sizes = new WeakMap<object, number>();
function bytesOf(rows: readonly object[]): number {
  let n = sizes.get(rows);
  if (n === undefined) {
    n = Buffer.byteLength(JSON.stringify(rows));
    sizes.set(rows, n);
  }
  return n;
}

/** Reads of the request so far (successful loads only). */
export function servedReads(ctx: RequestContext): readonly ServedRead[] {
  return requestState(ctx).reads;
}

export function createQueryService(deps: QueryServiceDeps): StrataQueryService {
  const { model, engine, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const cache = new ResultCache<ExecutedResult>(deps.cache?.ttlMs ?? 0, deps.cache?.maxEntries ?? 0);
  const executor = createExecutor({
    model,
    engine,
    limits,
    cache,
    metrics: deps.metrics,
    queryTimeoutMs: deps.queryTimeoutMs,
    slots: deps.slots,
    onEngineRows: deps.usage ? (ctx, rows) => deps.usage?.engineRows(ctx, rows) : undefined,
    rollups: deps.rollups,
  });
  const refreshKeyValue = createRefreshKeyReader({ model, engine, queryTimeoutMs: deps.queryTimeoutMs, audit });
  const catalogs = new Map<string, readonly CatalogCube[]>();
  const facts = createCatalogFacts({
    model,
    engine,
    slots: deps.slots,
    queryTimeoutMs: deps.queryTimeoutMs,
    // Coverage moves only with ingestion (which invalidates); keep it at least a minute.
    ttlMs: Math.max(deps.cache?.ttlMs ?? 0, 60_000),
    now,
    audit,
  });
  /** Refusals already in the audit trail (a door reporting the same error again is ignored). */
  const recorded = new WeakSet<object>();
  const invalidationListeners: ((tenantId: string, cubes?: readonly string[]) => void)[] = [];

  /** Normalize + authorize; a comparison is validated (and planned) but not part of the normalized query. */
  function prepareCompared(
    principal: Principal,
    query: SemanticQuery,
  ): { normalized: NormalizedQuery; comparison?: { compareTo: Comparison; plan: ComparisonPlan }; fill?: FillMode } {
    if (!query || typeof query !== 'object' || Array.isArray(query)) {
      throw new UserError('BAD_USER_INPUT', 'query must be a JSON object in Cube query format');
    }
    const { base, compareTo } = splitComparison(query);
    const at = now();
    const normalized = normalizeQuery(model, base, { now: at, defaultLimit: limits.defaultRowLimit, maxLimit: limits.maxRowLimit });
    authorizeQuery(model, principal, normalized);
    // fill is applied after execution (zero-fill.ts): it is not part of the normalized query, its batch or its cache key.
    const fill = checkFill(query.fill);
    if (fill) checkFillable(normalized);
    const filled = fill ? { fill } : {};
    return compareTo ? { normalized, comparison: { compareTo, plan: planComparison(normalized, compareTo, at) }, ...filled } : { normalized, ...filled };
  }

  function prepare(principal: Principal, query: SemanticQuery): NormalizedQuery {
    return prepareCompared(principal, query).normalized;
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

  /** Records the sighting once per request, then charges `cost` (throws RATE_LIMITED / QUOTA_EXCEEDED). */
  function charge(ctx: RequestContext, cost: number): void {
    const state = requestState(ctx);
    if (!state.sighted) {
      state.sighted = true;
      deps.usage?.seen(ctx);
    }
    if (!deps.rateLimit) return;
    deps.rateLimit.check(ctx.principal, cost);
  }

  /** Charges a request's cost before it runs (the edge calls it with the number of semantic queries). */
  function admit(ctx: RequestContext, cost = 1): void {
    const n = Math.max(1, Math.floor(cost));
    try {
      charge(ctx, n);
    } catch (e) {
      refused(ctx, e, 'admit');
      throw e;
    }
    requestState(ctx).prepaid += n;
  }

  /** One load's share: prepaid by admit, or charged now. */
  function chargeLoad(ctx: RequestContext): void {
    const state = requestState(ctx);
    if (state.prepaid > 0) {
      state.prepaid--;
      return;
    }
    charge(ctx, 1);
  }

  function refused(ctx: RequestContext, error: unknown, action = 'query'): void {
    const code = (error as { code?: string } | null)?.code ?? 'INTERNAL';
    if (!isRefusal(error) || recorded.has(error as object)) return;
    recorded.add(error as object);
    deps.usage?.refused(ctx, code);
    auditEntry(ctx, { kind: 'refusal', action, status: 'denied', errorCode: code, fingerprint: null, members: [], rows: 0, durationMs: 0 });
  }

  async function load(ctx: RequestContext, query: SemanticQuery): Promise<QueryResult> {
    const started = performance.now();
    let prepared: ReturnType<typeof prepareCompared>;
    try {
      chargeLoad(ctx);
      prepared = prepareCompared(ctx.principal, query);
    } catch (e) {
      audit(ctx, { fingerprint: 'invalid', members: [], rows: 0 }, performance.now() - started, e);
      if (isRefusal(e)) deps.usage?.refused(ctx, (e as { code: string }).code);
      throw e;
    }
    const { normalized, comparison, fill } = prepared;
    const filled = (r: QueryResult) => (fill ? zeroFill(model, r) : r);
    if (!comparison) return filled(await loadNormalized(ctx, normalized, started));
    // Both periods in the same tick: the batcher range-splits them into one statement when it can.
    const [current, previous] = (await Promise.all([loadNormalized(ctx, normalized, started), loadNormalized(ctx, comparison.plan.compareQuery, started)])).map(
      filled,
    );
    return { ...current, comparison: { ...matchComparison(model, comparison.compareTo, comparison.plan, current, previous), previous } };
  }

  async function loadNormalized(ctx: RequestContext, normalized: NormalizedQuery, started: number): Promise<QueryResult> {
    try {
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
      deps.usage?.served(ctx, { rows: executed.rows.length, bytes: bytesOf(executed.rows) });
      return {
        query: normalized,
        columns: executed.compiled.columns,
        rows: executed.rows,
        annotation: annotate(model, normalized),
        total: executed.total,
        lastRefreshTime: executed.lastRefreshTime,
        fromCache: executed.fromCache,
        ...(executed.compiled.rollup
          ? { rollup: { name: `${executed.compiled.rollup.cube}.${executed.compiled.rollup.name}`, table: executed.compiled.rollup.table } }
          : {}),
      };
    } catch (e) {
      audit(ctx, { fingerprint: fingerprint(normalized), members: referencedMembers(normalized), rows: 0 }, performance.now() - started, e);
      if (e instanceof EngineError && e.code === 'ENGINE_ERROR') {
        deps.logger?.error({ requestId: ctx.requestId, err: e.message, sql: e.sql }, 'engine error');
      }
      throw e;
    }
  }

  /** Never throws nor blocks: the sink buffers; a failing sink costs a warning, not the query. */
  function audit(ctx: RequestContext, read: Pick<ServedRead, 'fingerprint' | 'members' | 'rows'>, durationMs: number, error?: unknown): void {
    const refusal = error !== undefined && isRefusal(error);
    if (refusal) recorded.add(error as object);
    auditEntry(ctx, {
      kind: refusal ? 'refusal' : 'read',
      action: 'query',
      fingerprint: read.fingerprint,
      members: read.members,
      rows: read.rows,
      durationMs: Math.round(durationMs),
      status: refusal ? 'denied' : error ? 'error' : 'ok',
      errorCode: error ? ((error as { code?: string }).code ?? 'INTERNAL') : undefined,
    });
  }

  function auditEntry(
    ctx: RequestContext,
    e: {
      kind: 'read' | 'refusal';
      action: string;
      fingerprint: string | null;
      members: readonly string[];
      rows: number;
      durationMs: number;
      status: string;
      errorCode?: string;
    },
  ): void {
    if (!deps.audit) return;
    try {
      deps.audit.record({
        at: new Date(),
        tenantId: ctx.principal.tenantId,
        subject: ctx.principal.subject,
        door: ctx.door,
        queryFingerprint: e.fingerprint,
        members: e.members,
        rows: e.rows,
        durationMs: e.durationMs,
        status: e.status,
        errorCode: e.errorCode,
        clientAddress: ctx.clientAddress,
        requestId: ctx.requestId,
        kind: e.kind,
        action: e.action,
        userAgent: ctx.userAgent,
      });
    } catch (err) {
      deps.logger?.warn({ err: (err as Error).message }, 'audit record failed');
    }
  }

  const exporter = createExporter({ model, engine, queryTimeoutMs: deps.queryTimeoutMs, slots: deps.slots, now });
  async function exportRows(ctx: RequestContext, query: SemanticQuery, options: ExportOptions): Promise<ExportResult> {
    const started = performance.now();
    try {
      chargeLoad(ctx);
      const r = await exporter(ctx, query, options);
      audit(ctx, { fingerprint: r.fingerprint, members: r.members, rows: r.rows }, performance.now() - started);
      deps.usage?.served(ctx, { rows: r.rows, bytes: r.bytes });
      return r;
    } catch (e) {
      audit(ctx, { fingerprint: 'export', members: [], rows: 0 }, performance.now() - started, e);
      if (isRefusal(e)) deps.usage?.refused(ctx, (e as { code: string }).code);
      throw e;
    }
  }

  function compile(principal: Principal, query: SemanticQuery): CompileResult {
    const normalized = prepare(principal, query);
    return { normalized, compiled: compileQuery(model, normalized, principal.tenantId, deps.rollups?.(principal.tenantId)) };
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
    admit,
    refused,
    exportRows,
    facts,
    noteResult: (ctx, result) => noteResult(model, facts, ctx, result),
    onInvalidate: (listener) => {
      invalidationListeners.push(listener);
    },
    auditReplay(ctx, reads) {
      for (const r of reads) audit(ctx, r, 0);
    },
    invalidate: (tenantId, cubes) => {
      cache.invalidate(tenantId, cubes);
      facts.invalidate(tenantId, cubes);
      for (const l of invalidationListeners) l(tenantId, cubes);
    },
  };
}
