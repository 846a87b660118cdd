/**
 * Issue #15 item 5: retention per tenant and fact table through ClickHouse TTL (migration 0023 +
 * ingest/retention.ts) on chDB: rows past a tenant's retention go, other tenants keep theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { applyPlanRetention, enableRetention, retentionEnabled, retentionForPlan, retentionOf, setRetention } from '../../../src/ingest/retention.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { adRow } from '../live/stack.js';

let engine: Engine;
beforeAll(async () => {
  engine = createEngine({ database: 'strata', chdbPath: `${makeTempDir()}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  await enableRetention(engine);
  await enableRetention(engine); // idempotent
});
afterAll(async () => {
  await engine?.close();
});

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

async function datesOf(tenant: string): Promise<string[]> {
  const { rows } = await engine.query<{ d: string }>('SELECT toString(date) AS d FROM strata.ad_performance WHERE tenant_id = {t:String} ORDER BY d', {
    t: tenant,
  });
  return rows.map((r) => r.d);
}

describe('retention per tenant through TTL', () => {
  it("removes a tenant's fact rows older than its retention, and only that tenant's", async () => {
    const dates = [daysAgo(400), daysAgo(100), daysAgo(10)];
    for (const t of ['short', 'long']) {
      await engine.insert(
        'ad_performance',
        dates.map((date, i) => ({ tenant_id: t, ...adRow({ date, ad_id: `ad-${i}` }) })),
      );
    }
    expect(await setRetention(engine, 'short', { ad_performance: 30 })).toEqual(['ad_performance']);
    await setRetention(engine, 'long', { ad_performance: 365 });
    expect(await retentionOf(engine, 'short')).toEqual({ ad_performance: 30 });

    expect(await datesOf('short')).toEqual([daysAgo(10)]);
    expect(await datesOf('long')).toEqual([daysAgo(100), daysAgo(10)]);
    // A tenant without a retention keeps everything.
    await engine.insert('ad_performance', [{ tenant_id: 'none', ...adRow({ date: daysAgo(3000) }) }]);
    await engine.command('OPTIMIZE TABLE strata.ad_performance FINAL');
    expect(await datesOf('none')).toEqual([daysAgo(3000)]);
    await expect(setRetention(engine, 'short', { ad_performance: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('applyPlanRetention writes only differences: shorter materializes, longer only updates, again changes nothing', async () => {
    expect(await retentionEnabled(engine)).toBe(true);
    await engine.insert(
      'email_activity',
      [daysAgo(200), daysAgo(20)].map((date, i) => ({
        tenant_id: 'plan',
        date,
        email_campaign_id: 'e1',
        email_campaign_name: 'E1',
        sequence_step: i,
        mailbox: 'm@x.io',
        sent: 1,
      })),
    );
    const emailDates = async () =>
      (await engine.query<{ d: string }>("SELECT toString(date) AS d FROM strata.email_activity WHERE tenant_id = 'plan' ORDER BY d")).rows.map((r) => r.d);
    expect(await applyPlanRetention(engine, 'plan', 'free')).toEqual({
      changed: ['ad_performance', 'email_activity', 'web_sessions', 'conversions'],
      shortened: ['ad_performance', 'email_activity', 'web_sessions', 'conversions'],
    });
    expect(await emailDates()).toEqual([daysAgo(20)]);
    expect(await applyPlanRetention(engine, 'plan', 'free')).toEqual({ changed: [], shortened: [] });
    // Configured days replace the built-in table; enterprise (no days) keeps everything again.
    expect(await applyPlanRetention(engine, 'plan', 'free', { free: 30 })).toMatchObject({ changed: expect.any(Array), shortened: expect.any(Array) });
    expect((await retentionOf(engine, 'plan')).email_activity).toBe(30);
    expect(await applyPlanRetention(engine, 'plan', 'enterprise')).toMatchObject({ shortened: [] });
    expect((await retentionOf(engine, 'plan')).email_activity).toBe(36_500);
    await engine.insert('email_activity', [
      { tenant_id: 'plan', date: daysAgo(3000), email_campaign_id: 'e1', email_campaign_name: 'E1', sequence_step: 9, mailbox: 'm@x.io', sent: 1 },
    ]);
    await engine.command('OPTIMIZE TABLE strata.email_activity FINAL');
    expect(await emailDates()).toEqual([daysAgo(3000), daysAgo(20)]);
  });

  it('plans map to days per table: free 90, pro 3 years, enterprise and unknown plans keep everything', () => {
    expect(retentionForPlan('free')).toEqual({ ad_performance: 90, email_activity: 90, web_sessions: 90, conversions: 90 });
    expect(retentionForPlan('pro').ad_performance).toBe(1095);
    expect(retentionForPlan('enterprise')).toEqual({});
    expect(retentionForPlan('toString')).toEqual({});
  });
});
