/**
 * Composition root: wires store, engine, model, auth, query and live from one Config.
 * Nothing else constructs these; doors receive what they need from here.
 */
import type { Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import { ensureDemoData } from './demo/seed.js';
import { createEngine } from './engine/create-engine.js';
import type { Engine } from './engine/engine.js';
import { migrateClickhouse } from './engine/migrate.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { readModelFiles } from './model-files.js';
import { createQueryService, type StrataQueryService } from './query/query-service.js';
import { createRateLimiter, rateLimitedError } from './ratelimit/rate-limiter.js';
import type { Model } from './semantic/model.js';
import { loadModel } from './semantic/load.js';
import type { Store } from './store/store.js';
import type { Tenant } from './store/tenants.js';

export interface CoreServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly model: Model;
  readonly engine: Engine;
  readonly query: StrataQueryService;
  close(): Promise<void>;
}

export interface Services extends CoreServices {
  readonly store: Store;
  readonly authenticator: Authenticator;
}

export interface ServiceOptions {
  readonly logger?: Logger;
  /** Seed demo data when the warehouse is empty (default: config.demo.seed). */
  readonly seed?: boolean;
}

export async function loadModelFromDir(dir: string): Promise<Model> {
  return loadModel(await readModelFiles(dir));
}

/** Model + engine + query service: enough for the CLI, no metadata store. */
export async function createCoreServices(config: Config, options: ServiceOptions = {}, store?: Store): Promise<CoreServices> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ collectDefaults: config.env !== 'test' });
  const model = await loadModelFromDir(config.modelsDir);
  const engine = await createEngine(config.clickhouse);
  engine.onQuery((e) => {
    metrics.engineQueries.inc({ status: e.ok ? 'ok' : 'error' });
    metrics.engineSeconds.observe(e.elapsedMs / 1000);
  });
  await migrateClickhouse(engine);
  if (options.seed ?? config.demo.seed) {
    // Seeds an empty warehouse; moves demo data that no longer ends yesterday (or on DEMO_END_DATE)
    // when the demo tenants hold only what the seed wrote. See src/demo/CONTEXT.md.
    const started = Date.now();
    const demo = await ensureDemoData(engine, { scale: config.demo.scale, endDate: config.demo.endDate });
    if (demo.action === 'seeded' || demo.action === 'refreshed') {
      const total = Object.values(demo.rows).reduce((a, b) => a + b, 0);
      const previous = demo.action === 'refreshed' ? { previousEnd: demo.previous?.end } : {};
      logger.info(
        { rows: demo.rows, total, from: demo.window.start, to: demo.window.end, ...previous, ms: Date.now() - started },
        `${demo.action} demo warehouse`,
      );
    } else if (demo.action === 'kept') {
      logger.warn({ to: demo.dataset.end, reason: demo.reason }, 'demo data is not current and was kept; refresh it with `strata seed`');
    }
  }

  const limiter = createRateLimiter();
  const tenants = new Map<string, Tenant | null>();
  const refreshTenant = (id: string) => {
    if (!store) return;
    store.tenants
      .get(id)
      .then((t) => tenants.set(id, t))
      .catch((e) => logger.warn({ err: (e as Error).message }, 'tenant lookup failed'));
  };
  const query = createQueryService({
    model,
    engine,
    limits: config.limits,
    queryTimeoutMs: config.clickhouse.queryTimeoutMs,
    cache: config.cache,
    logger,
    metrics,
    audit: store?.audit,
    rateLimit: config.rateLimit.enabled
      ? {
          check(principal) {
            // Tenant plans are looked up in the background; until known, the default plan applies.
            if (!tenants.has(principal.tenantId)) {
              tenants.set(principal.tenantId, null);
              refreshTenant(principal.tenantId);
            }
            const r = limiter.take(principal.tenantId, tenants.get(principal.tenantId) ?? { plan: 'pro' });
            if (!r.ok) throw rateLimitedError(principal.tenantId, r.retryAfterMs);
          },
        }
      : undefined,
  });
  return {
    config,
    logger,
    metrics,
    model,
    engine,
    query,
    async close() {
      await engine.close();
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
  const authenticator = createAuthenticator({ auth: config.auth, apiKeys: store.apiKeys });
  return {
    ...core,
    store,
    authenticator,
    async close() {
      await core.close();
      await store.close();
    },
  };
}
