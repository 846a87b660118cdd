/**
 * Single-flight across requests: identical statements (same tenant, same SQL, same parameters) in
 * flight at the same time share one engine execution, from any door and any request — a dashboard a
 * whole team opens at 9:00, or a thousand live subscribers' first results. Each caller still gets its
 * own shaped rows, order, audit entry and rate-limit charge (those happen above, per request).
 *
 * The SQL is compiled for one tenant from the normalized query alone (scopes decide whether a query
 * may run, never its SQL), so callers sharing a key would have received the same rows anyway.
 * Cancellation is per caller: one leaving stops waiting at once; the statement is aborted only when
 * every caller has left. A failure reaches every caller of that flight; the next call starts afresh.
 */
import { EngineError } from '../errors.js';

const cancelled = (): EngineError => new EngineError('QUERY_CANCELLED', 'query was cancelled');

export interface Flight<T> {
  readonly promise: Promise<T>;
  waiters: number;
  readonly controller: AbortController;
}

export interface SingleFlight {
  /**
   * Runs `run(signal)` once per key at a time; later callers with the same key join it. `signal` is
   * the caller's own: it abandons this caller only. `onShared` is told when a caller joined a flight.
   */
  run<T>(key: string, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }>;
  /** Flights in progress (tests, metrics). */
  readonly size: number;
}

export function createSingleFlight(): SingleFlight {
  const flights = new Map<string, Flight<unknown>>();
  return {
    get size() {
      return flights.size;
    },
    run<T>(key: string, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>) {
      if (signal?.aborted) return Promise.reject(cancelled());
      let flight = flights.get(key) as Flight<T> | undefined;
      const shared = flight !== undefined;
      if (!flight) {
        const controller = new AbortController();
        const promise = run(controller.signal).finally(() => {
          if (flights.get(key) === created) flights.delete(key);
        });
        const created: Flight<T> = { promise, waiters: 0, controller };
        flight = created;
        flights.set(key, flight);
        // A flight nobody waits for any more must not leave an unhandled rejection behind.
        promise.catch(() => undefined);
      }
      const f = flight;
      f.waiters++;
      if (!signal) return f.promise.then((value) => ({ value, shared }));
      return new Promise<{ value: T; shared: boolean }>((resolve, reject) => {
        let done = false;
        const leave = (): void => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          f.waiters--;
        };
        const onAbort = (): void => {
          if (done) return;
          leave();
          // The last caller gone: stop the statement, and let no one new join a cancelled flight.
          if (f.waiters === 0) {
            if (flights.get(key) === f) flights.delete(key);
            f.controller.abort(signal.reason);
          }
          reject(cancelled());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        f.promise.then(
          (value) => {
            if (done) return;
            leave();
            resolve({ value, shared });
          },
          (e: unknown) => {
            if (done) return;
            leave();
            reject(e);
          },
        );
      });
    },
  };
}
