/**
 * Live dashboards: one subscription for a whole dashboard (with its view applied). A dashboard is a
 * shared live query of its own in a LiveHub: watchers of the same widget queries (same tenant and
 * scope set) share one evaluation, which loads every widget in one request context, so the query
 * service batches them (N widgets over K row sets: K statements). After a change each subscriber
 * gets ONE message holding exactly the widgets whose results changed.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import { createRequestContext } from '../edge/context.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { canonicalJson } from '../query/canonical.js';
import type { SkippedParameter } from '../query/dashboard-view.js';
import type { StrataQueryService } from '../query/query-service.js';
import type { QueryResult, RequestContext } from '../query/types.js';
import type { SemanticQuery } from '../semantic/query.js';
import { LiveHub } from './hub.js';
import { evaluationPrincipal, groupKeyOf, scopeKey } from './key.js';
import { resultVersion } from './live-service.js';
import type { ChangeSignals } from './signals.js';

export interface LiveWidget {
  readonly id: string;
  readonly title: string;
  /** The widget's query with the view applied. */
  readonly query: SemanticQuery;
  readonly skipped: readonly SkippedParameter[];
}

export interface WidgetState {
  readonly id: string;
  readonly title: string;
  readonly skipped: readonly SkippedParameter[];
  readonly result: QueryResult | null;
  /** A widget whose query failed carries its coded error; the others still answer. */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly version: string;
}

export interface DashboardLiveUpdate {
  readonly dashboardId: string;
  /** True for the first message (every widget); later messages hold only changed widgets. */
  readonly initial: boolean;
  readonly widgets: readonly WidgetState[];
}

interface DashInput {
  readonly principal: Principal;
  readonly widgets: readonly LiveWidget[];
}

type DashState = readonly WidgetState[];

export interface DashboardLiveDeps {
  readonly query: StrataQueryService;
  readonly signals: ChangeSignals;
  readonly config: Pick<Config, 'live'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface DashboardLive {
  /** Authorizes every widget now (throws synchronously), then yields the dashboard and its changes. */
  subscribe(ctx: RequestContext, dashboardId: string, widgets: readonly LiveWidget[]): AsyncIterableIterator<DashboardLiveUpdate>;
  close(): void;
}

export function createDashboardLive(deps: DashboardLiveDeps): DashboardLive {
  const { query, metrics, logger } = deps;
  let seq = 0;
  const hub = new LiveHub<DashInput, DashState>({
    maxPerTenant: deps.config.live.maxPerTenant,
    version: (state) => state.map((w) => w.version).join(','),
    evaluate(batch) {
      if (batch.refresh) query.invalidate(batch.tenantId, batch.cubes);
      const ctx = createRequestContext({ door: 'live', principal: batch.inputs[0].principal, requestId: `live-dash-${++seq}` });
      // Every widget of every dashboard of the group is loaded in this tick: one batch.
      return batch.inputs.map((input) =>
        Promise.all(
          input.widgets.map((w) =>
            query.load(ctx, w.query).then(
              (result): WidgetState => ({ id: w.id, title: w.title, skipped: w.skipped, result, error: null, version: resultVersion(result) }),
              (e: unknown): WidgetState => {
                const error =
                  e instanceof UserError
                    ? { code: e.code, message: e.message }
                    : { code: (e as { code?: string }).code ?? 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' };
                return { id: w.id, title: w.title, skipped: w.skipped, result: null, error, version: `error:${error.code}` };
              },
            ),
          ),
        ),
      );
    },
    onEvaluated: (n) => metrics.liveEvaluations.inc(n),
    onDeliver: () => metrics.livePushes.inc(),
    onError: (err, spec) => logger.warn({ tenantId: spec.tenantId, err: (err as Error).message }, 'live dashboard: evaluation failed'),
  });
  const unsubscribeChanges = deps.signals.onChange((e) => hub.changed(e.tenantId, e.cubes));
  // Lost signals: re-check every dashboard (the live service drops the query caches).
  const unsubscribeResync = deps.signals.onResync(() => hub.changedAll());
  const unsubscribe = () => {
    unsubscribeChanges();
    unsubscribeResync();
  };

  return {
    subscribe(ctx, dashboardId, widgets) {
      const principal = evaluationPrincipal(ctx.principal);
      // compile = normalize + authorize: a forbidden or broken widget fails the subscription now.
      const cubes = new Set<string>();
      for (const w of widgets) for (const c of query.compile(ctx.principal, w.query).compiled.cubes) cubes.add(c);
      const key = createHash('sha256')
        .update(canonicalJson({ t: principal.tenantId, s: scopeKey(principal.scopes), w: widgets.map((w) => [w.id, w.title, w.query, w.skipped]) }))
        .digest('base64');
      const source = hub.subscribe(
        {
          key: `dashboard:${key}`,
          groupKey: groupKeyOf(principal),
          tenantId: principal.tenantId,
          cubes: [...cubes],
          input: { principal, widgets: widgets.map((w) => structuredClone(w)) },
        },
        { expiresAt: ctx.principal.expiresAt },
      );
      return changedWidgets(dashboardId, source);
    },
    close() {
      unsubscribe();
      hub.close();
    },
  };
}

/** Per subscriber: the first state whole, then only the widgets whose version moved. */
function changedWidgets(dashboardId: string, source: AsyncIterableIterator<DashState>): AsyncIterableIterator<DashboardLiveUpdate> {
  const sent = new Map<string, string>();
  let initial = true;
  return {
    async next() {
      for (;;) {
        const r = await source.next();
        if (r.done) return { value: undefined, done: true };
        const changed = r.value.filter((w) => sent.get(w.id) !== w.version);
        if (changed.length === 0) continue;
        for (const w of changed) sent.set(w.id, w.version);
        const value = { dashboardId, initial, widgets: changed };
        initial = false;
        return { value, done: false };
      }
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(e?: unknown) {
      await source.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
