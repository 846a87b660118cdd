/**
 * Issue #15's numbers over a ClickHouse reached by HTTP (the test suite's ClickHouse-HTTP adapter:
 * chDB in another process, as a server would be), with the real cube-models: a corrected day
 * replaces its rows, and one new batch id sent to two instances at once is stored once. Rows go as
 * RowBinaryWithDefaults request bodies, as they would to a ClickHouse server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { createInProcessSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';
import { type ClickhouseHttp, startClickhouseHttp } from '../../helpers/clickhouse-http.js';
import { adRows, ndjson, principal, sumOf } from '../live/stack.js';

let http: ClickhouseHttp;
let engine: Engine;
let a: IngestService;
let b: IngestService;

beforeAll(async () => {
  http = await startClickhouseHttp();
  engine = createEngine({ url: http.url, database: 'strata', chdbPath: '/unused', queryTimeoutMs: 60_000 });
  await migrateClickhouse(engine);
  const model = loadModel(await readModelFiles('cube-models'));
  const signals = createInProcessSignals(createLogger('silent'));
  a = createIngestService({ engine, model, signals, chunkRows: 50 });
  b = createIngestService({ engine, model, signals, chunkRows: 50 });
}, 180_000);
afterAll(async () => {
  await engine?.close();
  await http?.stop();
});

async function totals(tenant: string, final = true) {
  const { rows } = await engine.query<{ n: number; impressions: number; cost: number }>(
    `SELECT count() AS n, sum(impressions) AS impressions, sum(cost) AS cost FROM strata.ad_performance WHERE tenant_id = {t:String} SETTINGS final = ${final ? 1 : 0}`,
    { t: tenant },
  );
  return { n: Number(rows[0].n), impressions: Number(rows[0].impressions), cost: Number(rows[0].cost) };
}

const rows = adRows;
const sum = sumOf;

describe('numbers that stay right, over HTTP', () => {
  it('the engine reads binary rows', async () => {
    expect(await engine.acceptsFormat?.('RowBinaryWithDefaults')).toBe(true);
  });

  it('re-sending a corrected day replaces its rows; totals equal the corrected values', async () => {
    const t = principal('fix-http');
    const day = rows(120, (i) => ({ date: '2026-11-02', cost: 10 + i }));
    const other = rows(30, (i) => ({ ad_id: `other-${i}`, date: '2026-11-03', cost: 1 + i }));
    await a.ingest(t, 'ad_performance', ndjson([...day, ...other]), 'day-1');
    // The platform corrects Nov 2nd: late conversions and a cost adjustment, under a new batch id.
    const corrected = day.map((r, i) => ({ ...r, cost: Number(r.cost) * 0.9, conversions: i % 2, clicks: 2 }));
    await b.ingest(t, 'ad_performance', ndjson(corrected), 'day-1-correction');
    const expected = [...corrected, ...other];
    const got = await totals('fix-http');
    expect(got.n).toBe(150);
    expect(got.impressions).toBe(sum(expected, 'impressions'));
    expect(got.cost).toBeCloseTo(sum(expected, 'cost'), 6);
  });

  it('the same new key on two instances at once stores one copy', async () => {
    const batch = rows(400);
    const body = ndjson(batch);
    const t = principal('twin-http');
    const [ra, rb] = await Promise.all([a.ingest(t, 'ad_performance', body, 'k-1'), b.ingest(t, 'ad_performance', body, 'k-1')]);
    expect([ra.inserted, rb.inserted]).toEqual([400, 400]);
    // Raw storage, not only the FINAL view: the duplicate chunks never landed.
    expect(await totals('twin-http', false)).toMatchObject({ n: 400, impressions: sum(batch, 'impressions') });
  });
});
