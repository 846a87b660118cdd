/**
 * Composition root: wires store, engine, model, auth, query and live from one Config.
 * Nothing else constructs these; doors receive what they need from here.
 */
import type { Authenticator } from './auth/authenticator.js';
import type { JwksEvent, JwksStatus } from './auth/jwks-cache.js';
import type { Config } from './config.js';
import { AUDIT_TABLE, type AuditMirror, startAuditMirror } from './audit/mirror.js';
import { createEngine } from './engine/create-engine.js';
import type { Engine } from './engine/engine.js';
import { gatedEngine } from './engine/gated-engine.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { readModelFiles } from './model-files.js';
import { createEngineSlots } from './query/engine-slots.js';
import { createQueryService, type StrataQueryService, type UsageHook } from './query/query-service.js';
import { createRateLimiter, rateLimitedError } from './ratelimit/rate-limiter.js';
import type { Model } from './semantic/model.js';
import { loadModel } from './semantic/load.js';
import type { Store } from './store/store.js';
import { createAccessWatch, type AccessWatch } from './tenancy/access-watch.js';
import { createPlanRetentionWatch, type PlanRetentionWatch } from './tenancy/plan-retention.js';
import { createTenantDirectory, type TenantDirectory } from './tenancy/directory.js';
import { createRoleResolver } from './tenancy/roles.js';
import { withTenantCheck } from './tenancy/tenant-gate.js';
import { createUsageMeter, type UsageMeter } from './tenancy/usage-meter.js';
import { UserError } from './errors.js';
import { startWarehouse, type WarehouseStartup } from './warehouse-startup.js';
import { createRollupRegistry, type RollupRegistry } from './rollups/registry.js';
import { createJobRunner, type JobRunner } from './jobs/runner.js';
import { createMailer } from './reports/destinations/email.js';
import { createReportsService, type ReportsService } from './reports/service.js';

export interface CoreServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly model: Model;
  /** Refuses statements (503 ENGINE_UNAVAILABLE) until `warehouse` is ready. */
  readonly engine: Engine;
  readonly query: StrataQueryService;
  /** ClickHouse migrations and demo seed (under warehouse locks); /ready and the engine gate follow it. */
  readonly warehouse: WarehouseStartup;
  /** Rollups ready to route to, and their maintenance (src/rollups/). */
  readonly rollups: RollupRegistry;
  /** The tenant registry (with a metadata store only). */
  readonly tenants?: TenantDirectory;
  /** Monthly usage and plan quotas (with a metadata store only). */
  readonly usage?: UsageMeter;
  close(): Promise<void>;
}

export interface Services extends CoreServices {
  readonly store: Store;
  /** Verifies credentials and admits their tenant: the one authenticator every door gets. */
  readonly authenticator: Authenticator;
  readonly tenants: TenantDirectory;
  /** Open sessions (WebSocket, SQL proxy) and the end of their access. */
  readonly access: AccessWatch;
  /** The identity provider's keys (JWT_JWKS_URL only): /ready is false while they cannot be had. */
  readonly identityKeys?: () => Promise<JwksStatus>;
  /** Exports, snapshots, schedules (reports/). */
  readonly reports: ReportsService;
  /** This instance's runner of the durable job queue (started by the server once the warehouse is ready). */
  readonly jobs?: JobRunner;
  /** Download links name this base; the server sets it once it knows its port (PORT=0). */
  setPublicUrl(url: string): void;
  /** Copies the audit trail into ClickHouse (the audit_events cube). */
  readonly auditMirror: AuditMirror;
  /** DATA_RETENTION_ENABLED: plan retention follows the registry (the server starts it with its applier). */
  readonly planRetention?: PlanRetentionWatch;
}

export interface ServiceOptions {
  readonly logger?: Logger;
  /** Seed demo data when the warehouse is empty (default: config.demo.seed). */
  readonly seed?: boolean;
  /**
   * Return before ClickHouse migrations and the demo seed are done (`serve`: listen early, /ready
   * false, data queries 503 until `warehouse.done`). Default false: wait (CLI commands).
   */
  readonly background?: boolean;
  /** Build and route to rollups (default: config.rollups.enabled); one-shot CLI commands skip them. */
  readonly rollups?: boolean;
}

export async function loadModelFromDir(dir: string): Promise<Model> {
  return loadModel(await readModelFiles(dir));
}

/** Model + engine + query service: enough for the CLI, no metadata store. */
export async function createCoreServices(config: Config, options: ServiceOptions = {}, store?: Store): Promise<CoreServices> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ collectDefaults: config.env !== 'test' });
  const model = await loadModelFromDir(config.modelsDir);
  const rawEngine = await createEngine(config.clickhouse);
  rawEngine.onQuery((e) => {
    // Upkeep (rollup maintenance) is counted apart: the statements requests cause stay readable.
    if (e.internal) return metrics.upkeepQueries.inc({ status: e.ok ? 'ok' : 'error' });
    metrics.engineQueries.inc({ status: e.ok ? 'ok' : 'error' });
    metrics.engineSeconds.observe(e.elapsedMs / 1000);
  });
  // Migrations and demo seed, each under a warehouse lock (see warehouse-startup.ts).
  const rollups = createRollupRegistry(logger);
  const warehouse = startWarehouse(rawEngine, {
    config,
    logger,
    seed: options.seed ?? config.demo.seed,
    ...(config.rollups.enabled && options.rollups !== false ? { rollups: { model, registry: rollups } } : {}),
  });
  if (!options.background) {
    try {
      await warehouse.done;
    } catch (e) {
      await rawEngine.close();
      throw e;
    }
  }
  const engine = gatedEngine(rawEngine, warehouse.notReadyReason);

  const limiter = createRateLimiter();
  // The tenant registry: every door admits a credential's tenant through it (tenancy/tenant-gate.ts),
  // so the plan is cached before the first query is charged and applies from the first request.
  const tenants = store
    ? createTenantDirectory({ tenants: store.tenants, logger, autoProvision: config.tenancy.autoProvision, defaultPlan: config.tenancy.defaultPlan })
    : undefined;
  const usage = store ? createUsageMeter({ usage: store.usage, logger, defaultPlan: config.tenancy.defaultPlan }) : undefined;
  // Fair sharing of the engine between tenants (query/engine-slots.ts).
  const slots = createEngineSlots({ slots: config.engineSlots.total, perTenant: config.engineSlots.perTenant });
  slots.onStart((e) => {
    if (e.overtakenBy > 0 || slots.stats().queued > 0) metrics.engineWaits.inc();
    metrics.engineQueued.set(slots.stats().queued);
  });
  const usageHook: UsageHook | undefined = store
    ? {
        seen: (ctx) =>
          store.principals.seen({
            tenantId: ctx.principal.tenantId,
            subject: ctx.principal.subject,
            via: ctx.principal.via,
            door: ctx.door,
            name: ctx.principal.name,
            email: ctx.principal.email,
          }),
        served(ctx, u) {
          usage?.add(ctx.principal.tenantId, { queries: 1, bytesReturned: u.bytes });
          metrics.usageQueries.inc();
          metrics.usageBytesReturned.inc(u.bytes);
        },
        engineRows(ctx, rows) {
          usage?.add(ctx.principal.tenantId, { rowsRead: rows });
          metrics.usageRowsRead.inc(rows);
        },
        refused(ctx, code) {
          usage?.add(ctx.principal.tenantId, { refused: 1 });
          metrics.refusals.inc({ code });
        },
      }
    : undefined;
  const query = createQueryService({
    model,
    engine,
    rollups: (tenantId) => rollups.availability(tenantId),
    limits: config.limits,
    queryTimeoutMs: config.clickhouse.queryTimeoutMs,
    cache: config.cache,
    logger,
    metrics,
    audit: store?.audit,
    slots,
    usage: usageHook,
    rateLimit:
      config.rateLimit.enabled || (usage && config.quotas.enabled)
        ? {
            check(principal, cost) {
              // Admitted at authentication, so cached; the CLI (no store) runs on the pro plan.
              const tenant = tenants ? (tenants.peek(principal.tenantId) ?? { plan: config.tenancy.defaultPlan }) : { plan: 'pro' };
              if (config.rateLimit.enabled) {
                const r = limiter.take(principal.tenantId, tenant, cost);
                if (!r.ok && !Number.isFinite(r.retryAfterMs)) {
                  const { burst } = limiter.limitFor(tenant);
                  throw new UserError('RATE_LIMITED', `this request asks for ${cost} queries, more than your plan allows at once (${burst}); split it`, {
                    limit: burst,
                    retryAfterMs: 1_000,
                  });
                }
                if (!r.ok) throw rateLimitedError(principal.tenantId, r.retryAfterMs);
              }
              if (usage && config.quotas.enabled) usage.check(principal.tenantId, tenant, cost);
            },
          }
        : undefined,
  });
  // The rollup sweep folded other writers' rows in: results cached from the rollups before are stale.
  rollups.onRefreshed((tenantId, cubes) => query.invalidate(tenantId, cubes));
  return {
    config,
    logger,
    metrics,
    model,
    engine,
    query,
    tenants,
    usage,
    warehouse,
    rollups,
    async close() {
      warehouse.close();
      rollups.close();
      await rawEngine.close();
    },
  };
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  // Loaded here, not at the top: the CLI's query path needs neither (PGlite and jose are heavy to load).
  const [{ createStore }, { createAuthenticator }] = await Promise.all([import('./store/store.js'), import('./auth/create-authenticator.js')]);
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = await createStore(config.postgres, logger);
  await store.migrate();
  if (options.seed ?? config.demo.seed) await store.ensureDemoTenants();
  const core = await createCoreServices(config, { ...options, logger }, store);
  const tenants = core.tenants as TenantDirectory;
  const jwt = createAuthenticator({ auth: config.auth, apiKeys: store.apiKeys, jwks: { onEvent: jwksEventSink(core.logger, core.metrics) } });
  const roles = createRoleResolver({ roles: store.roles });
  const authenticator = withTenantCheck(jwt, tenants, {
    roles,
    // Refusals of a served tenant's credentials (suspended tenant, revoked / expired key) go to its audit trail.
    onRefusal(tenantId, e, origin) {
      const code = (e as { code?: string }).code ?? 'UNAUTHENTICATED';
      core.metrics.refusals.inc({ code });
      store.audit.record({
        tenantId,
        subject: 'unknown',
        door: origin?.door ?? 'unknown',
        status: 'denied',
        errorCode: code,
        kind: 'refusal',
        action: 'authenticate',
        clientAddress: origin?.clientAddress ?? null,
        requestId: origin?.requestId ?? null,
        userAgent: origin?.userAgent ?? null,
      });
    },
  });
  const access = await createAccessWatch({
    directory: tenants,
    apiKeys: store.apiKeys,
    roles,
    bus: store,
    logger,
    intervalMs: config.tenancy.recheckIntervalMs,
  });
  const auditMirror = startAuditMirror({
    audit: store.audit,
    engine: core.engine,
    logger,
    ready: core.warehouse.done,
    // The audit cube's cached results (query and response caches) are stale once new events are in.
    onCopied: (ids) => {
      for (const id of ids) core.query.invalidate(id, [AUDIT_TABLE]);
    },
  });
  // Reports and the durable job queue they run on (jobs/runner.ts over store/job-queue.ts).
  let publicUrl = config.reports.publicUrl;
  const mailer = config.reports.smtp ? createMailer(config.reports.smtp) : undefined;
  let lastPurge = 0;
  const runner: { current?: JobRunner } = {};
  const reports = createReportsService({
    store,
    query: core.query,
    logger,
    mailer,
    publicUrl: () => publicUrl,
    poke: () => runner.current?.poke(),
    settings: config.reports,
  });
  const jobs = config.jobs.enabled
    ? createJobRunner({
        queue: store.jobs,
        logger,
        leaseMs: config.jobs.leaseMs,
        pollMs: config.jobs.pollMs,
        concurrency: config.jobs.concurrency,
        retryBaseMs: config.jobs.retryBaseMs,
        ...(config.jobs.workerId ? { worker: `${config.jobs.workerId}-${process.pid}` } : {}),
        async beforePoll() {
          await reports.beforePoll();
          if (Date.now() - lastPurge > 600_000) {
            lastPurge = Date.now();
            await reports.purge();
          }
        },
      })
    : undefined;
  runner.current = jobs;
  if (jobs) reports.attach(jobs);
  const planRetention = config.retention.enabled ? createPlanRetentionWatch({ tenants: store.tenants, bus: store, logger }) : undefined;
  return {
    ...core,
    store,
    reports,
    jobs,
    setPublicUrl(url: string) {
      if (!config.reports.publicUrlSet) publicUrl = url;
    },
    authenticator,
    tenants,
    access,
    auditMirror,
    planRetention,
    identityKeys: jwt.identityKeys,
    async close() {
      await jobs?.drain(Date.now());
      await planRetention?.close();
      mailer?.close();
      await access.close();
      await auditMirror.close();
      await core.close();
      await store.close();
    },
  };
}

/** JWKS fetches and AUTH_UNAVAILABLE refusals -> logs and metrics (auth/ never logs). */
function jwksEventSink(logger: Logger, metrics: Metrics): (event: JwksEvent) => void {
  let failing = false;
  let refused = 0;
  let lastRefusalLog = 0;
  return (event) => {
    if (event.kind === 'fetched') {
      metrics.jwksFetches.inc({ result: 'ok' });
      if (failing) logger.info({ keys: event.keys, ms: event.ms }, 'identity provider keys (JWKS) fetched again');
      failing = false;
    } else if (event.kind === 'fetch-failed') {
      metrics.jwksFetches.inc({ result: 'error' });
      // Once per outage, not per retry: the refusals below carry on counting.
      if (!failing) {
        logger.warn(
          { err: event.error, ms: event.ms, lastKnownGood: event.lastKnownGood },
          event.lastKnownGood ? 'identity provider keys (JWKS) unavailable: using the last keys fetched' : 'identity provider keys (JWKS) unavailable',
        );
      }
      failing = true;
    } else {
      metrics.authUnavailable.inc();
      refused++;
      // At most one line every 10 s, with how many JWTs were refused since the last one.
      if (Date.now() - lastRefusalLog >= 10_000) {
        logger.error({ refused, reason: event.reason }, 'JWTs refused with AUTH_UNAVAILABLE: the identity provider keys (JWKS) cannot be had');
        lastRefusalLog = Date.now();
        refused = 0;
      }
    }
  };
}
