/** SQL checks shared by the demo tests: each returns numbers computed independently of the generator. */
import type { Engine } from '../../../src/engine/engine.js';

/** Order-independent fingerprint of every table's content (ingested_at excluded). */
export async function checksums(engine: Engine): Promise<Record<string, { n: number; x: string }>> {
  const out: Record<string, { n: number; x: string }> = {};
  for (const t of ['campaigns', 'clients', 'ad_performance', 'web_sessions', 'conversions', 'email_activity']) {
    const { rows } = await engine.query<{ n: number; x: string }>(
      `SELECT count() AS n, toString(groupBitXor(cityHash64(* EXCEPT (ingested_at)))) AS x FROM ${t}`,
    );
    out[t] = rows[0];
  }
  return out;
}

/** Rows breaking a funnel or lifecycle rule, per rule; every value should be 0. */
export async function violations(engine: Engine): Promise<Record<string, number>> {
  const q = async (sql: string) => Number((await engine.query<{ n: number }>(sql)).rows[0].n);
  return {
    ad_clicks_gt_impressions: await q('SELECT countIf(clicks > impressions) AS n FROM ad_performance'),
    ad_conversions_gt_clicks: await q('SELECT countIf(conversions > clicks) AS n FROM ad_performance'),
    ad_video_views_gt_impressions: await q('SELECT countIf(video_views > impressions) AS n FROM ad_performance'),
    ad_negative_money: await q('SELECT countIf(cost < 0 OR conversion_value < 0) AS n FROM ad_performance'),
    ad_value_without_conversion: await q('SELECT countIf(conversions = 0 AND conversion_value > 0) AS n FROM ad_performance'),
    ad_row_outside_campaign_flight: await q(`
      SELECT count() AS n FROM ad_performance AS a
      LEFT JOIN (SELECT * FROM campaigns FINAL) AS c ON a.tenant_id = c.tenant_id AND a.campaign_id = c.campaign_id
      WHERE c.campaign_id = '' OR a.platform != c.platform OR a.account_id != c.account_id
         OR a.date < c.start_date OR a.date > ifNull(c.end_date, toDate('2100-01-01'))`),
    ad_row_outside_demo_window: await q("SELECT countIf(date < '2024-11-01' OR date > '2026-10-31') AS n FROM ad_performance"),
    email_delivered_gt_sent: await q('SELECT countIf(delivered > sent OR delivered + bounced != sent) AS n FROM email_activity'),
    email_opened_gt_delivered: await q('SELECT countIf(opened > delivered) AS n FROM email_activity'),
    email_clicked_gt_opened: await q('SELECT countIf(clicked > opened) AS n FROM email_activity'),
    email_replied_gt_delivered: await q(
      'SELECT countIf(replied > delivered OR unsubscribed > delivered OR spam_complaints > delivered) AS n FROM email_activity',
    ),
    session_bounce_with_pageviews: await q('SELECT countIf((bounced = 1 AND pageviews != 1) OR (bounced = 0 AND pageviews < 2)) AS n FROM web_sessions'),
    session_revenue_without_transaction: await q('SELECT countIf((transactions = 0) != (revenue = 0)) AS n FROM web_sessions'),
    session_paid_without_campaign: await q(`
      SELECT count() AS n FROM web_sessions AS s
      LEFT JOIN (SELECT * FROM campaigns FINAL) AS c ON s.tenant_id = c.tenant_id AND s.utm_campaign = c.campaign_id
      WHERE s.utm_campaign != '' AND (c.campaign_id = '' OR toDate(s.started_at) < c.start_date OR toDate(s.started_at) > ifNull(c.end_date, toDate('2100-01-01')))`),
    conversion_outside_campaign_flight: await q(`
      SELECT count() AS n FROM conversions AS v
      LEFT JOIN (SELECT * FROM campaigns FINAL) AS c ON v.tenant_id = c.tenant_id AND v.campaign_id = c.campaign_id
      WHERE c.campaign_id = '' OR v.platform != c.platform
         OR toDate(v.occurred_at) < c.start_date OR toDate(v.occurred_at) > ifNull(c.end_date, toDate('2100-01-01'))`),
    client_mrr_when_not_paying: await q("SELECT countIf(subscription_status IN ('trialing', 'canceled') AND mrr != 0) AS n FROM clients"),
  };
}

/** Rows whose ids do not carry their own tenant's prefix and digit; every value should be 0. */
export async function foreignIds(engine: Engine): Promise<Record<string, number>> {
  const digit = "multiIf(tenant_id = 'acme', '1', tenant_id = 'globex', '2', tenant_id = 'initech', '3', 'x')";
  const own = (col: string, kind: string) => `NOT (startsWith(${col}, concat(tenant_id, '-${kind}-')) AND startsWith(splitByChar('-', ${col})[-1], ${digit}))`;
  const q = async (sql: string) => Number((await engine.query<{ n: number }>(sql)).rows[0].n);
  return {
    campaigns: await q(`SELECT countIf(${own('campaign_id', 'cmp')} OR ${own('account_id', 'acc')}) AS n FROM campaigns`),
    ad_performance: await q(
      `SELECT countIf(${own('campaign_id', 'cmp')} OR ${own('account_id', 'acc')} OR ${own('ad_group_id', 'adg')} OR ${own('ad_id', 'ad')}) AS n FROM ad_performance`,
    ),
    web_sessions: await q(
      `SELECT countIf(NOT startsWith(session_id, concat(tenant_id, '-ses-')) OR ${own('user_id', 'usr')} OR (utm_campaign != '' AND ${own('utm_campaign', 'cmp')})) AS n FROM web_sessions`,
    ),
    conversions: await q(`SELECT countIf(NOT startsWith(conversion_id, concat(tenant_id, '-cnv-')) OR ${own('campaign_id', 'cmp')}) AS n FROM conversions`),
    email_activity: await q(
      `SELECT countIf(${own('email_campaign_id', 'eml')} OR NOT endsWith(mailbox, concat('@', tenant_id, '.example'))) AS n FROM email_activity`,
    ),
    clients: await q(`SELECT countIf(${own('client_id', 'cli')}) AS n FROM clients`),
  };
}

export function zeros(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(record).map((k) => [k, 0]));
}
