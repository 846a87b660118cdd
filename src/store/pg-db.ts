/** Db on a Postgres server through `pg` (a pool, plus one dedicated connection for LISTEN). */
import pg from 'pg';
import { UserError } from '../errors.js';
import { assertChannel, errInfo, type Conn, type Db, type Queryable, type Row, type StoreLogger } from './db.js';

export async function openPgDb(url: string, logger: StoreLogger): Promise<Db> {
  // connectionTimeoutMillis: a server that does not answer fails a request in seconds, not never.
  const pool = new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its connection emits 'error' on the pool; unhandled, it kills the process.
  pool.on('error', (err) => logger.warn({ err: errInfo(err) }, 'postgres: idle connection error'));
  // Fail fast (and loudly) when the server is unreachable.
  await pool.query('SELECT 1');

  const listener = createListener(url, logger);
  let closed = false;

  const db: Db = {
    kind: 'postgres',
    async query<T extends Row>(text: string, params?: readonly unknown[]) {
      const res = await pool.query(text, params as unknown[] | undefined).catch(unavailable);
      return res.rows as T[];
    },
    async exec(sql) {
      await pool.query(sql).catch(unavailable);
    },
    async transaction(fn) {
      const client = await pool.connect().catch(unavailable);
      try {
        return await inTransaction(clientQueryable(client), fn);
      } finally {
        client.release();
      }
    },
    async withLock(key, fn) {
      const client = await pool.connect().catch(unavailable);
      const conn = clientConn(client);
      try {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [key.toString()]);
        try {
          return await fn(conn);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]);
        }
      } finally {
        client.release();
      }
    },
    listen: (channel, handler, onResync) => listener.listen(channel, handler, onResync),
    async notify(channel, payload) {
      assertChannel(channel);
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },
  };
  return db;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The server cannot be reached (refused, gone, shutting down, not accepting connections): a coded,
 * retryable STORE_UNAVAILABLE for every caller, instead of a driver error masked as a bug. The pool
 * reconnects by itself once the server is back. Other errors (constraints, syntax) pass unchanged.
 */
export function unavailable(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  const lost =
    (typeof code === 'string' && (CONNECTION_ERRORS.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
  if (lost) throw new UserError('STORE_UNAVAILABLE', 'the metadata store is unavailable, retry later', { retryAfterSeconds: 5 });
  throw err;
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    async query<T extends Row>(text: string, params?: readonly unknown[]) {
      return (await client.query(text, params as unknown[] | undefined).catch(unavailable)).rows as T[];
    },
    async exec(sql) {
      await client.query(sql).catch(unavailable);
    },
  };
}

function clientConn(client: pg.PoolClient): Conn {
  const q = clientQueryable(client);
  return { ...q, transaction: (fn) => inTransaction(q, fn) };
}

async function inTransaction<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  await q.exec('BEGIN');
  try {
    const out = await fn(q);
    await q.exec('COMMIT');
    return out;
  } catch (e) {
    await q.exec('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * One dedicated connection holds every LISTEN (pooled connections would lose them).
 * Reconnects and re-LISTENs after a connection error until closed.
 */
function createListener(url: string, logger: StoreLogger) {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;
  /** A listening connection was lost; the next successful (re)connect tells the resync handlers. */
  let gap = false;
  const resyncHandlers = new Set<() => void>();

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('notification', (msg) => {
        for (const h of handlers.get(msg.channel) ?? []) {
          try {
            h(msg.payload ?? '');
          } catch (err) {
            logger.warn({ err: errInfo(err), channel: msg.channel }, 'postgres: notification handler threw');
          }
        }
      });
      let gone = false;
      // Notifications sent while no connection listens are lost for good: remember the gap.
      const lose = (err?: Error) => {
        if (gone || closed) return;
        gone = true;
        logger.warn({ err: err ? errInfo(err) : { message: 'connection ended' } }, 'postgres: listener connection lost; reconnecting');
        if (client === c) client = null;
        if (client === null) gap = true;
        c.end().catch(() => undefined);
        if (!closed) setTimeout(() => void relisten(), 1_000).unref();
      };
      c.on('error', (err) => lose(err));
      c.on('end', () => lose());
      await c.connect();
      for (const channel of handlers.keys()) await c.query(`LISTEN "${channel}"`);
      client = c;
      if (gap) {
        gap = false;
        for (const fn of [...resyncHandlers]) {
          try {
            fn();
          } catch (err) {
            logger.warn({ err: errInfo(err) }, 'postgres: resync handler threw');
          }
        }
      }
      return c;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  const relisten = async () => {
    if (closed || handlers.size === 0) return;
    try {
      await connect();
    } catch (err) {
      logger.warn({ err: errInfo(err) }, 'postgres: listener reconnect failed; retrying');
      if (!closed) setTimeout(() => void relisten(), 5_000).unref();
    }
  };

  return {
    async listen(channel: string, handler: (payload: string) => void, onResync?: () => void) {
      assertChannel(channel);
      const c = await connect();
      if (onResync) resyncHandlers.add(onResync);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await c.query(`LISTEN "${channel}"`);
      }
      set.add(handler);
      return async () => {
        if (onResync) resyncHandlers.delete(onResync);
        const s = handlers.get(channel);
        if (!s?.delete(handler) || s.size > 0) return;
        handlers.delete(channel);
        await client?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      handlers.clear();
      resyncHandlers.clear();
      const c = client ?? (await connecting?.catch(() => null)) ?? null;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
