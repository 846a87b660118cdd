/**
 * Getting the warehouse ready at start: ClickHouse migrations, then (SEED_DEMO) the demo data,
 * then (DATA_RETENTION_ENABLED) the retention dictionary and TTLs, each under its warehouse-side
 * lock (engine/lock.ts), so instances started together migrate once and seed once while the others wait. Until it is done, `notReadyReason()` says why, and
 * the gated engine the doors use refuses data queries (503 ENGINE_UNAVAILABLE, Retry-After).
 *
 * Afterwards, over HTTP (a ClickHouse server other instances share), a watcher looks for another
 * process's demo seed every DEMO_SEED_WATCH_MS and closes the gate while one runs; the seeder
 * waits 2.5 intervals before it removes rows, so running instances stop answering first.
 */
import type { Config } from './config.js';
import { DEMO_SEED_WATCH_MS, ensureDemoData, readDemoSeedLock } from './demo/seed.js';
import type { Engine } from './engine/engine.js';
import { LOCK_OWNER, type LockHolder, type LockOptions, withClickhouseLock } from './engine/lock.js';
import { derivedRetentionTtl, enableRetention } from './ingest/retention.js';
import { migrateClickhouse } from './engine/migrate.js';
import type { Logger } from './logger.js';
import { createRollupMaintainer } from './rollups/maintainer.js';
import type { RollupRegistry } from './rollups/registry.js';
import { ensureRollups } from './rollups/warehouse.js';
import type { Model } from './semantic/model.js';

export interface WarehouseStartup {
  /** Why data queries are refused now; undefined once they are answered. */
  notReadyReason(): string | undefined;
  /** Settles when migrations and seed are done; rejects when they failed. */
  readonly done: Promise<void>;
  /** Settles when the model's rollups are built and routed to (or failed and are not used: logged). */
  readonly rollupsDone: Promise<void>;
  /** off (none declared or ROLLUPS_ENABLED=false), building (queries read the facts meanwhile), ready, failed. */
  rollupsStatus(): RollupsStatus;
  close(): void;
}

export type RollupsStatus = 'off' | 'building' | 'ready' | 'failed';

export interface WarehouseStartupOptions {
  readonly config: Pick<Config, 'demo'> & Partial<Pick<Config, 'retention' | 'clickhouse'>>;
  readonly logger: Logger;
  readonly seed: boolean;
  /** Test hook: the lock lease (default engine/lock.ts DEFAULT_LEASE_MS). */
  readonly leaseMs?: number;
  /** Build the model's rollups after the data is ready, then route to them (ROLLUPS_ENABLED). */
  readonly rollups?: { readonly model: Model; readonly registry: RollupRegistry };
}

export function startWarehouse(engine: Engine, options: WarehouseStartupOptions): WarehouseStartup {
  const { config, logger } = options;
  let reason: string | undefined = 'applying ClickHouse migrations';
  let foreignSeed: LockHolder | undefined;
  let watcher: NodeJS.Timeout | undefined;
  const waitingFor = (what: string) =>
    ({
      leaseMs: options.leaseMs,
      onWait: (h) => {
        reason = `waiting for ${what} by another instance (${h.owner})`;
        logger.info({ holder: h.owner, generation: h.generation }, `waiting for ${what} by another instance`);
      },
      onTakeover: (h) => logger.warn({ holder: h.owner, ageMs: h.ageMs }, `taking over ${what}: its holder stopped (lease ran out)`),
    }) satisfies LockOptions;

  let demoReplaced = false;
  const run = async () => {
    const { applied } = await migrateClickhouse(engine, undefined, { lock: waitingFor('ClickHouse migrations') });
    if (applied.length > 0) logger.info({ applied }, 'applied ClickHouse migrations');
    if (options.seed) {
      reason = 'loading the demo data';
      const started = Date.now();
      // Seeds an empty warehouse; moves demo data that no longer ends yesterday (or on DEMO_END_DATE)
      // when the demo tenants hold only what the seed wrote; redoes a seed that died half-way.
      const demo = await ensureDemoData(engine, { scale: config.demo.scale, endDate: config.demo.endDate, lock: waitingFor('the demo seed') });
      demoReplaced = demo.action === 'refreshed' || demo.action === 'repaired';
      if (demo.action === 'seeded' || demo.action === 'refreshed' || demo.action === 'repaired') {
        const total = Object.values(demo.rows).reduce((a, b) => a + b, 0);
        const previous = demo.action === 'seeded' ? {} : { previousEnd: demo.previous?.end };
        logger.info(
          { rows: demo.rows, total, from: demo.window.start, to: demo.window.end, ...previous, ms: Date.now() - started },
          `${demo.action} demo warehouse`,
        );
      } else if (demo.action === 'kept') {
        logger.warn({ to: demo.dataset.end, reason: demo.reason }, 'demo data is not current and was kept; refresh it with `strata seed`');
      }
    }
    if (config.retention?.enabled) {
      // The retention dictionary and TTLs (idempotent; under a lock so instances starting together do it once).
      reason = 'enabling data retention';
      // A server's dictionary reads data_retention as Strata's own user; the embedded engine needs none.
      const credentials = engine.kind === 'http' ? (config.clickhouse ?? {}) : {};
      await withClickhouseLock(engine, 'retention', () => enableRetention(engine, credentials), waitingFor('enabling data retention'));
    }
    reason = undefined;
    if (engine.kind === 'http') watcher = watchForeignSeeds();
  };

  const watchForeignSeeds = () => {
    const timer = setInterval(() => {
      readDemoSeedLock(engine, options.leaseMs).then(
        (holder) => {
          const next = holder && holder.owner !== LOCK_OWNER ? holder : undefined;
          if (next && !foreignSeed)
            logger.info({ holder: next.owner }, 'another instance is seeding the demo data: not answering data queries until it is done');
          if (!next && foreignSeed) logger.info('the other instance finished seeding: answering data queries again');
          foreignSeed = next;
        },
        () => undefined, // an unreachable warehouse shows in /ready (ping), not here
      );
    }, DEMO_SEED_WATCH_MS);
    timer.unref();
    return timer;
  };

  const done = run().catch((e: Error) => {
    reason = 'the warehouse failed to start (see the server log)';
    throw e;
  });
  done.catch(() => undefined); // the caller awaits `done`; never an unhandled rejection here

  // Rollups are built while queries are answered from the fact tables; routed to once built.
  const declared = options.rollups && Object.values(options.rollups.model.cubes).some((c) => (c.preAggregations?.length ?? 0) > 0);
  let rollups: RollupsStatus = declared ? 'building' : 'off';
  let closing = false;
  const buildRollups = async () => {
    const r = options.rollups;
    if (!r || !declared) return;
    try {
      const started = Date.now();
      // With retention, a rollup forgets a day when its cube's table does (the same TTL over its days).
      const ttl = config.retention?.enabled ? (table: string, day: string) => derivedRetentionTtl(engine, table, day) : undefined;
      const report = await withClickhouseLock(
        engine,
        'rollups',
        () => ensureRollups(engine, r.model, { rebuild: demoReplaced, ...(ttl ? { ttl } : {}) }),
        // Only logged: queries are answered (from the facts) while another instance builds them.
        {
          leaseMs: options.leaseMs,
          onWait: (h) => logger.info({ holder: h.owner }, 'waiting for another instance to build the rollups'),
          onTakeover: (h) => logger.warn({ holder: h.owner, ageMs: h.ageMs }, 'taking over building the rollups: its holder stopped (lease ran out)'),
        },
      );
      const maintainer = createRollupMaintainer(engine, report.planned, logger);
      // Inserts made while the rollups were built (or by anyone else) are folded in first.
      await maintainer.refresh();
      await r.registry.activate(report, maintainer);
      const every = Math.min(...report.planned.map((p) => (p.pre.refreshEverySeconds ?? 10) * 1000));
      maintainer.start(Math.max(every, 1000), (tenantId, cubes) => r.registry.refreshed(tenantId, cubes));
      logger.info(
        {
          ready: report.planned.length,
          built: report.built.map((b) => ({ table: b.table, rows: b.rows, ms: Math.round(b.ms) })),
          dropped: report.dropped,
          ms: Date.now() - started,
        },
        'rollups ready',
      );
      rollups = 'ready';
    } catch (err) {
      rollups = 'failed';
      // Shutting down mid-build closes the engine under it: not a failure to report. The build's
      // lock then lapses after its lease; the next start waits that long before it takes over.
      if (closing) logger.info({ err: (err as Error).message }, 'rollups build stopped: shutting down');
      else logger.error({ err: (err as Error).message }, 'rollups could not be built: every query reads the fact tables');
    }
  };
  const rollupsDone = done.then(buildRollups, () => {
    if (rollups === 'building') rollups = 'failed';
  });
  return {
    notReadyReason: () => reason ?? (foreignSeed ? `another instance (${foreignSeed.owner}) is seeding the demo data` : undefined),
    done,
    rollupsDone,
    rollupsStatus: () => rollups,
    close() {
      closing = true;
      if (watcher) clearInterval(watcher);
    },
  };
}
