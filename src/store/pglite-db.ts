/** Db on embedded PGlite (Postgres compiled to WASM, in this process, one connection). */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { assertChannel, createMutex, type Conn, type Db, type Queryable, type Row } from './db.js';

/**
 * Postgres' default 128 MB of shared buffers is allocated in PGlite's WASM memory up front: ~200 MiB
 * of RSS for metadata tables of a few MB (measured: 399-456 -> 189-235 MiB for PGlite alone). The
 * host's page cache still holds the data files, so 16 MB of buffers is plenty here.
 */
export const PGLITE_MEMORY: readonly string[] = ['-c', 'shared_buffers=16MB'];

/** `path` is a directory (created if missing) or "memory://" for a throwaway database. */
export async function openPgliteDb(path: string): Promise<Db> {
  if (!path.startsWith('memory://')) mkdirSync(path, { recursive: true });
  const pg = await PGlite.create(path, { startParams: [...PGlite.defaultStartParams, ...PGLITE_MEMORY] });
  // PGlite is single-process, so an in-process mutex is all a migration lock needs to be.
  const exclusive = createMutex();
  let closed = false;

  const asQueryable = (q: PGlite | Transaction): Queryable => ({
    async query<T extends Row>(text: string, params?: readonly unknown[]) {
      return (await q.query<T>(text, params as unknown[] | undefined)).rows;
    },
    async exec(sql) {
      await q.exec(sql);
    },
  });
  const base = asQueryable(pg);
  const conn: Conn = { ...base, transaction: (fn) => pg.transaction((tx) => fn(asQueryable(tx))) };

  return {
    kind: 'pglite',
    ...conn,
    withLock: (_key, fn) => exclusive(() => fn(conn)),
    async listen(channel, handler) {
      assertChannel(channel);
      // PGlite delivers NOTIFY to its own listeners in-process, which is all one process needs.
      const unlisten = await pg.listen(channel, handler);
      return async () => {
        if (!closed) await unlisten();
      };
    },
    async notify(channel, payload) {
      assertChannel(channel);
      await pg.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (closed) return;
      closed = true;
      await pg.close();
    },
  };
}
