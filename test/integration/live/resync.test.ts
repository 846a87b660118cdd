/**
 * Live results never silently go stale: a gap in LISTEN (signals lost while the connection was
 * down) resyncs every live query; one ingest causes one evaluation per live query, not two.
 * Real chDB, real Postgres (127.0.0.1:5432), a real connection killed with pg_terminate_backend.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveService, type LiveService } from '../../../src/live/live-service.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { createNotifySignals, type ChangeSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import type { QueryResult } from '../../../src/query/types.js';
import type { Db } from '../../../src/store/db.js';
import { openPgDb } from '../../../src/store/pg-db.js';
import { POSTGRES_TEST_URL } from '../store/backends.js';
import { adRow, createStack, ctx, ndjson, principal, type Stack } from './stack.js';

let s: Stack;
/** Every finished refresh-key read (the fixture's refresh-key SQL is `SELECT count() …`). */
let refreshReads = 0;
const readWaiters: Array<{ at: number; resolve: () => void }> = [];

beforeAll(async () => {
  s = await createStack();
  s.engine.onQuery((e) => {
    if (!e.ok || !/count\(\)/.test(e.sql)) return;
    refreshReads++;
    for (const w of [...readWaiters]) if (refreshReads >= w.at) readWaiters.splice(readWaiters.indexOf(w), 1) && w.resolve();
  });
  await s.ingest.ingest(principal('acme'), 'ad_performance', ndjson([adRow({ ad_id: 'seed', clicks: 10, impressions: 1000 })]), 'seed-acme');
});
afterAll(async () => {
  await s?.close();
});

const untilRefreshReads = (n: number) => new Promise<void>((resolve) => readWaiters.push({ at: refreshReads + n, resolve }));

function liveOn(signals: ChangeSignals, refreshCheckIntervalMs: number): LiveService {
  return createLiveService({
    query: s.query,
    model: s.model,
    config: { live: { maxPerConnection: 100, maxPerTenant: 100, refreshCheckIntervalMs } },
    logger: createLogger('silent'),
    metrics: s.metrics,
    signals,
  });
}

async function clicksInClickhouse(tenant: string): Promise<number> {
  const { rows } = await s.engine.query<{ c: string }>('SELECT sum(clicks) AS c FROM strata.ad_performance WHERE tenant_id = {t:String}', { t: tenant });
  return Number(rows[0].c);
}

describe('live results after lost signals and with refresh keys', () => {
  it('a change signalled while the LISTEN connection is down is recovered by a resync on reconnect', async () => {
    const lost: string[] = [];
    const log = { warn: (_o: object, msg?: string) => void (msg && lost.push(msg)) };
    const db: Db = await openPgDb(POSTGRES_TEST_URL, log);
    const other: Db = await openPgDb(POSTGRES_TEST_URL, { warn() {} });
    const channel = `strata_resync_${randomBytes(4).toString('hex')}`;
    const signals = await createNotifySignals(db, { channel, logger: log });
    const otherInstance = await createNotifySignals(other, { channel });
    const live = liveOn(signals, 60_000);
    try {
      // ad_performance has no refresh key in the fixture: only signals (or a resync) move it.
      const sub = live.subscribe(ctx(principal('acme', ['metrics:read'])), { measures: ['ad_performance.clicks'] });
      const first = (await sub.next()).value as QueryResult;
      expect(Number(first.rows[0]['ad_performance.clicks'])).toBe(await clicksInClickhouse('acme'));

      // Kill this instance's LISTEN connection and wait until it knows.
      await other.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${channel}"`]);
      while (!lost.some((m) => /listener connection lost/.test(m))) await new Promise((r) => setTimeout(r, 20));

      // Another instance writes and signals while nobody here listens: that notification is lost.
      await s.engine.insert('ad_performance', [{ tenant_id: 'acme', ...adRow({ ad_id: 'while-down', clicks: 4242, impressions: 0 }) }]);
      await otherInstance.publish({ tenantId: 'acme', cubes: ['ad_performance'] });

      // The reconnect resyncs: the subscription gets the new total (before the fix it never came).
      const next = (await sub.next()).value as QueryResult;
      expect(Number(next.rows[0]['ad_performance.clicks'])).toBe(await clicksInClickhouse('acme'));
      expect(lost.some((m) => /resync/.test(m))).toBe(true);
      await sub.return!();
    } finally {
      await live.close();
      await signals.close();
      await otherInstance.close();
      await db.close();
      await other.close();
    }
  }, 20_000);

  /** A live query with a refresh-key SQL checked every 50 ms; one ingest through `ingest`: one evaluation, the right number. */
  async function expectOneEvaluation(ingest: IngestService, adId: string) {
    const live = liveOn(s.signals, 50);
    try {
      const sub = live.subscribe(ctx(principal('acme', ['metrics:read'])), { measures: ['ad_delivery_checked.impressions'] });
      await sub.next();
      await untilRefreshReads(2); // baseline taken, the schedule is running
      const before = live.stats().evaluations;

      await ingest.ingest(principal('acme'), 'ad_performance', ndjson([adRow({ ad_id: adId, impressions: 999 })]), `${adId}-${Date.now()}`);
      const pushed = (await sub.next()).value as QueryResult;
      const { rows } = await s.engine.query<{ i: string }>('SELECT sum(impressions) AS i FROM strata.ad_performance WHERE tenant_id = {t:String}', {
        t: 'acme',
      });
      expect(Number(pushed.rows[0]['ad_delivery_checked.impressions'])).toBe(Number(rows[0].i));

      // Several refresh-key checks after the push: none re-evaluates the change already evaluated.
      await untilRefreshReads(4);
      expect(live.stats().evaluations - before).toBe(1);
      await sub.return!();
    } finally {
      await live.close();
    }
  }

  it('one ingest causes one evaluation of a live query with a refresh-key SQL, not a second one at the next check', async () => {
    await expectOneEvaluation(s.ingest, 'one-eval');
  });

  it('one ingest, one evaluation, also when its signal leaves long after the rows are in (rollups catching up first)', async () => {
    // As in server.ts: the writer's signal waits for derived data (rollups) before it goes out.
    // Six check intervals pass meanwhile; a check reading now would see the new rows.
    const slowSignals: ChangeSignals = {
      ...s.signals,
      publish: async (e) => {
        await new Promise((r) => setTimeout(r, 300));
        await s.signals.publish(e);
      },
    };
    await expectOneEvaluation(createIngestService({ engine: s.engine, model: s.model, signals: slowSignals }), 'slow-signal');
  });
});
