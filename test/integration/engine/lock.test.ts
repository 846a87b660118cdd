/**
 * The warehouse-side lock (engine/lock.ts) and what runs under it, on a real chDB warehouse:
 * contenders run one at a time, a dead holder is overtaken once its lease runs out, a holder that
 * was overtaken knows it, and a seed that died half-way is redone at the next start.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { countDemoRows, DEMO_DATASET_TABLE, ensureDemoData, readDemoDataset, seedDemo } from '../../../src/demo/seed.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { acquireClickhouseLock, type LockHolder, readClickhouseLock, withClickhouseLock } from '../../../src/engine/lock.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { makeTempDir, TEST_SCALE } from '../../helpers/clickhouse.js';

describe('the ClickHouse lock', () => {
  let dir: string;
  let engine: Engine;

  beforeAll(async () => {
    dir = makeTempDir();
    engine = createEngine({ database: 'strata', chdbPath: join(dir, 'ch'), queryTimeoutMs: 30_000 });
    await migrateClickhouse(engine);
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one contender in at a time; the others wait and see who holds it', async () => {
    const events: string[] = [];
    const waits: LockHolder[] = [];
    const contender = (owner: string) =>
      withClickhouseLock(
        engine,
        'exclusive',
        async () => {
          events.push(`in ${owner}`);
          expect(await readClickhouseLock(engine, 'exclusive')).toMatchObject({ owner });
          await new Promise((r) => setTimeout(r, 30));
          events.push(`out ${owner}`);
        },
        { owner, pollMs: 20, onWait: (h) => waits.push(h) },
      );
    await Promise.all(['a', 'b', 'c', 'd'].map(contender));
    // Never two inside: every "in" is followed by its own "out".
    expect(events).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) expect(events[i + 1]).toBe(events[i]?.replace('in', 'out'));
    expect(waits.length).toBeGreaterThan(0);
    expect(await readClickhouseLock(engine, 'exclusive')).toBeUndefined();
    // Old generations are dropped: at most the newest remains.
    const { rows } = await engine.query<{ n: number }>(
      "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND startsWith(name, '_strata_lock__exclusive__')",
    );
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('takes over from a holder that stopped beating (kill -9) once its lease ran out', async () => {
    // A holder that died an hour ago: generation 1, last heartbeat 1 h old.
    await engine.command(
      "CREATE TABLE _strata_lock__dead__1 (owner String, state LowCardinality(String), at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY at",
    );
    await engine.command("INSERT INTO _strata_lock__dead__1 SELECT 'crashed', 'held', now64(3) - INTERVAL 1 HOUR");
    expect(await readClickhouseLock(engine, 'dead')).toBeUndefined();
    const takeovers: LockHolder[] = [];
    const lock = await acquireClickhouseLock(engine, 'dead', { owner: 'next', onTakeover: (h) => takeovers.push(h) });
    expect(lock.generation).toBe(2);
    expect(takeovers).toMatchObject([{ owner: 'crashed', generation: 1 }]);
    await lock.release();
  });

  it('a holder whose lease ran out learns that it lost the lock', async () => {
    const lock = await acquireClickhouseLock(engine, 'slow', { owner: 'slow', leaseMs: 300 });
    // Another process overtook it (as after a lease that ran out): generation 2 exists.
    await engine.command(
      "CREATE TABLE _strata_lock__slow__2 (owner String, state LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY at",
    );
    await vi.waitFor(() => expect(lock.lost()).toBe(true), { timeout: 10_000, interval: 50 });
    await lock.release();
  });

  it('redoes a demo seed that died half-way (its record says incomplete)', async () => {
    const options = { scale: TEST_SCALE, endDate: FIXED_DEMO_END_DATE };
    await seedDemo(engine, options);
    const full = await countDemoRows(engine);
    // What a seed killed after its first steps leaves: the "started" record newest, rows missing.
    await engine.insert(DEMO_DATASET_TABLE, [{ seed: 42, scale: TEST_SCALE, start_date: '2024-11-01', end_date: FIXED_DEMO_END_DATE, rows: 0, complete: 0 }]);
    await engine.command('TRUNCATE TABLE email_activity');
    expect(await readDemoDataset(engine)).toMatchObject({ complete: false });

    const state = await ensureDemoData(engine, options);
    expect(state.action).toBe('repaired');
    expect(await countDemoRows(engine)).toEqual(full);
    expect(await readDemoDataset(engine)).toMatchObject({ complete: true, end: FIXED_DEMO_END_DATE });
    expect((await ensureDemoData(engine, options)).action).toBe('current');
  });
});
