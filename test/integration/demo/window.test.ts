/**
 * The demo window in a real warehouse: seeding with an end date moves every fact into
 * [end - 729 days, end] and records the window; at start, demo data that no longer ends on the
 * wanted day is re-seeded when the demo tenants hold only the seed's rows, and kept otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoData, readDemoDataset, seedDemo } from '../../../src/demo/seed.js';
import { FIXED_DEMO_END_DATE, FIXED_DEMO_START_DATE } from '../../../src/demo/window.js';
import { createTestWarehouse, TEST_SCALE, type TestWarehouse } from '../../helpers/clickhouse.js';
import { checksums } from './checks.js';

const SCALE = TEST_SCALE / 2;
const DEC_7 = () => new Date('2026-12-07T03:32:00Z');

async function factWindow(wh: TestWarehouse): Promise<{ first: string; last: string }> {
  const { rows } = await wh.engine.query<{ first: string; last: string }>(
    'SELECT toString(min(date)) AS first, toString(max(date)) AS last FROM ad_performance',
  );
  const s = await wh.engine.query<{ first: string; last: string }>(
    'SELECT toString(min(toDate(started_at))) AS first, toString(max(toDate(started_at))) AS last FROM web_sessions',
  );
  const e = await wh.engine.query<{ first: string; last: string }>('SELECT toString(min(date)) AS first, toString(max(date)) AS last FROM email_activity');
  const first = [rows[0].first, s.rows[0].first, e.rows[0].first].sort()[0];
  const last = [rows[0].last, s.rows[0].last, e.rows[0].last].sort().at(-1)!;
  return { first, last };
}

describe('the demo window in the warehouse', () => {
  let wh: TestWarehouse;

  beforeAll(async () => {
    wh = await createTestWarehouse();
  });
  afterAll(async () => {
    await wh.close();
  });

  it('seeds two years ending on the end date, records it, and is deterministic for (seed, end date)', async () => {
    const fixed = await seedDemo(wh.engine, { scale: SCALE, endDate: FIXED_DEMO_END_DATE });
    expect(fixed.window).toMatchObject({ start: FIXED_DEMO_START_DATE, end: FIXED_DEMO_END_DATE });
    expect(await factWindow(wh)).toMatchObject({ first: FIXED_DEMO_START_DATE, last: FIXED_DEMO_END_DATE });
    const total = Object.values(fixed.rows).reduce((a, b) => a + b, 0);
    expect(await readDemoDataset(wh.engine)).toEqual({
      seed: 42,
      scale: SCALE,
      start: FIXED_DEMO_START_DATE,
      end: FIXED_DEMO_END_DATE,
      rows: total,
      complete: true,
    });
    const a = await checksums(wh.engine);

    const moved = await seedDemo(wh.engine, { scale: SCALE, now: DEC_7 });
    expect(moved.window).toMatchObject({ start: '2024-12-07', end: '2026-12-06' });
    expect(await factWindow(wh)).toMatchObject({ first: '2024-12-07', last: '2026-12-06' });
    expect((await readDemoDataset(wh.engine))?.end).toBe('2026-12-06');
    // about as many rows (the calendar shifts, the shape does not)
    for (const t of ['ad_performance', 'web_sessions'] as const) expect(Math.abs(moved.rows[t] / fixed.rows[t] - 1), t).toBeLessThan(0.05);

    await seedDemo(wh.engine, { scale: SCALE, endDate: FIXED_DEMO_END_DATE });
    expect(await checksums(wh.engine)).toEqual(a);
  });

  it('at start: keeps current data, refreshes untouched stale data, keeps stale data that has ingested rows', async () => {
    // the warehouse holds the fixed window (previous test)
    expect(await ensureDemoData(wh.engine, { scale: SCALE, endDate: FIXED_DEMO_END_DATE })).toMatchObject({ action: 'current' });

    const refreshed = await ensureDemoData(wh.engine, { scale: SCALE, now: DEC_7 });
    expect(refreshed).toMatchObject({ action: 'refreshed', window: { end: '2026-12-06' }, previous: { end: FIXED_DEMO_END_DATE } });
    expect(await ensureDemoData(wh.engine, { scale: SCALE, now: DEC_7 })).toMatchObject({ action: 'current' });

    // a row written outside the seed (not through ingestion): the count no longer matches
    await wh.engine.insert('campaigns', [{ tenant_id: 'acme', campaign_id: 'acme-cmp-999999', platform: 'meta', name: 'mine', start_date: '2026-12-01' }]);
    const kept = await ensureDemoData(wh.engine, { scale: SCALE, now: () => new Date('2027-01-20T00:00:00Z') });
    expect(kept).toMatchObject({ action: 'kept', dataset: { end: '2026-12-06' } });
    expect(kept.action === 'kept' && kept.reason).toMatch(/the demo tenants hold \d+ rows, the seed wrote \d+/);
    await wh.engine.command("DELETE FROM campaigns WHERE campaign_id = 'acme-cmp-999999'");

    // an ingested batch for a demo tenant
    await wh.engine.insert('ingest_batches', [{ tenant_id: 'globex', table_name: 'ad_performance', batch_id: 'b1', rows: 0 }]);
    const kept2 = await ensureDemoData(wh.engine, { scale: SCALE, now: () => new Date('2027-01-20T00:00:00Z') });
    expect(kept2).toMatchObject({ action: 'kept', reason: 'rows were ingested for the demo tenants' });
    // another tenant's batch does not count
    await wh.engine.command('TRUNCATE TABLE ingest_batches');
    await wh.engine.insert('ingest_batches', [{ tenant_id: 'umbrella', table_name: 'ad_performance', batch_id: 'b1', rows: 0 }]);
    expect(await ensureDemoData(wh.engine, { scale: SCALE, now: () => new Date('2027-01-20T00:00:00Z') })).toMatchObject({
      action: 'refreshed',
      window: { end: '2027-01-19' },
    });
  });

  it('reads the window of a warehouse seeded before the record existed from the data itself', async () => {
    await wh.engine.command('TRUNCATE TABLE demo_dataset');
    expect(await readDemoDataset(wh.engine)).toEqual({ start: '2025-01-20', end: '2027-01-19' });
    expect(await ensureDemoData(wh.engine, { scale: SCALE, now: () => new Date('2027-02-01T00:00:00Z') })).toMatchObject({
      action: 'kept',
      reason: 'the warehouse was seeded by an older version (no record of its row count)',
    });
  });
});
