/**
 * The one small database interface everything in the store runs on. Two implementations:
 * a Postgres server through `pg` (pg-db.ts) and embedded PGlite (pglite-db.ts).
 * Repos write plain SQL with $n parameters that both accept; values are never concatenated.
 */
export type Row = Record<string, unknown>;

export interface Queryable {
  /** One statement with $1..$n parameters. jsonb parameters must be passed as JSON text. */
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Conn extends Queryable {
  /** Runs fn inside BEGIN/COMMIT on one connection; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Db extends Conn {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs fn while holding an exclusive lock named by `key`: pg_advisory_lock on one dedicated
   * connection on the server (so other processes wait), an in-process mutex on PGlite.
   */
  withLock<T>(key: bigint, fn: (conn: Conn) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a notification channel; resolves once listening. Returns the unsubscribe.
   * onResync runs after the listening connection was lost and is back: notifications sent
   * in between were never delivered (PGlite never loses them, so never calls it).
   */
  listen(channel: string, handler: (payload: string) => void, onResync?: () => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreLogger {
  warn(obj: object, msg?: string): void;
}

export const silentLogger: StoreLogger = { warn() {} };

/** Channel names are identifiers in LISTEN; accept only plain ones so quoting is never a question. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel "${channel}" (expected ${CHANNEL})`);
}

/** Serialises async work (PGlite is one connection in one process). */
export function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** What of an error is safe and useful in a log line. */
export function errInfo(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) return { message: err.message, code: (err as { code?: string }).code };
  return { message: String(err) };
}
