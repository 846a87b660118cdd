import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/clickhouse.js';
import { foreignIds, violations, zeros } from './checks.js';

describe('demo data at scale 1', () => {
  let wh: TestWarehouse;

  beforeAll(async () => {
    wh = await createTestWarehouse({ seed: true, scale: 1 });
  }, 120_000);
  afterAll(async () => {
    await wh.close();
  });

  it('holds at least one million fact rows', () => {
    const rows = wh.rows ?? {};
    const facts = rows.ad_performance + rows.web_sessions + rows.conversions + rows.email_activity;
    expect(facts).toBeGreaterThanOrEqual(1_000_000);
    expect(rows.campaigns).toBe(225);
    expect(rows.clients).toBe(3500);
  });

  it('obeys funnel and lifecycle invariants on every row', async () => {
    const v = await violations(wh.engine);
    expect(v).toEqual(zeros(v));
  });

  it('keeps every tenant in its own id range', async () => {
    const ids = await foreignIds(wh.engine);
    expect(ids).toEqual(zeros(ids));
  });

  it('covers two years of daily data ending on the fixed demo date', async () => {
    const { rows } = await wh.engine.query<{ tenant_id: string; first: string; last: string; days: number }>(
      'SELECT tenant_id, toString(min(date)) AS first, toString(max(date)) AS last, uniqExact(date) AS days FROM ad_performance GROUP BY tenant_id ORDER BY tenant_id',
    );
    expect(rows).toEqual([
      { tenant_id: 'acme', first: '2024-11-01', last: '2026-10-31', days: 730 },
      { tenant_id: 'globex', first: '2024-11-01', last: '2026-10-31', days: 730 },
      { tenant_id: 'initech', first: '2024-11-01', last: '2026-10-31', days: 730 },
    ]);
  });

  it('has a realistic shape: weekly seasonality and a per-tenant platform mix', async () => {
    const weekly = await wh.engine.query<{ tenant_id: string; weekday: number; weekend: number }>(`
      SELECT tenant_id, sumIf(cost, toDayOfWeek(date) <= 5) / 5 AS weekday, sumIf(cost, toDayOfWeek(date) >= 6) / 2 AS weekend
      FROM ad_performance GROUP BY tenant_id ORDER BY tenant_id`);
    const byTenant = Object.fromEntries(weekly.rows.map((r) => [r.tenant_id, r.weekend / r.weekday]));
    expect(byTenant.globex).toBeLessThan(0.6); // B2B: quiet weekends
    expect(byTenant.acme).toBeGreaterThan(1.05); // retail: busier weekends
    const mix = await wh.engine.query<{ tenant_id: string; platforms: string[] }>(
      'SELECT tenant_id, arraySort(groupUniqArray(platform)) AS platforms FROM ad_performance GROUP BY tenant_id ORDER BY tenant_id',
    );
    expect(mix.rows).toEqual([
      { tenant_id: 'acme', platforms: ['dv360', 'google_ads', 'meta', 'microsoft_ads', 'tiktok'] },
      { tenant_id: 'globex', platforms: ['dv360', 'google_ads', 'linkedin', 'meta', 'microsoft_ads'] },
      { tenant_id: 'initech', platforms: ['dv360', 'google_ads', 'linkedin', 'meta', 'microsoft_ads', 'tiktok'] },
    ]);
  });
});
