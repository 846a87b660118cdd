/**
 * Issue #15 on the embedded engine with the real cube-models: two ingest services on one warehouse
 * are two instances (each its own in-flight map); numbers are checked against ClickHouse directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { UserError } from '../../../src/errors.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { createInProcessSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { adRow, adRows, ndjson, principal, sumOf } from '../live/stack.js';

let engine: Engine;
let a: IngestService;
let b: IngestService;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir();
  engine = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  const model = loadModel(await readModelFiles('cube-models'));
  const signals = createInProcessSignals(createLogger('silent'));
  // Small chunks: a batch spans many inserts, as a large one does.
  a = createIngestService({ engine, model, signals, chunkRows: 50 });
  b = createIngestService({ engine, model, signals, chunkRows: 50 });
});
afterAll(async () => {
  await engine?.close();
});

async function totals(tenant: string) {
  const { rows } = await engine.query<{ n: number; impressions: number; cost: number }>(
    'SELECT count() AS n, sum(impressions) AS impressions, sum(cost) AS cost FROM strata.ad_performance FINAL WHERE tenant_id = {t:String}',
    { t: tenant },
  );
  return { n: Number(rows[0].n), impressions: Number(rows[0].impressions), cost: Number(rows[0].cost) };
}

const rows = adRows;
const sum = sumOf;

describe('exactly once per batch id', () => {
  it('the same new key on two instances at once inserts one copy', async () => {
    const batch = rows(400);
    const body = ndjson(batch);
    const t = principal('twin');
    const [ra, rb] = await Promise.all([a.ingest(t, 'ad_performance', body, 'k-1'), b.ingest(t, 'ad_performance', body, 'k-1')]);
    expect(ra.inserted).toBe(400);
    expect(rb.inserted).toBe(400);
    expect(await totals('twin')).toMatchObject({ n: 400, impressions: sum(batch, 'impressions') });
    // Raw storage, not only the FINAL view: the duplicate chunks never landed.
    const { rows: raw } = await engine.query<{ n: number }>("SELECT count() AS n FROM strata.ad_performance WHERE tenant_id = 'twin' SETTINGS final = 0");
    expect(Number(raw[0].n)).toBe(400);
  });

  it('a retry after a partial store (chunks already in) completes without duplicating', async () => {
    const batch = rows(300, (i) => ({ ad_id: `p-${i}` }));
    const t = principal('partial');
    const full = ndjson(batch);
    // An instance that dies after its third chunk is stored (the real engine, cut off mid-batch).
    let stored = 0;
    const dying: Engine = {
      ...engine,
      async insertRaw(...args) {
        if (stored === 3) throw new Error('killed');
        await engine.insertRaw(...args);
        stored++;
      },
    };
    const c = createIngestService({ engine: dying, model: loadModel(await readModelFiles('cube-models')), signals: createInProcessSignals(), chunkRows: 50 });
    await expect(c.ingest(t, 'ad_performance', full, 'k-2')).rejects.toThrow('killed');
    const { rows: partial } = await engine.query<{ n: number }>(
      "SELECT count() AS n FROM strata.ad_performance WHERE tenant_id = 'partial' SETTINGS final = 0",
    );
    expect(Number(partial[0].n)).toBe(150);
    const r = await a.ingest(t, 'ad_performance', full, 'k-2');
    expect(r).toMatchObject({ inserted: 300, duplicate: false });
    const { rows: raw } = await engine.query<{ n: number }>(
      "SELECT count() AS n FROM strata.ad_performance WHERE tenant_id = 'partial' AND ad_id LIKE 'p-%' SETTINGS final = 0",
    );
    expect(Number(raw[0].n)).toBe(300);
  });

  it('a key reused with another body is refused with IDEMPOTENCY_KEY_REUSED; the first body stays', async () => {
    const t = principal('reuse');
    const first = rows(5);
    await a.ingest(t, 'ad_performance', ndjson(first), 'k-3');
    const other = rows(5, () => ({ impressions: 999 }));
    const err = await b.ingest(t, 'ad_performance', ndjson(other), 'k-3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((err as UserError).message).toMatch(/already used with a different body/);
    // Also while the first is not recorded yet (two bodies racing for a new key): exactly one wins.
    const x = ndjson(rows(5, () => ({ impressions: 7 })));
    const y = ndjson(rows(5, () => ({ impressions: 8 })));
    const settled = await Promise.allSettled([a.ingest(t, 'ad_performance', x, 'k-4'), b.ingest(t, 'ad_performance', y, 'k-4')]);
    expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as UserError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Same ads as k-3: the winner's rows replaced them (upsert); the loser's never landed.
    const winner = settled[0].status === 'fulfilled' ? 7 : 8;
    expect(await totals('reuse')).toMatchObject({ n: 5, impressions: 5 * winner });
  });

  it('a batch spanning many chunks inserts nothing before its admission: a reused key or a finished batch leaves storage as it was', async () => {
    // The first chunk is validated while the claim runs. The refused body has more chunks (of 50
    // rows) than the first: its chunks past the first's 2 carry tokens ClickHouse has not seen.
    const t = principal('admission');
    const first = rows(100);
    await a.ingest(t, 'ad_performance', ndjson(first), 'k-5');
    const other = rows(400, (i) => ({ ad_id: `other-${i}`, impressions: 7 }));
    const err = await b.ingest(t, 'ad_performance', ndjson(other), 'k-5').catch((e: unknown) => e);
    expect((err as UserError).code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Another instance retries the finished batch: its first report, nothing inserted again.
    const again = await b.ingest(t, 'ad_performance', ndjson(first), 'k-5');
    expect(again).toMatchObject({ inserted: 100, duplicate: true });
    const { rows: raw } = await engine.query<{ n: number; others: number }>(
      "SELECT count() AS n, countIf(ad_id LIKE 'other-%') AS others FROM strata.ad_performance WHERE tenant_id = 'admission' SETTINGS final = 0",
    );
    expect({ n: Number(raw[0].n), others: Number(raw[0].others) }).toEqual({ n: 100, others: 0 });
  });
});

describe('upserts by natural key', () => {
  it('re-sending a corrected day replaces its rows; totals equal the corrected values', async () => {
    const t = principal('fix');
    const day = rows(20, (i) => ({ date: '2026-11-02', cost: 10 + i }));
    const other = rows(10, (i) => ({ date: '2026-11-03', cost: 1 + i }));
    await a.ingest(t, 'ad_performance', ndjson([...day, ...other]), 'day-1');
    // The platform corrects Nov 2nd: late conversions and a cost adjustment, under a new batch id.
    const corrected = day.map((r, i) => ({ ...r, cost: Number(r.cost) * 0.9, conversions: i % 2, clicks: 2 }));
    await b.ingest(t, 'ad_performance', ndjson(corrected), 'day-1-correction');
    const expected = [...corrected, ...other];
    const got = await totals('fix');
    expect(got.n).toBe(30);
    expect(got.impressions).toBe(sum(expected, 'impressions'));
    expect(got.cost).toBeCloseTo(sum(expected, 'cost'), 6);
  });
});

describe('data-quality rules from the model', () => {
  it('quarantines each case with the rule named; the good rows of the batch land', async () => {
    const t = principal('dq');
    // The tenant's campaigns (the referential rule checks against them).
    await a.ingest(t, 'campaigns', [
      {
        campaign_id: 'cmp-1',
        platform: 'google_ads',
        account_id: 'acc-1',
        name: 'C1',
        type: 'search',
        status: 'active',
        objective: 'sales',
        budget: 10,
        budget_type: 'daily',
        start_date: '2026-01-01',
      },
    ]);
    const good = rows(3);
    const bad = [
      adRow({ ad_id: 'x1', platform: 'nosuchplatform' }),
      adRow({ ad_id: 'x2', device: 'toaster' }),
      adRow({ ad_id: 'x3', country: 'ZZZ' }),
      adRow({ ad_id: 'x4', date: '2031-01-01' }),
      adRow({ ad_id: 'x5', campaign_id: 'cmp-unknown' }),
      adRow({ ad_id: 'x6', impressions: 100_000_000_000, clicks: 1, conversions: 0 }),
      adRow({ ad_id: 'x7', date: '1999-12-31' }),
    ];
    const r = await a.ingest(t, 'ad_performance', ndjson([...good, ...bad]), 'dq-1');
    expect(r.inserted).toBe(3);
    expect(r.quarantined.map((q) => q.reason.split(':')[0])).toEqual([
      'rule known_platform',
      'rule known_device',
      'rule iso_country',
      'rule date_in_range',
      'rule campaign_exists',
      'rule impressions_sane',
      'rule date_in_range',
    ]);
    const { rows: q } = await engine.query<{ rule: string; line: number }>(
      "SELECT rule, line FROM strata.ingest_quarantine WHERE tenant_id = 'dq' AND batch_id = 'dq-1' ORDER BY line",
    );
    expect(q.map((x) => x.rule)).toEqual([
      'known_platform',
      'known_device',
      'iso_country',
      'date_in_range',
      'campaign_exists',
      'impressions_sane',
      'date_in_range',
    ]);
    expect(await totals('dq')).toMatchObject({ n: 3, impressions: sum(good, 'impressions') });
  });
});
