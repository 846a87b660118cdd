import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { EngineError } from '../../../src/errors.js';

/** Runs for a very long time unless stopped (timeouts, cancellation). */
const ENDLESS = 'SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) % 7 = {m:UInt8}';

async function engineError(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected the promise to reject');
}

describe('ClickHouse engine on embedded chDB', () => {
  let dir: string;
  let engine: Engine;
  const events: { sql: string; ok: boolean }[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-'));
    engine = createEngine({ database: 'strata_test', chdbPath: join(dir, 'ch'), queryTimeoutMs: 30_000 });
    engine.onQuery((e) => events.push({ sql: e.sql, ok: e.ok }));
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates its database and uses it as the default for every statement', async () => {
    expect(engine.kind).toBe('chdb');
    expect(engine.database).toBe('strata_test');
    await engine.command('CREATE TABLE IF NOT EXISTS t_default (id UInt32) ENGINE = MergeTree ORDER BY id');
    const { rows } = await engine.query<{ db: string; n: number }>(
      "SELECT currentDatabase() AS db, count() AS n FROM system.tables WHERE database = 'strata_test' AND name = 't_default'",
    );
    expect(rows).toEqual([{ db: 'strata_test', n: 1 }]);
  });

  it('binds query parameters instead of splicing values', async () => {
    const hostile = "x' OR 1=1 --";
    const { rows } = await engine.query<{ s: string; n: number; has: number; d: string }>(
      'SELECT {s:String} AS s, {n:UInt32} + 1 AS n, has({xs:Array(String)}, {s:String}) AS has, toString({d:Date}) AS d',
      { s: hostile, n: 41, xs: ['a', hostile], d: '2026-10-31' },
    );
    expect(rows).toEqual([{ s: hostile, n: 42, has: 1, d: '2026-10-31' }]);
  });

  it('returns 64-bit integers, decimals and floats as JSON numbers', async () => {
    const { rows } = await engine.query<Record<string, unknown>>(
      'SELECT count() AS c, toUInt64(9007199254740991) AS u, toInt64(-5) AS i, toDecimal64(12.345, 3) AS dec, sum(number) AS s, 1 / 0 AS inf, 0 / 0 AS nan FROM numbers(10)',
    );
    expect(rows).toEqual([{ c: 10, u: 9007199254740991, i: -5, dec: 12.345, s: 45, inf: null, nan: null }]);
  });

  it('inserts JS objects (ISO timestamps accepted) into a table of its database', async () => {
    await engine.command(
      "CREATE TABLE IF NOT EXISTS t_insert (id UInt32, name String, at DateTime64(3, 'UTC'), amount Float64) ENGINE = MergeTree ORDER BY id",
    );
    await engine.insert('t_insert', [
      { id: 1, name: "O'Brien", at: '2026-10-31T12:34:56.789Z', amount: 1.5 },
      { id: 2, name: 'line\nbreak', at: '2026-10-31 00:00:00', amount: 2.25 },
    ]);
    await engine.insert('t_insert', []);
    const { rows } = await engine.query('SELECT id, name, toString(at) AS at, amount FROM t_insert ORDER BY id');
    expect(rows).toEqual([
      { id: 1, name: "O'Brien", at: '2026-10-31 12:34:56.789', amount: 1.5 },
      { id: 2, name: 'line\nbreak', at: '2026-10-31 00:00:00.000', amount: 2.25 },
    ]);
  });

  it('reports ClickHouse errors as ENGINE_ERROR with the SQL, params and server message', async () => {
    const sql = 'SELECT * FROM no_such_table WHERE id = {id:UInt32}';
    const e = await engineError(engine.query(sql, { id: 7 }));
    expect(e.code).toBe('ENGINE_ERROR');
    expect(e.message).toMatch(/Unknown table expression identifier 'no_such_table'/);
    expect(e.sql).toBe(sql);
    expect(e.params).toEqual({ id: 7 });

    const syntax = await engineError(engine.query('SELEC 1'));
    expect(syntax.code).toBe('ENGINE_ERROR');
    expect(syntax.message).toMatch(/Syntax error/);

    const ddl = await engineError(engine.command('CREATE TABLE bad (x NoSuchType) ENGINE = Memory'));
    expect(ddl.code).toBe('ENGINE_ERROR');
    expect(ddl.message).toMatch(/NoSuchType/);

    const ins = await engineError(engine.insert('no_such_table', [{ a: 1 }]));
    expect(ins.code).toBe('ENGINE_ERROR');
    expect(ins.message).toMatch(/no_such_table/);
  });

  it('stops a query at its timeout with QUERY_TIMEOUT, and keeps working afterwards', async () => {
    const e = await engineError(engine.query(ENDLESS, { m: 3 }, { timeoutMs: 200 }));
    expect(e.code).toBe('QUERY_TIMEOUT');
    expect(e.message).toBe('query exceeded the 200 ms timeout');
    expect(e.sql).toBe(ENDLESS);
    const { rows } = await engine.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('cancels through an AbortSignal with QUERY_CANCELLED and kills the query on the server', async () => {
    const ac = new AbortController();
    const running = engine.query(ENDLESS, { m: 1 }, { signal: ac.signal, timeoutMs: 600_000 });
    setTimeout(() => ac.abort(), 200);
    const e = await engineError(running);
    expect(e.code).toBe('QUERY_CANCELLED');
    expect(e.message).toBe('query was cancelled');
    // chDB runs one statement at a time per session: this only returns once the killed query is
    // gone (without the server-side KILL it would run for 10 minutes and the test would time out).
    const { rows } = await engine.query('SELECT 2 AS two');
    expect(rows).toEqual([{ two: 2 }]);
  }, 30_000);

  it('refuses to start a query whose signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await engineError(engine.query('SELECT 1', undefined, { signal: ac.signal }));
    expect(e.code).toBe('QUERY_CANCELLED');
    expect(e.message).toBe('query was cancelled before it started');
  });

  it('cancels a running query by id (engine.cancel) with QUERY_CANCELLED', async () => {
    const running = engine.query(ENDLESS, { m: 2 }, { queryId: 'cancel-me', timeoutMs: 600_000 });
    setTimeout(() => void engine.cancel('cancel-me'), 200);
    const e = await engineError(running);
    expect(e.code).toBe('QUERY_CANCELLED');
    await engine.cancel('not-running'); // unknown ids are a no-op
    const { rows } = await engine.query('SELECT 3 AS three');
    expect(rows).toEqual([{ three: 3 }]);
  }, 30_000);

  it('counts SELECT statements and errors, and tells listeners about each query', async () => {
    const before = engine.stats();
    const seen = events.length;
    await engine.query('SELECT 1');
    await engine.query('SELECT 2');
    await engineError(engine.query('SELECT nope()'));
    await engine.command('SELECT 1'); // commands are not counted as queries
    const after = engine.stats();
    expect(after.queries - before.queries).toBe(3);
    expect(after.errors - before.errors).toBe(1);
    expect(events.slice(seen)).toEqual([
      { sql: 'SELECT 1', ok: true },
      { sql: 'SELECT 2', ok: true },
      { sql: 'SELECT nope()', ok: false },
    ]);
  });

  it('is one engine per path: same path shares it, another path is refused', async () => {
    const again = createEngine({ database: 'strata_test', chdbPath: join(dir, 'ch'), queryTimeoutMs: 1000 });
    expect(await again.ping()).toBe(true);
    await again.close(); // releases only its own reference
    expect(await engine.ping()).toBe(true);
    let error: unknown;
    try {
      createEngine({ database: 'strata_test', chdbPath: join(dir, 'other'), queryTimeoutMs: 1000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('ENGINE_UNAVAILABLE');
    expect((error as EngineError).message).toMatch(/one data path per process/);
  });
});

describe('ClickHouse engine over HTTP', () => {
  it('reports an unreachable server as ENGINE_UNAVAILABLE and ping() false', async () => {
    const engine = createEngine({ url: 'http://127.0.0.1:1', database: 'strata', chdbPath: '/unused', queryTimeoutMs: 2000 });
    expect(engine.kind).toBe('http');
    expect(await engine.ping()).toBe(false);
    const e = await engineError(engine.query('SELECT 1'));
    expect(e.code).toBe('ENGINE_UNAVAILABLE');
    expect(e.message).toMatch(/ClickHouse is unavailable/);
    await engine.close();
    const closed = await engineError(engine.query('SELECT 1'));
    expect(closed.code).toBe('ENGINE_UNAVAILABLE');
    expect(closed.message).toBe('the engine is closed');
  });
});
