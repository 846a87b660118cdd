import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWarehouseEmpty, seedDemo } from '../../../src/demo/seed.js';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createTestWarehouse, TEST_SCALE, type TestWarehouse } from '../../helpers/clickhouse.js';
import { checksums, foreignIds, zeros } from './checks.js';

describe('demo data at test scale', () => {
  let wh: TestWarehouse;

  beforeAll(async () => {
    wh = await createTestWarehouse();
  });
  afterAll(async () => {
    await wh.close();
  });

  it('is deterministic: the same seed gives the same content, another seed does not', async () => {
    expect(await isWarehouseEmpty(wh.engine)).toBe(true);
    const first = await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE, seed: 7 });
    expect(await isWarehouseEmpty(wh.engine)).toBe(false);
    const a = await checksums(wh.engine);
    // re-seeding replaces the demo tenants' rows instead of appending
    const second = await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE, seed: 7 });
    expect(second.rows).toEqual(first.rows);
    expect(await checksums(wh.engine)).toEqual(a);
    expect(Object.fromEntries(Object.entries(a).map(([t, c]) => [t, c.n]))).toEqual(first.rows);

    await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE, seed: 8 });
    const c = await checksums(wh.engine);
    for (const t of ['campaigns', 'ad_performance', 'web_sessions', 'conversions', 'email_activity']) expect(c[t].x, t).not.toBe(a[t].x);
  });

  it('leaves other tenants alone when re-seeding', async () => {
    await wh.engine.insert('campaigns', [
      { tenant_id: 'umbrella', campaign_id: 'umbrella-cmp-900001', platform: 'meta', name: 'kept', start_date: '2026-01-01' },
    ]);
    await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE });
    const { rows } = await wh.engine.query<{ tenant_id: string; n: number }>(
      'SELECT tenant_id, count() AS n FROM campaigns GROUP BY tenant_id ORDER BY tenant_id',
    );
    expect(rows.map((r) => r.tenant_id)).toEqual(['acme', 'globex', 'initech', 'umbrella']);
    expect(rows.find((r) => r.tenant_id === 'umbrella')?.n).toBe(1);
    await wh.engine.command("DELETE FROM campaigns WHERE tenant_id = 'umbrella'");
  });

  it('keeps every tenant in its own id range', async () => {
    const ids = await foreignIds(wh.engine);
    expect(ids).toEqual(zeros(ids));
    const { rows } = await wh.engine.query<{ shared: number }>(
      'SELECT count() AS shared FROM (SELECT campaign_id FROM ad_performance GROUP BY campaign_id HAVING uniqExact(tenant_id) > 1)',
    );
    expect(rows[0].shared).toBe(0);
    const tenants = await wh.engine.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM ad_performance ORDER BY tenant_id');
    expect(tenants.rows.map((r) => r.tenant_id)).toEqual([...DEMO_TENANT_IDS]);
  });

  it('scales fact rows with `scale` while entity tables stay the same size', async () => {
    const small = await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE / 2 });
    const big = await seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: TEST_SCALE });
    expect(small.rows.campaigns).toBe(big.rows.campaigns);
    expect(small.rows.clients).toBe(big.rows.clients);
    for (const t of ['ad_performance', 'web_sessions', 'conversions', 'email_activity'] as const) {
      const ratio = big.rows[t] / small.rows[t];
      expect(ratio, t).toBeGreaterThan(1.8);
      expect(ratio, t).toBeLessThan(2.2);
    }
  });

  it('rejects a non-positive scale', async () => {
    await expect(seedDemo(wh.engine, { endDate: FIXED_DEMO_END_DATE, scale: 0 })).rejects.toThrow('demo scale must be a positive number, got 0');
  });
});
