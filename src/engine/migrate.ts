/**
 * Warehouse migrations: migrations/clickhouse/NNNN_name.sql, applied in name order, each once.
 * Applied files are recorded in `_strata_migrations` (name, checksum, applied_at); a file that
 * changed after it was applied is refused — write a new migration instead.
 * Statements are idempotent (IF NOT EXISTS), so a run that died half-way can simply be repeated.
 * Runs hold a warehouse-side lock (lock.ts): N instances starting together apply each file once.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { Engine } from './engine.js';
import { type LockOptions, withClickhouseLock } from './lock.js';

export const MIGRATIONS_TABLE = '_strata_migrations';
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/clickhouse/', import.meta.url));

const FILE = /^\d{4}_[a-z0-9_]+\.sql$/;

export interface Migration {
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      if (!FILE.test(name)) throw new UserError('CONFIG_INVALID', `migration file ${name} must be named NNNN_snake_case.sql`);
      const text = readFileSync(join(dir, name), 'utf8');
      return { name, checksum: createHash('sha256').update(text).digest('hex'), statements: splitStatements(text) };
    });
}

/** The lock every process that migrates this warehouse takes (see lock.ts). */
export const MIGRATIONS_LOCK = 'migrations';

/**
 * Applies the pending files under the warehouse's `migrations` lock, so instances started
 * together migrate once: the others wait, then find every file recorded. An up-to-date
 * warehouse (the usual start) is checked without taking the lock.
 */
export async function migrateClickhouse(engine: Engine, dir?: string, options: { lock?: LockOptions } = {}): Promise<{ applied: string[] }> {
  const migrations = readMigrations(dir);
  if (await upToDate(engine, migrations)) return { applied: [] };
  return withClickhouseLock(engine, MIGRATIONS_LOCK, () => applyPending(engine, migrations), options.lock);
}

async function upToDate(engine: Engine, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const { rows } = await engine.query<{ name: string; checksum: string }>(`SELECT name, any(checksum) AS checksum FROM ${MIGRATIONS_TABLE} GROUP BY name`);
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    return migrations.every((m) => done.get(m.name) === m.checksum);
  } catch {
    return false; // no table yet
  }
}

async function applyPending(engine: Engine, migrations: readonly Migration[]): Promise<{ applied: string[] }> {
  await engine.command(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY name`,
  );
  const { rows } = await engine.query<{ name: string; checksum: string }>(`SELECT name, any(checksum) AS checksum FROM ${MIGRATIONS_TABLE} GROUP BY name`);
  const done = new Map(rows.map((r) => [r.name, r.checksum]));
  const applied: string[] = [];
  for (const m of migrations) {
    const previous = done.get(m.name);
    if (previous !== undefined) {
      if (previous !== m.checksum) {
        throw new UserError(
          'CONFLICT',
          `ClickHouse migration ${m.name} was changed after it was applied (checksum ${previous.slice(0, 12)} is now ${m.checksum.slice(0, 12)}); restore the file and add a new migration instead`,
          { migration: m.name },
        );
      }
      continue;
    }
    for (const statement of m.statements) await engine.command(statement);
    await engine.insert(MIGRATIONS_TABLE, [{ name: m.name, checksum: m.checksum }]);
    applied.push(m.name);
  }
  return { applied };
}

/** Splits on `;` outside quotes and comments; drops comment-only chunks. */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
      current += '\n';
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' ? 2 : 1;
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/**
 * True when every migration file is recorded in _strata_migrations (one SELECT); false when the
 * table does not exist yet. Readiness uses it: a warehouse that answers but has no tables is not ready.
 */
export async function clickhouseMigrationsApplied(engine: Engine, migrations: readonly Pick<Migration, 'name'>[] = readMigrations()): Promise<boolean> {
  let names: string[];
  try {
    const { rows } = await engine.query<{ name: string }>(`SELECT DISTINCT name FROM ${MIGRATIONS_TABLE}`);
    names = rows.map((r) => r.name);
  } catch {
    return false;
  }
  const done = new Set(names);
  return migrations.every((m) => done.has(m.name));
}

/** clickhouseMigrationsApplied with the files read once and, once true, no more queries. */
export function createClickhouseMigrationCheck(engine: Engine, dir?: string): () => Promise<boolean> {
  let migrations: Migration[] | undefined;
  let applied = false;
  return async () => {
    if (applied) return true;
    migrations ??= readMigrations(dir);
    applied = await clickhouseMigrationsApplied(engine, migrations).catch(() => false);
    return applied;
  };
}
