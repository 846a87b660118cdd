/**
 * Issue #15 item 4: the quarantine as a cube ("quarantine rate by rule per day"), through the real
 * query service and cube-models on chDB, checked against ClickHouse directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createIngestService } from '../../../src/ingest/ingest-service.js';
import { createInProcessSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import { readModelFiles } from '../../../src/model-files.js';
import { createQueryService, type StrataQueryService } from '../../../src/query/query-service.js';
import { loadModel } from '../../../src/semantic/load.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { adRow, ctx, ndjson, principal } from '../live/stack.js';

let engine: Engine;
let query: StrataQueryService;

beforeAll(async () => {
  engine = createEngine({ database: 'strata', chdbPath: `${makeTempDir()}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  const model = loadModel(await readModelFiles('cube-models'));
  const ingest = createIngestService({ engine, model, signals: createInProcessSignals() });
  query = createQueryService({ model, engine, limits: { defaultRowLimit: 1000, maxRowLimit: 5000 }, queryTimeoutMs: 30_000, logger: createLogger('silent') });
  const today = new Date().toISOString().slice(0, 10);
  const good = (i: number) => adRow({ ad_id: `q-${i}`, date: today });
  // 8 good, 2 clicks > impressions, 1 negative cost: 3 of 11 quarantined by the row checks.
  const rows = [
    ...Array.from({ length: 8 }, (_, i) => good(i)),
    adRow({ date: today, ad_id: 'b1', clicks: 5000 }),
    adRow({ date: today, ad_id: 'b2', clicks: 9000 }),
    adRow({ date: today, ad_id: 'b3', cost: -1 }),
  ];
  await ingest.ingest(principal('qa'), 'ad_performance', ndjson(rows), 'qa-1');
  await ingest.ingest(principal('qa-other'), 'ad_performance', ndjson([adRow({ date: today, clicks: 5000 })]), 'qa-o');
});
afterAll(async () => {
  await engine?.close();
});

describe('ingest_quality cube', () => {
  it('quarantine rate by rule per day matches ClickHouse; tenant-scoped; needs ingest:write', async () => {
    const r = await query.load(ctx(principal('qa', ['metrics:read', 'ingest:write']), 'rest'), {
      measures: ['ingest_quality.quarantined_rows', 'ingest_quality.received_rows', 'ingest_quality.quarantine_rate'],
      dimensions: ['ingest_quality.rule'],
      timeDimensions: [{ dimension: 'ingest_quality.day', granularity: 'day' }],
    });
    const { rows: direct } = await engine.query<{ q: string; n: string }>(
      "SELECT (SELECT count() FROM strata.ingest_quarantine WHERE tenant_id = 'qa') AS q, (SELECT sum(rows + quarantined) FROM strata.ingest_batches WHERE tenant_id = 'qa') AS n",
    );
    const q = Number(direct[0].q);
    const n = Number(direct[0].n);
    expect([q, n]).toEqual([3, 11]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ 'ingest_quality.rule': 'row check' });
    expect(Number(r.rows[0]['ingest_quality.quarantined_rows'])).toBe(q);
    expect(Number(r.rows[0]['ingest_quality.received_rows'])).toBe(n);
    expect(Number(r.rows[0]['ingest_quality.quarantine_rate'])).toBeCloseTo((100 * q) / n, 6);
    await expect(async () =>
      query.load(ctx(principal('qa', ['metrics:read']), 'rest'), { measures: ['ingest_quality.quarantined_rows'] }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
