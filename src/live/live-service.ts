/**
 * The live service: subscribe to any semantic query; get the current result at once, then a new
 * result only when the data behind it changed. Identical subscriptions (same tenant, scope set
 * and canonical query) share one evaluation through the query service.
 */
import { createHash } from 'node:crypto';
import { createRequestContext } from '../edge/context.js';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { ALL_TENANTS } from '../query/cache.js';
import type { StrataQueryService } from '../query/query-service.js';
import type { QueryResult, RequestContext } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import type { SemanticQuery } from '../semantic/query.js';
import { LiveHub, type HubStats } from './hub.js';
import { evaluationPrincipal, groupKeyOf, liveKey } from './key.js';
import { createRefreshScheduler, type RefreshKeyReader } from './refresh.js';
import type { ChangeSignals } from './signals.js';

export interface LiveServiceDeps {
  readonly query: StrataQueryService;
  readonly model: Model;
  readonly config: Pick<Config, 'live'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly signals: ChangeSignals;
  /** Reads a cube's refresh-key value for a principal's tenant (default: query.refreshKeyValue). */
  readonly readRefreshKey?: RefreshKeyReader;
  /**
   * A refresh key saw a write made outside Strata: bring derived data (rollups) up to date before the
   * re-evaluation, so it does not read a rollup that has not folded the write in yet. Never throws.
   */
  readonly catchUp?: (tenantId: string, cubes: readonly string[]) => Promise<void>;
}

export type LiveStats = HubStats;

export interface LiveService {
  /**
   * Authorizes and validates now (throws UserError / ForbiddenError synchronously), then yields
   * the current result and each changed result. return() on the iterator ends the subscription.
   */
  subscribe(ctx: RequestContext, query: SemanticQuery): AsyncIterableIterator<QueryResult>;
  /** Re-evaluate a tenant's live queries reading `cubes` (empty: all). Also drops cached results. */
  notifyChanged(tenantId: string, cubes: readonly string[]): void;
  /** Drop every cached result and re-evaluate every live query (after lost change signals). */
  resync(): void;
  stats(): LiveStats;
  close(): Promise<void>;
}

interface LiveInput {
  readonly principal: Principal;
  readonly query: SemanticQuery;
}

/** Content identity of a result: what a subscriber would see change. */
export function resultVersion(r: QueryResult): string {
  return createHash('sha1')
    .update(JSON.stringify([r.columns.map((c) => c.key), r.rows, r.total ?? null, r.comparison?.rows ?? null]))
    .digest('base64');
}

export function createLiveService(deps: LiveServiceDeps): LiveService {
  const { query, metrics, logger } = deps;
  let seq = 0;
  const subscribers = new Map<string, number>();

  const hub = new LiveHub<LiveInput, QueryResult>({
    maxPerTenant: deps.config.live.maxPerTenant,
    version: resultVersion,
    evaluate(batch) {
      // A cached result may predate the change that triggered this run.
      if (batch.refresh) query.invalidate(batch.tenantId, batch.cubes);
      const ctx = createRequestContext({ door: 'live', principal: batch.inputs[0].principal, requestId: `live-${++seq}` });
      return batch.inputs.map((i) => query.load(ctx, i.query));
    },
    onEvaluated: (n) => metrics.liveEvaluations.inc(n),
    onDeliver: () => metrics.livePushes.inc(),
    // One series for the instance: a tenant label would expose tenant ids and grow without bound.
    onSubscriberCount: (tenant, n) => {
      if (n > 0) subscribers.set(tenant, n);
      else subscribers.delete(tenant);
      let total = 0;
      for (const c of subscribers.values()) total += c;
      metrics.activeSubscriptions.set(total);
    },
    onError: (err, spec) => {
      const e = err as { code?: string; message?: string };
      logger.warn({ tenantId: spec.tenantId, cubes: spec.cubes, code: e.code, err: e.message }, 'live: evaluation failed');
    },
  });

  function changed(tenantId: string, cubes: readonly string[]): void {
    // Drop cached results even when nothing here is live: other doors of this instance read them.
    query.invalidate(tenantId, cubes.length ? cubes : undefined);
    hub.changed(tenantId, cubes);
  }

  /**
   * A change signal (ingestion, deletion, another instance): the refresh-key baselines are read
   * again before the re-evaluation is queued, so the next refresh-key check does not count the
   * same change twice (one ingest, one evaluation per distinct live query).
   */
  function signalled(tenantId: string, cubes: readonly string[]): void {
    void refresh.rebaseline(tenantId, cubes);
    changed(tenantId, cubes);
  }

  /** Signals may have been lost: every cache of every tenant goes, every live query is re-checked. */
  function resync(): void {
    query.invalidate(ALL_TENANTS);
    for (const tenantId of hub.tenants()) void refresh.rebaseline(tenantId, []);
    const n = hub.changedAll();
    logger.warn({ liveQueries: n }, 'live: resync after a gap in change signals');
  }

  const unsubscribeChanges = deps.signals.onChange((e) => signalled(e.tenantId, e.cubes));
  const unsubscribeResync = deps.signals.onResync(resync);
  const unsubscribe = () => {
    unsubscribeChanges();
    unsubscribeResync();
  };

  // Refresh-key checks are requests of the live door: audited, timed out, cancelled on close.
  const closing = new AbortController();
  const readRefreshKey: RefreshKeyReader =
    deps.readRefreshKey ??
    ((principal, cube) =>
      query.refreshKeyValue(createRequestContext({ door: 'live', principal, requestId: `live-rk-${++seq}`, signal: closing.signal }), cube));
  const refresh = createRefreshScheduler({
    model: deps.model,
    checkIntervalMs: deps.config.live.refreshCheckIntervalMs,
    readRefreshKey,
    tenantsReading: (cube) => hub.tenantsReading(cube),
    principalFor: (tenantId, cube) => hub.anyInputReading(tenantId, cube)?.principal,
    writeState: (tenantId, cube) => deps.signals.writeState(tenantId, cube),
    onChange: (tenantId, cubes) => {
      if (!deps.catchUp) return changed(tenantId, cubes);
      void deps.catchUp(tenantId, cubes).then(() => changed(tenantId, cubes));
    },
    logger,
  });

  return {
    subscribe(ctx, semanticQuery) {
      // compile = normalize + authorize + compile, all pure: errors surface before any await.
      const { normalized, compiled } = query.compile(ctx.principal, semanticQuery);
      const principal = evaluationPrincipal(ctx.principal);
      const raw = structuredClone(semanticQuery) as SemanticQuery;
      // Baseline first: queued before the first evaluation, so no write falls between the two.
      void refresh.watch(principal.tenantId, compiled.cubes, principal);
      return hub.subscribe(
        {
          key: liveKey(principal, normalized, raw),
          groupKey: groupKeyOf(principal),
          tenantId: principal.tenantId,
          cubes: compiled.cubes,
          input: { principal, query: raw },
        },
        { expiresAt: ctx.principal.expiresAt },
      );
    },
    notifyChanged: signalled,
    resync,
    stats: () => hub.stats(),
    async close() {
      refresh.stop();
      closing.abort();
      unsubscribe();
      hub.close();
    },
  };
}
