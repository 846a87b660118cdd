/**
 * Readiness (/ready): both databases answer AND their migrations are applied. A metadata database
 * that exists but has no tables, or a warehouse without its tables, is not ready. The migration
 * checks are one SELECT each until they first succeed, then free (migrations are never undone).
 */
import type { Engine } from './engine/engine.js';
import { createClickhouseMigrationCheck } from './engine/migrate.js';
import type { Store } from './store/store.js';

export interface Readiness {
  readonly ready: boolean;
  readonly clickhouse: boolean;
  readonly postgres: boolean;
  readonly migrations: { readonly clickhouse: boolean; readonly postgres: boolean };
}

export function createReadinessCheck(engine: Engine, store: Pick<Store, 'ping' | 'migrationsApplied'>): () => Promise<Readiness> {
  const clickhouseMigrations = createClickhouseMigrationCheck(engine);
  return async () => {
    const [clickhouse, postgres] = await Promise.all([engine.ping().catch(() => false), store.ping().catch(() => false)]);
    const [chMigrations, pgMigrations] = await Promise.all([
      clickhouse ? clickhouseMigrations() : false,
      postgres ? store.migrationsApplied().catch(() => false) : false,
    ]);
    return {
      ready: clickhouse && postgres && chMigrations && pgMigrations,
      clickhouse,
      postgres,
      migrations: { clickhouse: chMigrations, postgres: pgMigrations },
    };
  };
}
