/**
 * The two backends every store test runs on: embedded PGlite in a temp dir, and the Postgres server
 * (a throwaway database per run, dropped afterwards). An unreachable server FAILS the suite: CI starts it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../../../src/store/db.js';
import { openDb } from '../../../src/store/store.js';

export type Backend = 'pglite' | 'postgres';

export const POSTGRES_TEST_URL = process.env.STRATA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly options: { url?: string; pglitePath: string };
  open(): Promise<Db>;
  drop(): Promise<void>;
}

export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const dir = mkdtempSync(`${tmpdir()}/strata-store-`);
    const options = { pglitePath: dir };
    return { options, open: () => openDb(options), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = await openDb({ url: POSTGRES_TEST_URL, pglitePath: '' });
  const name = `strata_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin.exec(`CREATE DATABASE "${name}"`);
  const url = new URL(POSTGRES_TEST_URL);
  url.pathname = `/${name}`;
  const options = { url: url.toString(), pglitePath: '' };
  return {
    options,
    open: () => openDb(options),
    async drop() {
      await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.close();
    },
  };
}

export function captureLogger() {
  const warnings: { obj: object; msg?: string }[] = [];
  return { warnings, logger: { warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) } };
}
