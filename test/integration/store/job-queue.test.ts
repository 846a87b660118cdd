/**
 * The durable job queue's SQL on both backends: a due job is leased to one worker at a time (two
 * connections claiming at once on the server get disjoint jobs), a lapsed lease is claimed again,
 * only the lease holder finishes a job, an enqueue with a used dedupe key is a no-op, and the
 * runner retries a failing handler and finishes on another worker after a lease is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner } from '../../../src/jobs/runner.js';
import type { Logger } from '../../../src/logger.js';
import type { Db } from '../../../src/store/db.js';
import { createJobQueue } from '../../../src/store/job-queue.js';
import { storeOnDb } from '../../../src/store/store.js';
import { type Backend, createTestDatabase, type TestDatabase } from './backends.js';

const quiet = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Logger;

describe.each<[Backend]>([['pglite'], ['postgres']])('job queue on %s', (backend) => {
  let tdb: TestDatabase;
  let db: Db;
  let other: Db;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    await storeOnDb(db).migrate();
    other = backend === 'postgres' ? await tdb.open() : db;
  });
  afterAll(async () => {
    if (other !== db) await other.close();
    await db?.close();
    await tdb?.drop();
  });

  it('leases each due job to one worker; a lapsed lease is claimed again; only the holder finishes', async () => {
    const q1 = createJobQueue(db);
    const q2 = createJobQueue(other);
    for (let i = 0; i < 6; i++) await q1.enqueue({ kind: 'k1', payload: { i } });
    const [a, b] = await Promise.all([q1.claim('w1', ['k1'], 4, 60_000), q2.claim('w2', ['k1'], 4, 60_000)]);
    const ids = [...a, ...b].map((j) => j.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(await q1.claim('w3', ['k1'], 10, 60_000)).toEqual([]);
    // A lease of 1 ms lapses: the job is claimed again, attempt 2, and the first holder can no longer finish it.
    await q1.enqueue({ kind: 'k2' });
    const [first] = await q1.claim('w1', ['k2'], 1, 1);
    await new Promise((r) => setTimeout(r, 20));
    const [again] = await q2.claim('w2', ['k2'], 1, 60_000);
    expect(again.id).toBe(first.id);
    expect(again.attempts).toBe(2);
    expect(await q1.complete(first.id, 'w1')).toBe(false);
    expect(await q2.complete(again.id, 'w2')).toBe(true);
    expect((await q1.get(first.id))?.status).toBe('done');
  });

  it('a dedupe key enqueues once', async () => {
    const q = createJobQueue(db);
    expect(await q.enqueue({ kind: 'k3', dedupeKey: 'schedule:x:1' })).not.toBeNull();
    expect(await q.enqueue({ kind: 'k3', dedupeKey: 'schedule:x:1' })).toBeNull();
  });

  it('the runner retries a failing handler with backoff, then completes it', async () => {
    const queue = createJobQueue(db);
    const runner = createJobRunner({ queue, logger: quiet, leaseMs: 5_000, pollMs: 20, concurrency: 2, retryBaseMs: 10 });
    let calls = 0;
    runner.handle('flaky', async () => {
      calls++;
      if (calls < 3) throw new Error('not yet');
      return { ok: true };
    });
    const job = await queue.enqueue({ kind: 'flaky' });
    runner.start();
    for (let i = 0; i < 500 && (await queue.get(job!.id))?.status !== 'done'; i++) await new Promise((r) => setTimeout(r, 20));
    await runner.drain(Date.now());
    expect(await queue.get(job!.id)).toMatchObject({ status: 'done', attempts: 3 });
  });
});
