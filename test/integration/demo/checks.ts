/** SQL checks shared by the demo tests: each returns numbers computed independently of the generator. */
import { DEMO_TABLES } from '../../../src/demo/seed.js';
import type { Engine } from '../../../src/engine/engine.js';

/** Order-independent fingerprint of every table's content (ingested_at excluded). */
export async function checksums(engine: Engine): Promise<Record<string, { n: number; x: string }>> {
  const out: Record<string, { n: number; x: string }> = {};
  for (const t of DEMO_TABLES) {
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
    // email outreach, client health
    warmup_funnel: await q(
      'SELECT countIf(delivered + bounced != sent OR inboxed > delivered OR opened > inboxed OR replied > opened OR health_score > 100 OR progress_percentage > 100) AS n FROM mailbox_warmup',
    ),
    lead_funnel: await q(
      'SELECT countIf(delivered + bounced != sent OR opened > delivered OR clicked > opened OR replied > 1 OR lead_score > 100) AS n FROM lead_engagement',
    ),
    email_sent_from_unknown_mailbox: await q(
      "SELECT count() AS n FROM email_activity AS e LEFT JOIN (SELECT * FROM mailboxes FINAL) AS m ON e.tenant_id = m.tenant_id AND e.mailbox = m.mailbox WHERE m.mailbox = ''",
    ),
    history_not_one_current_status: await q(
      'SELECT count() AS n FROM (SELECT tenant_id, client_id, countIf(valid_to IS NULL) AS c FROM subscription_history GROUP BY ALL HAVING c != 1)',
    ),
    history_current_differs_from_client: await q(`
      SELECT count() AS n FROM (SELECT * FROM clients FINAL) AS c
      LEFT JOIN (SELECT * FROM subscription_history WHERE valid_to IS NULL) AS h ON c.tenant_id = h.tenant_id AND c.client_id = h.client_id
      WHERE h.status != c.subscription_status`),
    touch_credits_not_one_per_path: await q(
      'SELECT count() AS n FROM (SELECT client_id, sum(credit_first) AS f, sum(credit_last) AS l, sum(credit_linear) AS li, sum(credit_position) AS p FROM conversion_touchpoints GROUP BY tenant_id, client_id HAVING abs(f - 1) > 1e-9 OR abs(l - 1) > 1e-9 OR abs(li - 1) > 1e-9 OR abs(p - 1) > 1e-9)',
    ),
    touch_after_conversion: await q('SELECT countIf(touched_at > converted_at) AS n FROM conversion_touchpoints'),
    // campaign lifecycle, reach, social
    history_not_one_current_version: await q(
      'SELECT count() AS n FROM (SELECT tenant_id, campaign_id, sum(is_current) AS c FROM campaign_history GROUP BY ALL HAVING c != 1)',
    ),
    history_versions_overlap: await q(
      'SELECT count() AS n FROM (SELECT campaign_id, valid_from, valid_to, leadInFrame(valid_from) OVER (PARTITION BY tenant_id, campaign_id ORDER BY valid_from ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS nxt, is_current FROM campaign_history) WHERE is_current = 0 AND valid_to != nxt',
    ),
    campaign_day_outside_flight: await q(`
      SELECT count() AS n FROM campaign_days AS d
      LEFT JOIN (SELECT * FROM campaigns FINAL) AS c ON d.tenant_id = c.tenant_id AND d.campaign_id = c.campaign_id
      WHERE c.campaign_id = '' OR d.date < c.start_date OR d.date > ifNull(c.end_date, toDate('2100-01-01'))`),
    reach_outside_campaign_flight: await q(`
      SELECT count() AS n FROM ad_reach AS r
      LEFT JOIN (SELECT * FROM campaigns FINAL) AS c ON r.tenant_id = c.tenant_id AND r.campaign_id = c.campaign_id
      WHERE c.campaign_id = '' OR r.platform != c.platform OR r.date < c.start_date OR r.date > ifNull(c.end_date, toDate('2100-01-01'))`),
    post_reach_gt_impressions: await q('SELECT countIf(reach > impressions) AS n FROM social_posts'),
    partnership_deliverables_gt_planned: await q('SELECT countIf(deliverables_completed > deliverables_planned) AS n FROM influencer_partnerships'),
  };
}

/** Rows whose ids do not carry their own tenant's prefix and digit; every value should be 0. */
export async function foreignIds(engine: Engine): Promise<Record<string, number>> {
  const digit = "multiIf(tenant_id = 'acme', '1', tenant_id = 'globex', '2', tenant_id = 'initech', '3', 'x')";
  // the tenant's domain or a subdomain of it (mail.acme.example)
  const ownAddress = (col: string) => `(endsWith(${col}, concat('@', tenant_id, '.example')) OR endsWith(${col}, concat('.', tenant_id, '.example')))`;
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
    email_activity: await q(`SELECT countIf(${own('email_campaign_id', 'eml')} OR NOT ${ownAddress('mailbox')}) AS n FROM email_activity`),
    clients: await q(`SELECT countIf(${own('client_id', 'cli')}) AS n FROM clients`),
    // email outreach, client health
    mailboxes: await q(`SELECT countIf(NOT ${ownAddress('mailbox')} OR NOT ${ownAddress("concat('x@', sending_domain)")}) AS n FROM mailboxes`),
    sending_domains: await q(`SELECT countIf(NOT ${ownAddress("concat('x@', domain)")}) AS n FROM sending_domains`),
    email_campaigns: await q(`SELECT countIf(${own('email_campaign_id', 'eml')}) AS n FROM email_campaigns`),
    mailbox_warmup: await q(`SELECT countIf(NOT ${ownAddress('mailbox')}) AS n FROM mailbox_warmup`),
    lead_engagement: await q(`SELECT countIf(${own('lead_id', 'lead')} OR ${own('email_campaign_id', 'eml')}) AS n FROM lead_engagement`),
    client_activity: await q(`SELECT countIf(${own('client_id', 'cli')}) AS n FROM client_activity`),
    subscription_history: await q(`SELECT countIf(${own('client_id', 'cli')}) AS n FROM subscription_history`),
    conversion_touchpoints: await q(
      `SELECT countIf(${own('client_id', 'cli')} OR (campaign_id != '' AND ${own('campaign_id', 'cmp')})) AS n FROM conversion_touchpoints`,
    ),
    campaign_history: await q(`SELECT countIf(${own('campaign_id', 'cmp')}) AS n FROM campaign_history`),
    campaign_days: await q(`SELECT countIf(${own('campaign_id', 'cmp')}) AS n FROM campaign_days`),
    ad_reach: await q(`SELECT countIf(${own('campaign_id', 'cmp')} OR ${own('person_id', 'prs')}) AS n FROM ad_reach`),
    social_posts: await q(`SELECT countIf(${own('post_id', 'pst')}) AS n FROM social_posts`),
    social_mentions: await q(`SELECT countIf(${own('mention_id', 'mnt')}) AS n FROM social_mentions`),
    influencer_partnerships: await q(`SELECT countIf(${own('partnership_id', 'inf')}) AS n FROM influencer_partnerships`),
    automation_runs: await q(`SELECT countIf(${own('run_id', 'run')} OR ${own('workflow_id', 'wfl')}) AS n FROM automation_runs`),
  };
}

export function zeros(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(record).map((k) => [k, 0]));
}
