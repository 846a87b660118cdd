// Hosts one in-memory PGlite (an empty catalog engine, see engines.ts) off the main thread: a
// runaway catalog query (PGlite ignores statement_timeout) then blocks only this worker, which the
// parent terminates on timeout. Plain JS so it loads under tsx, vitest and node alike.
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

let db;

parentPort.on('message', async (m) => {
  try {
    if (m.type === 'init') {
      db = new PGlite();
      await db.waitReady;
      // Strata's one database, so that pg_database (psql's \l) lists it (on its own: not in a transaction block).
      await db.exec('CREATE DATABASE strata');
      await db.exec(`SET client_min_messages = warning; ${m.ddl}`);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.type === 'exec') {
      // The DDL of a spare engine booted in advance (engines.ts warm()).
      await db.exec(m.ddl);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.type === 'run') {
      const out = await db.execProtocolRaw(new Uint8Array(m.batch));
      const copy = new Uint8Array(out);
      parentPort.postMessage({ id: m.id, ok: true, data: copy }, [copy.buffer]);
    } else if (m.type === 'close') {
      await db?.close();
      parentPort.postMessage({ id: m.id, ok: true });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e?.message ?? e) });
  }
});
