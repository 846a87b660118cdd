/** Single-flight (src/query/single-flight.ts): joining, per-caller cancellation, failures, fresh runs. */
import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../../src/query/single-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('single-flight', () => {
  it('runs once for callers of one key in flight, separately per key, and afresh afterwards', async () => {
    const flights = createSingleFlight();
    let runs = 0;
    const d = deferred<string>();
    const work = () => {
      runs++;
      return d.promise;
    };
    const calls = [flights.run('a', undefined, work), flights.run('a', undefined, work), flights.run('a', new AbortController().signal, work)];
    const other = flights.run('b', undefined, async () => 'b');
    expect(flights.size).toBe(2);
    d.resolve('rows');
    expect(await Promise.all(calls)).toEqual([
      { value: 'rows', shared: false },
      { value: 'rows', shared: true },
      { value: 'rows', shared: true },
    ]);
    expect((await other).value).toBe('b');
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
    await flights.run('a', undefined, async () => 'again');
    expect(runs).toBe(1); // the later call ran its own work, not `work`
  });

  it('one caller leaving stops only its wait; the last one leaving aborts the statement', async () => {
    const flights = createSingleFlight();
    const d = deferred<string>();
    let statementSignal: AbortSignal | undefined;
    const work = (signal: AbortSignal) => {
      statementSignal = signal;
      return d.promise;
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = flights.run('k', a.signal, work);
    const second = flights.run('k', b.signal, work);
    a.abort();
    await expect(first).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(statementSignal!.aborted).toBe(false);
    b.abort();
    await expect(second).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(statementSignal!.aborted).toBe(true);
    // A cancelled flight is not joined: the next caller starts its own.
    let fresh = false;
    const next = flights.run('k', undefined, async () => {
      fresh = true;
      return 'new';
    });
    expect((await next).value).toBe('new');
    expect(fresh).toBe(true);
    d.reject(new Error('aborted')); // the old statement ends; nobody is told
  });

  it('a failure reaches every caller of the flight; an already aborted signal is refused at once', async () => {
    const flights = createSingleFlight();
    const d = deferred<string>();
    const calls = [flights.run('k', undefined, () => d.promise), flights.run('k', new AbortController().signal, () => d.promise)];
    d.reject(new Error('engine down'));
    for (const c of calls) await expect(c).rejects.toThrow('engine down');
    const aborted = new AbortController();
    aborted.abort();
    await expect(flights.run('k', aborted.signal, async () => 'x')).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
  });
});
