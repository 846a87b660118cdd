import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adRow, createStack, ctx, ndjson, principal, type Stack } from '../live/stack.js';

let s: Stack;
beforeAll(async () => {
  s = await createStack();
});
afterAll(async () => {
  await s?.close();
});

const acme = principal('acme');
const globex = principal('globex');

async function sums(tenant: string): Promise<{ clicks: number; impressions: number; rows: number }> {
  const { rows } = await s.engine.query<{ clicks: string; impressions: string; rows: string }>(
    'SELECT sum(clicks) AS clicks, sum(impressions) AS impressions, count() AS rows FROM strata.ad_performance WHERE tenant_id = {t:String}',
    { t: tenant },
  );
  return { clicks: Number(rows[0].clicks), impressions: Number(rows[0].impressions), rows: Number(rows[0].rows) };
}

async function quarantined(tenant: string, batch: string) {
  const { rows } = await s.engine.query<{ reason: string; row_json: string; table_name: string }>(
    "SELECT reason, row_json, table_name FROM strata.ingest_quarantine WHERE tenant_id = {t:String} AND batch_id = {b:String} ORDER BY JSONExtractUInt(row_json, 'line')",
    { t: tenant, b: batch },
  );
  return rows.map((r) => ({ ...r, row: JSON.parse(r.row_json) as { line: number; raw: string } }));
}

describe('ingestion into chDB', () => {
  const good = [
    adRow({ clicks: 10, impressions: 100 }),
    adRow({ clicks: 20, impressions: 300, date: '2024-03-02' }),
    adRow({ ad_id: 'ad-2', clicks: 0, impressions: 0, conversions: 0 }),
  ];
  const body = ndjson([
    good[0],
    adRow({ clicks: 11, impressions: 10 }),
    good[1],
    adRow({ tenant_id: 'globex' }),
    '{"date": "2024-03-01", ',
    adRow({ date: '03/01/2024' }),
    adRow({ cost: -1 }),
    { ...adRow(), device: undefined },
    adRow({ conversions: 60 }),
    adRow({ clicks: 'fifty' }),
    good[2],
  ]);

  it('inserts the good rows for the caller tenant and quarantines each bad row with its reason', async () => {
    const report = await s.ingest.ingest(acme, 'ad_performance', body, 'batch-1');
    const expectedReasons = [
      { line: 2, reason: 'clicks (11) must not exceed impressions (10)' },
      { line: 4, reason: 'field "tenant_id" must not be sent: the tenant comes from the credential' },
      { line: 5, reason: expect.stringMatching(/^invalid JSON: /) },
      { line: 6, reason: 'field "date": expected a date "YYYY-MM-DD", got "03/01/2024"' },
      { line: 7, reason: 'field "cost" must not be negative, got -1' },
      { line: 8, reason: 'missing required field "device"' },
      { line: 9, reason: 'conversions (60) must not exceed clicks (50)' },
      { line: 10, reason: 'field "clicks": expected a non-negative integer, got "fifty"' },
    ];
    expect(report).toEqual({ batchId: 'batch-1', table: 'ad_performance', inserted: 3, quarantined: expectedReasons, quarantinedCount: 8, duplicate: false });

    const expected = { clicks: good.reduce((a, r) => a + Number(r.clicks), 0), impressions: good.reduce((a, r) => a + Number(r.impressions), 0), rows: 3 };
    expect(await sums('acme')).toEqual(expected);
    expect(await sums('globex')).toEqual({ clicks: 0, impressions: 0, rows: 0 });

    const q = await quarantined('acme', 'batch-1');
    expect(q.map((r) => ({ line: r.row.line, reason: r.reason }))).toEqual(expectedReasons);
    expect(q.every((r) => r.table_name === 'ad_performance')).toBe(true);
    expect(q[1].row.raw).toContain('"tenant_id":"globex"');
    expect(q[2].row.raw).toBe('{"date": "2024-03-01", ');

    const { rows } = await s.engine.query<{ rows: string; quarantined: string }>(
      "SELECT rows, quarantined FROM strata.ingest_batches WHERE tenant_id = 'acme' AND batch_id = 'batch-1'",
    );
    expect(rows.map((r) => [Number(r.rows), Number(r.quarantined)])).toEqual([[3, 8]]);
  });

  it('a retried batch id inserts nothing twice and returns the first report', async () => {
    const before = await sums('acme');
    const retry = await s.ingest.ingest(acme, 'ad_performance', body, 'batch-1');
    expect(retry).toMatchObject({ batchId: 'batch-1', inserted: 3, quarantinedCount: 8, duplicate: true });
    expect(retry.quarantined.map((q) => q.line)).toEqual([2, 4, 5, 6, 7, 8, 9, 10]);
    const [a, b] = await Promise.all([
      s.ingest.ingest(acme, 'ad_performance', ndjson([adRow({ ad_id: 'ad-b2', clicks: 1, impressions: 1, conversions: 0 })]), 'batch-2'),
      s.ingest.ingest(acme, 'ad_performance', ndjson([adRow({ ad_id: 'ad-b2', clicks: 1, impressions: 1, conversions: 0 })]), 'batch-2'),
    ]);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.inserted + b.inserted).toBe(2); // both report the one insert; it happened once
    expect(await sums('acme')).toEqual({ clicks: before.clicks + 1, impressions: before.impressions + 1, rows: before.rows + 1 });
    expect((await quarantined('acme', 'batch-1')).length).toBe(8);
  });

  it('the same batch id of another tenant is a different batch', async () => {
    const r = await s.ingest.ingest(globex, 'ad_performance', ndjson([adRow({ clicks: 7, impressions: 70 })]), 'batch-1');
    expect(r).toMatchObject({ inserted: 1, duplicate: false });
    expect(await sums('globex')).toEqual({ clicks: 7, impressions: 70, rows: 1 });
  });

  it('numbers read through the query service match after ingest (cache invalidated by the change signal)', async () => {
    const q = { measures: ['ad_performance.clicks', 'ad_performance.impressions'] };
    const first = await s.query.load(ctx(acme, 'graphql'), q);
    const expectBefore = await sums('acme');
    expect(first.rows).toEqual([{ 'ad_performance.clicks': expectBefore.clicks, 'ad_performance.impressions': expectBefore.impressions }]);
    // The live service listens to the signals and drops cached results of the tenant.
    await s.ingest.ingest(acme, 'ad_performance', ndjson([adRow({ ad_id: 'ad-b3', clicks: 100, impressions: 1000 })]), 'batch-3');
    const after = await s.query.load(ctx(acme, 'graphql'), q);
    expect(after.fromCache).toBe(false);
    expect(after.rows).toEqual([{ 'ad_performance.clicks': expectBefore.clicks + 100, 'ad_performance.impressions': expectBefore.impressions + 1000 }]);
  });

  it('date-times with a zone land in UTC; email rules apply to email_activity', async () => {
    const r = await s.ingest.ingest(
      acme,
      'email_activity',
      [
        {
          date: '2024-03-01',
          email_campaign_id: 'e1',
          email_campaign_name: 'Spring',
          sequence_step: 1,
          mailbox: 'a@x.io',
          sent: 100,
          delivered: 95,
          opened: 40,
          clicked: 10,
          replied: 2,
          bounced: 5,
          unsubscribed: 1,
          spam_complaints: 0,
        },
        {
          date: '2024-03-01',
          email_campaign_id: 'e1',
          email_campaign_name: 'Spring',
          sequence_step: 1,
          mailbox: 'a@x.io',
          sent: 100,
          delivered: 120,
          opened: 40,
          clicked: 10,
          replied: 2,
          bounced: 5,
          unsubscribed: 1,
          spam_complaints: 0,
        },
      ],
      'email-1',
    );
    expect(r).toMatchObject({ inserted: 1, quarantined: [{ line: 2, reason: 'delivered (120) must not exceed sent (100)' }] });
    const c = await s.ingest.ingest(
      acme,
      'conversions',
      [
        {
          conversion_id: 'cv1',
          occurred_at: '2024-03-01T10:00:00+02:00',
          conversion_type: 'purchase',
          value: 9.5,
          campaign_id: 'cmp-1',
          platform: 'meta',
          attribution_model: 'last_click',
        },
      ],
      'conv-1',
    );
    expect(c.inserted).toBe(1);
    const { rows } = await s.engine.query<{ t: string }>(
      "SELECT toString(occurred_at) AS t FROM strata.conversions WHERE tenant_id = 'acme' AND conversion_id = 'cv1'",
    );
    expect(rows).toEqual([{ t: '2024-03-01 08:00:00' }]);
  });

  it('every sent value lands in its column; an omitted defaulted column gets its DEFAULT, a Nullable one keeps null', async () => {
    const before = Date.now();
    const campaign = {
      campaign_id: 'cmp-x',
      platform: 'meta',
      account_id: 'acc-9',
      name: 'Winter "sale", 50% off',
      type: 'social',
      status: 'active',
      objective: 'sales',
      budget: 125.5,
      budget_type: 'daily',
      start_date: '2024-02-01',
    };
    const r = await s.ingest.ingest(
      acme,
      'campaigns',
      [campaign, { ...campaign, campaign_id: 'cmp-y', end_date: '2024-04-30' }, { ...campaign, campaign_id: 'cmp-z', end_date: null }],
      'campaigns-1',
    );
    expect(r).toMatchObject({ inserted: 3, quarantinedCount: 0 });
    const { rows } = await s.engine.query<Record<string, unknown>>(
      "SELECT * EXCEPT ingested_at, toUnixTimestamp64Milli(ingested_at) AS at_ms FROM strata.campaigns FINAL WHERE tenant_id = 'acme' AND campaign_id LIKE 'cmp-_' ORDER BY campaign_id",
    );
    const { at_ms: _at, ...x } = rows[0];
    // Columns the row did not send get their DEFAULTs (advertiser, currency, labels: migration 0020).
    expect(x).toEqual({ tenant_id: 'acme', ...campaign, end_date: null, advertiser_id: '', advertiser_name: '', currency: 'USD', labels: [] });
    expect(rows.map((row) => row.end_date)).toEqual([null, '2024-04-30', null]);
    // now64(3) at insert time, not the type's zero (1970) that a plain null would give.
    for (const row of rows) expect(Number(row.at_ms)).toBeGreaterThanOrEqual(before - 1000);
  });
});
