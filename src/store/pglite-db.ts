/** Db on embedded PGlite (Postgres compiled to WASM, in this process, one connection). */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { assertChannel, createMutex, type Conn, type Db, type Queryable, type Row } from './db.js';

/** `path` is a directory (created if missing) or "memory://" for a throwaway database. */
export async function openPgliteDb(path: string): Promise<Db> {
  if (!path.startsWith('memory://')) mkdirSync(path, { recursive: true });
  const pg = await PGlite.create(path);
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
