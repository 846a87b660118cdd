/**
 * Readiness (/ready): both databases answer AND their migrations are applied. A metadata database
 * that exists but has no tables, or a warehouse without its tables, is not ready. The migration
 * checks are one SELECT each until they first succeed, then free (migrations are never undone).
 * And the warehouse startup is done: migrations and demo seed finished, here and in any other
 * instance (warehouse-startup.ts) — until then `reason` says what it waits for.
 */
import type { Engine } from './engine/engine.js';
import { createClickhouseMigrationCheck } from './engine/migrate.js';
import type { Store } from './store/store.js';

export interface Readiness {
  readonly ready: boolean;
  readonly clickhouse: boolean;
  readonly postgres: boolean;
  readonly migrations: { readonly clickhouse: boolean; readonly postgres: boolean };
  /** Migrations and demo seed are done (no seed running anywhere). */
  readonly warehouse: boolean;
  /** Why it is not ready (absent when ready). */
  readonly reason?: string;
  /** Rollups: off, building (queries read the fact tables meanwhile; ready regardless), ready, failed. */
  readonly rollups?: string;
}

export function createReadinessCheck(
  engine: Engine,
  store: Pick<Store, 'ping' | 'migrationsApplied'>,
  warehouseNotReady: () => string | undefined = () => undefined,
  rollups?: () => string,
): () => Promise<Readiness> {
  const clickhouseMigrations = createClickhouseMigrationCheck(engine);
  return async () => {
    const [clickhouse, postgres] = await Promise.all([engine.ping().catch(() => false), store.ping().catch(() => false)]);
    const [chMigrations, pgMigrations] = await Promise.all([
      clickhouse ? clickhouseMigrations() : false,
      postgres ? store.migrationsApplied().catch(() => false) : false,
    ]);
    const starting = warehouseNotReady();
    const reason = !clickhouse
      ? 'ClickHouse does not answer'
      : !postgres
        ? 'Postgres does not answer'
        : (starting ?? (!pgMigrations ? 'Postgres migrations are not applied' : !chMigrations ? 'ClickHouse migrations are not applied' : undefined));
    return {
      ready: reason === undefined,
      clickhouse,
      postgres,
      migrations: { clickhouse: chMigrations, postgres: pgMigrations },
      warehouse: starting === undefined,
      ...(reason ? { reason } : {}),
      ...(rollups ? { rollups: rollups() } : {}),
    };
  };
}
