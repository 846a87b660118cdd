/**
 * /ready's check over real engines (chDB + PGlite): both databases answering is not enough — until
 * the ClickHouse and Postgres migrations are applied, readiness is false; afterwards it is true and
 * the migration checks stop querying.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { clickhouseMigrationsApplied, migrateClickhouse, readMigrations as readClickhouseMigrations } from '../../../src/engine/migrate.js';
import { createReadinessCheck } from '../../../src/readiness.js';
import { migrationsApplied } from '../../../src/store/migrate.js';
import { createStore, storeOnDb, type Store } from '../../../src/store/store.js';
import { createTestDatabase } from './backends.js';
import { makeTempDir } from '../../helpers/clickhouse.js';

describe('readiness', () => {
  let dir: string;
  let engine: Engine;
  let store: Store;

  beforeAll(async () => {
    dir = makeTempDir('strata-ready-');
    engine = createEngine({ database: 'strata', chdbPath: join(dir, 'ch'), queryTimeoutMs: 30_000 });
    store = await createStore({ pglitePath: join(dir, 'pg') });
  });
  afterAll(async () => {
    await store?.close();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is false while the databases answer but hold no migrations, true once both are migrated', async () => {
    const ready = createReadinessCheck(engine, store);
    expect(await ready()).toEqual({
      ready: false,
      clickhouse: true,
      postgres: true,
      migrations: { clickhouse: false, postgres: false },
      warehouse: true,
      reason: 'Postgres migrations are not applied',
    });

    await store.migrate();
    expect(await ready()).toEqual({
      ready: false,
      clickhouse: true,
      postgres: true,
      migrations: { clickhouse: false, postgres: true },
      warehouse: true,
      reason: 'ClickHouse migrations are not applied',
    });

    // The migrations table exists but one file is missing from it: still not ready.
    const files = readClickhouseMigrations();
    await engine.command(
      "CREATE TABLE IF NOT EXISTS _strata_migrations (name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY name",
    );
    await engine.insert(
      '_strata_migrations',
      files.slice(0, -1).map((m) => ({ name: m.name, checksum: m.checksum })),
    );
    expect(await clickhouseMigrationsApplied(engine)).toBe(false);
    expect((await ready()).ready).toBe(false);
    await engine.command('TRUNCATE TABLE _strata_migrations');

    await migrateClickhouse(engine);
    expect(await ready()).toEqual({ ready: true, clickhouse: true, postgres: true, migrations: { clickhouse: true, postgres: true }, warehouse: true });

    // Migrated, but the warehouse startup (a seed, here or elsewhere) is not done: not ready, and why.
    let starting: string | undefined = 'loading the demo data';
    const gated = createReadinessCheck(engine, store, () => starting);
    expect(await gated()).toMatchObject({ ready: false, warehouse: false, reason: 'loading the demo data' });
    starting = undefined;
    expect((await gated()).ready).toBe(true);

    // Once true, the migration checks cost nothing: only the pings query.
    const before = engine.stats().queries;
    for (let i = 0; i < 5; i++) expect((await ready()).ready).toBe(true);
    expect(engine.stats().queries - before).toBeLessThanOrEqual(5);
  });

  it('compares applied versions with the files on disk', async () => {
    expect(await clickhouseMigrationsApplied(engine, [{ name: '9999_not_yet.sql' }])).toBe(false);
    expect(await migrationsApplied(fakeDb(['0001_init.sql']), [{ name: '0001_init.sql', sql: '', checksum: '' }])).toBe(true);
    expect(
      await migrationsApplied(fakeDb(['0001_init.sql']), [
        { name: '0001_init.sql', sql: '', checksum: '' },
        { name: '0002_next.sql', sql: '', checksum: '' },
      ]),
    ).toBe(false);
    expect(await migrationsApplied(failingDb(), [{ name: '0001_init.sql', sql: '', checksum: '' }])).toBe(false);
  });
});

describe.each(['pglite', 'postgres'] as const)('the store migration check on %s', (backend) => {
  it('is false on an empty database (it answers, but has no tables), true after migrate, cached once true', async () => {
    const database = await createTestDatabase(backend);
    const db = await database.open();
    try {
      const store = storeOnDb(db);
      expect(await store.ping()).toBe(true);
      expect(await store.migrationsApplied()).toBe(false);
      expect(await migrationsApplied(db)).toBe(false);
      await store.migrate();
      expect(await store.migrationsApplied()).toBe(true);
      // cached: true even when the table can no longer be read
      await db.exec('ALTER TABLE strata_migrations RENAME TO strata_migrations_moved');
      expect(await store.migrationsApplied()).toBe(true);
      expect(await migrationsApplied(db)).toBe(false);
      await db.exec('ALTER TABLE strata_migrations_moved RENAME TO strata_migrations');
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

function fakeDb(names: string[]) {
  return { query: async <T>() => names.map((name) => ({ name })) as unknown as T[], exec: async () => {} };
}

function failingDb() {
  return {
    query: async () => {
      throw new Error('relation "strata_migrations" does not exist');
    },
    exec: async () => {},
  };
}
