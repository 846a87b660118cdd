/**
 * Applies migrations/postgres/NNNN_name.sql in order, each in its own transaction, under a lock,
 * recording a SHA-256 checksum per file in strata_migrations. Re-running is a no-op; a file edited
 * after it was applied is refused (add a new migration instead).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable, StoreLogger } from './db.js';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/postgres/', import.meta.url));

/** pg_advisory_lock key: "STRATAMG" as 8 ASCII bytes, so it is recognisable in pg_locks. */
const MIGRATION_LOCK_KEY = 0x5354524154414d47n;
const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  /** Files applied by this call (empty when the database was already up to date). */
  readonly applied: readonly string[];
  /** Every file present, in order. */
  readonly files: readonly string[];
}

export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.sql'))
    .sort();
  const seen = new Map<string, string>();
  return names.map((name) => {
    const m = FILE_NAME.exec(name);
    if (!m) throw new MigrationError(`migration file name "${name}" must look like NNNN_name.sql (lower-case)`, name);
    const other = seen.get(m[1]);
    if (other) throw new MigrationError(`migrations "${other}" and "${name}" share the number ${m[1]}`, name);
    seen.set(m[1], name);
    // Line endings normalised so a checkout with CRLF does not look like an edit.
    const sql = readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export async function runMigrations(db: Db, options: { dir?: string; logger?: StoreLogger } = {}): Promise<MigrationResult> {
  const files = readMigrations(options.dir);
  const applied: string[] = [];
  await db.withLock(MIGRATION_LOCK_KEY, async (conn) => {
    // Inside the lock: two instances starting at once would otherwise race on CREATE TABLE.
    await conn.exec(`CREATE TABLE IF NOT EXISTS strata_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await conn.query<{ name: string; checksum: string }>('SELECT name, checksum FROM strata_migrations ORDER BY name');
    const done = new Map(rows.map((r) => [r.name, r.checksum]));

    for (const f of files) {
      const recorded = done.get(f.name);
      if (recorded !== undefined && recorded !== f.checksum) {
        throw new MigrationError(
          `migration ${f.name} was edited after it was applied (recorded checksum ${recorded.slice(0, 12)}…, ` +
            `file now ${f.checksum.slice(0, 12)}…); restore the file and add a new migration instead`,
          f.name,
        );
      }
    }
    const known = new Set(files.map((f) => f.name));
    const unknown = [...done.keys()].filter((n) => !known.has(n));
    if (unknown.length > 0) {
      // A newer release applied these; refusing to start would break rolling deploys.
      options.logger?.warn({ migrations: unknown }, 'database has migrations this version does not know');
    }

    for (const f of files) {
      if (done.has(f.name)) continue;
      try {
        await conn.transaction(async (tx) => {
          await tx.exec(f.sql);
          await tx.query('INSERT INTO strata_migrations (name, checksum) VALUES ($1, $2)', [f.name, f.checksum]);
        });
      } catch (e) {
        throw new MigrationError(`migration ${f.name} failed: ${(e as Error).message}`, f.name);
      }
      applied.push(f.name);
    }
  });
  return { applied, files: files.map((f) => f.name) };
}

/**
 * True when every migration file is recorded in strata_migrations (one SELECT); false when the
 * table does not exist yet. Readiness uses it: a database that answers but has no tables is not ready.
 */
export async function migrationsApplied(db: Queryable, files: readonly MigrationFile[] = readMigrations()): Promise<boolean> {
  let rows: { name: string }[];
  try {
    rows = await db.query<{ name: string }>('SELECT name FROM strata_migrations');
  } catch {
    return false;
  }
  const done = new Set(rows.map((r) => r.name));
  return files.every((f) => done.has(f.name));
}

/** migrationsApplied with the files read once and, once true, no more queries (migrations are never undone). */
export function createMigrationCheck(db: Queryable, dir?: string): () => Promise<boolean> {
  let files: MigrationFile[] | undefined;
  let applied = false;
  return async () => {
    if (applied) return true;
    files ??= readMigrations(dir);
    applied = await migrationsApplied(db, files);
    return applied;
  };
}
