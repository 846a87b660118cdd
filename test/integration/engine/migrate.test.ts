import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { DEFAULT_MIGRATIONS_DIR, migrateClickhouse, splitStatements } from '../../../src/engine/migrate.js';
import { UserError } from '../../../src/errors.js';

const TENANT_TABLES = ['ad_performance', 'campaigns', 'web_sessions', 'email_activity', 'clients', 'conversions', 'ingest_quarantine', 'ingest_batches'];
const FACT_TABLES = ['ad_performance', 'web_sessions', 'email_activity', 'conversions'];

describe('ClickHouse migrations', () => {
  let dir: string;
  let engine: Engine;
  const shipped = readdirSync(DEFAULT_MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-'));
    engine = createEngine({ database: 'strata', chdbPath: join(dir, 'ch'), queryTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every shipped migration once, in order, and records name + checksum', async () => {
    expect(await migrateClickhouse(engine)).toEqual({ applied: shipped });
    expect(await migrateClickhouse(engine)).toEqual({ applied: [] });
    const { rows } = await engine.query<{ name: string; checksum: string }>('SELECT name, checksum FROM _strata_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(shipped);
    for (const r of rows) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('creates the warehouse tables: tenant_id first in the sort key, ingested_at on facts, platforms shared', async () => {
    const { rows } = await engine.query<{ name: string; sorting_key: string; engine: string }>(
      'SELECT name, sorting_key, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const t of TENANT_TABLES) {
      expect(byName.get(t)?.sorting_key, t).toMatch(/^tenant_id,/);
      expect(byName.get(t)?.engine, t).toMatch(/MergeTree$/);
    }
    const cols = await engine.query<{ table: string; name: string; type: string; default_expression: string }>(
      "SELECT table, name, type, default_expression FROM system.columns WHERE database = currentDatabase() AND name IN ('ingested_at', 'tenant_id')",
    );
    for (const t of FACT_TABLES) {
      expect(cols.rows.find((c) => c.table === t && c.name === 'ingested_at')).toMatchObject({ type: "DateTime64(3, 'UTC')", default_expression: 'now64(3)' });
    }
    expect(cols.rows.some((c) => c.table === 'platforms' && c.name === 'tenant_id')).toBe(false);
    const platforms = await engine.query<{ platform: string; channel: string }>('SELECT platform, channel FROM platforms FINAL ORDER BY platform');
    expect(platforms.rows).toEqual([
      { platform: 'amazon', channel: 'programmatic' },
      { platform: 'dv360', channel: 'programmatic' },
      { platform: 'google_ads', channel: 'search' },
      { platform: 'linkedin', channel: 'social' },
      { platform: 'meta', channel: 'social' },
      { platform: 'microsoft_ads', channel: 'search' },
      { platform: 'tiktok', channel: 'video' },
      { platform: 'ttd', channel: 'programmatic' },
    ]);
  });

  it('applies only new files, and refuses a file changed after it was applied', async () => {
    const custom = mkdtempSync(join(tmpdir(), 'strata-migrations-'));
    try {
      cpSync(DEFAULT_MIGRATIONS_DIR, custom, { recursive: true });
      writeFileSync(join(custom, '9001_extra.sql'), 'CREATE TABLE IF NOT EXISTS extra_t (tenant_id String) ENGINE = MergeTree ORDER BY tenant_id;\n');
      expect(await migrateClickhouse(engine, custom)).toEqual({ applied: ['9001_extra.sql'] });

      appendFileSync(join(custom, '0003_ad_performance.sql'), '\n-- an innocent-looking edit\n');
      let error: unknown;
      try {
        await migrateClickhouse(engine, custom);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).code).toBe('CONFLICT');
      expect((error as UserError).message).toMatch(/^ClickHouse migration 0003_ad_performance\.sql was changed after it was applied/);
      expect((error as UserError).message).toMatch(/add a new migration instead/);
    } finally {
      rmSync(custom, { recursive: true, force: true });
    }
  });

  it('rejects badly named migration files', async () => {
    const custom = mkdtempSync(join(tmpdir(), 'strata-migrations-'));
    try {
      writeFileSync(join(custom, 'add-things.sql'), 'SELECT 1');
      await expect(migrateClickhouse(engine, custom)).rejects.toThrow('migration file add-things.sql must be named NNNN_snake_case.sql');
    } finally {
      rmSync(custom, { recursive: true, force: true });
    }
  });

  it('splits statements on semicolons outside strings and comments', () => {
    const sql = "-- a; comment\nCREATE TABLE a (x String DEFAULT ';') ENGINE = Memory;\n/* b; */ INSERT INTO a VALUES ('it''s; ok');\n\n";
    expect(splitStatements(sql)).toEqual(["CREATE TABLE a (x String DEFAULT ';') ENGINE = Memory", "INSERT INTO a VALUES ('it''s; ok')"]);
  });
});
