// Hosts one in-memory PGlite (an empty catalog engine, see engines.ts) off the main thread: a
// runaway catalog query (PGlite ignores statement_timeout) then blocks only this worker, which the
// parent terminates on timeout. Plain JS so it loads under tsx, vitest and node alike.
// Run as a process (`node catalog-worker.mjs --template`) it writes the engines' boot template to
// stdout: a fresh cluster's data directory, gzipped (~5 MB). A process, not a worker, so the ~200 MB
// an initdb leaves in the allocator go back to the system when it exits.
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

// An empty catalog needs no 128 MB buffer cache (Postgres' default): ~120 MB less per engine.
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

let db;

/** initdb in memory (~2.5 s), or the data directory of an earlier one (engines.ts template, ~0.6 s). */
async function boot(template) {
  db = new PGlite({ startParams: START_PARAMS, loadDataDir: template ? new Blob([template]) : undefined });
  await db.waitReady;
  // Strata's one database, so that pg_database (psql's \l) lists it (on its own: not in a transaction block).
  if (!template) await db.exec('CREATE DATABASE strata');
}

if (!parentPort) {
  if (!process.argv.includes('--template')) throw new Error('usage: node catalog-worker.mjs --template');
  await boot(undefined);
  const data = new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer());
  await db.close();
  process.stdout.write(data, () => process.exit(0));
}

parentPort?.on('message', async (m) => {
  try {
    if (m.type === 'init') {
      await boot(m.template);
      await db.exec(`SET client_min_messages = warning; ${m.ddl}`);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.type === 'exec') {
      // The DDL of an engine booted in advance (engines.ts: the spare).
      await db.exec(m.ddl);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.type === 'run') {
      const out = await db.execProtocolRaw(new Uint8Array(m.batch));
      const copy = new Uint8Array(out);
      parentPort.postMessage({ id: m.id, ok: true, data: copy }, [copy.buffer]);
    } else if (m.type === 'close') {
      await db?.close();
      parentPort.postMessage({ id: m.id, ok: true });
    } else {
      parentPort.postMessage({ id: m.id, ok: false, error: `unknown message ${m.type}` });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e?.message ?? e) });
  }
});
