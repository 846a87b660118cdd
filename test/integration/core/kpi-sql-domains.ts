/**
 * The independent oracle (kpi-sql.ts) for the email-outreach and client-health cubes
 * (cube-models/email_outreach.yml, client_health.yml): every measure by hand over the raw tables.
 * Entity tables are read with FINAL like the model; ratios are ratios of sums; distinct counts are
 * uniqExact over the raw columns.
 */
import type { CubeOracle } from './kpi-sql.js';

/** `k * a / b`, NULL when b = 0 (a copy: kpi-sql.ts imports this file). */
const ratio = (a: string, b: string, k = 1) => `if((${b}) = 0, NULL, ${k} * (${a}) / (${b}))`;

/** Billing usage written independently of the model's union: one row per usage event. */
const USAGE = `(
  SELECT tenant_id, date AS usage_day, 'sending' AS src, sent AS n_emails, mailbox AS mb, email_campaign_id AS cmp, '' AS lead, '' AS wm FROM email_activity
  UNION ALL SELECT tenant_id, toDate(imported_at), 'leads', 0, '', '', lead_id, '' FROM lead_engagement
  UNION ALL SELECT tenant_id, date, 'warmup', 0, '', '', '', mailbox FROM mailbox_warmup WHERE sent > 0)`;
const domainOf = (col: string) => `substring(${col}, position(${col}, '@') + 1)`;

export const OUTREACH_ORACLES: Readonly<Record<string, CubeOracle>> = {
  sending_domains: {
    from: '(SELECT * FROM sending_domains FINAL)',
    time: { member: 'sending_domains.created_at', column: 'created_at' },
    dimension: { member: 'sending_domains.status', expr: 'status' },
    measures: {
      count: 'count()',
      verified_domains: "countIf(status = 'verified')",
      authenticated_domains: 'countIf(spf = 1 AND dkim = 1 AND dmarc = 1)',
      authentication_rate: ratio('countIf(spf = 1 AND dkim = 1 AND dmarc = 1)', 'count()', 100),
    },
  },
  mailboxes: {
    from: '(SELECT * FROM mailboxes FINAL)',
    time: { member: 'mailboxes.created_at', column: 'created_at' },
    dimension: { member: 'mailboxes.warmup_status', expr: 'warmup_status' },
    measures: {
      count: 'count()',
      warming_mailboxes: "countIf(warmup_status = 'warming')",
      warmed_mailboxes: "countIf(warmup_status = 'warmed')",
      paused_mailboxes: "countIf(warmup_status = 'paused')",
      mailboxes_in_campaigns: "countIf(campaign_status = 'active')",
      healthy_mailboxes: 'countIf(health_score >= 80)',
      at_risk_mailboxes: 'countIf(health_score < 60)',
      average_health_score: 'avg(health_score)',
      total_current_volume: 'sum(current_volume)',
      total_daily_limit: 'sum(daily_limit)',
      volume_utilization: ratio('sum(current_volume)', 'sum(daily_limit)', 100),
    },
  },
  email_campaigns: {
    from: '(SELECT * FROM email_campaigns FINAL)',
    time: { member: 'email_campaigns.created_at', column: 'created_at' },
    dimension: { member: 'email_campaigns.status', expr: 'status' },
    measures: {
      count: 'count()',
      active_campaigns: "countIf(status = 'active')",
      paused_campaigns: "countIf(status = 'paused')",
      completed_campaigns: "countIf(status = 'completed')",
      draft_campaigns: "countIf(status = 'draft')",
      ab_tested_campaigns: 'countIf(ab_test = 1)',
      completion_rate: ratio("countIf(status = 'completed')", "countIf(status != 'draft')", 100),
      completed_campaign_days: "sumIf(dateDiff('day', started_at, completed_at), status = 'completed')",
      average_duration_days: ratio("sumIf(dateDiff('day', started_at, completed_at), status = 'completed')", "countIf(status = 'completed')"),
    },
  },
  mailbox_warmup: {
    from: 'mailbox_warmup',
    time: { member: 'mailbox_warmup.date', column: 'date' },
    dimension: { member: 'mailbox_warmup.mailbox', expr: 'mailbox' },
    measures: {
      mailbox_days: 'count()',
      sent: 'sum(sent)',
      delivered: 'sum(delivered)',
      inboxed: 'sum(inboxed)',
      opened: 'sum(opened)',
      replied: 'sum(replied)',
      bounced: 'sum(bounced)',
      spam_complaints: 'sum(spam_complaints)',
      daily_target: 'sum(daily_target)',
      delivery_rate: ratio('sum(delivered)', 'sum(sent)', 100),
      inbox_placement_rate: ratio('sum(inboxed)', 'sum(delivered)', 100),
      bounce_rate: ratio('sum(bounced)', 'sum(sent)', 100),
      spam_rate: ratio('sum(spam_complaints)', 'sum(delivered)', 100),
      average_health_score: 'avg(health_score)',
      average_progress: 'avg(progress_percentage)',
      warmups_active: 'uniqExactIf(mailbox, sent > 0)',
      mailboxes_ramping: "uniqExactIf(mailbox, warmup_status = 'warming')",
    },
  },
  lead_engagement: {
    from: 'lead_engagement',
    time: { member: 'lead_engagement.imported_at', column: 'imported_at' },
    dimension: { member: 'lead_engagement.status', expr: 'status' },
    measures: {
      enrolments: 'count()',
      leads: 'uniqExact(lead_id)',
      sent: 'sum(sent)',
      delivered: 'sum(delivered)',
      opened: 'sum(opened)',
      clicked: 'sum(clicked)',
      replied: 'sum(replied)',
      bounced: 'sum(bounced)',
      unsubscribed: 'sum(unsubscribed)',
      spam_complaints: 'sum(spam_complaints)',
      engaged_leads: 'countIf(opened > 0)',
      replied_leads: 'countIf(replied > 0)',
      interested_leads: "countIf(status = 'interested')",
      completed_leads: "countIf(status IN ('completed', 'replied', 'interested'))",
      bounced_leads: "countIf(status = 'bounced')",
      unsubscribed_leads: "countIf(status = 'unsubscribed')",
      lead_reply_rate: ratio('countIf(replied > 0)', 'count()', 100),
      lead_engagement_rate: ratio('countIf(opened > 0)', 'count()', 100),
      positive_reply_rate: ratio("countIf(status = 'interested')", 'countIf(replied > 0)', 100),
      lead_completion_rate: ratio("countIf(status IN ('completed', 'replied', 'interested'))", 'count()', 100),
      emails_per_lead: ratio('sum(sent)', 'count()'),
      average_lead_score: 'avg(lead_score)',
    },
  },
  billing_usage: {
    from: USAGE,
    time: { member: 'billing_usage.date', column: 'usage_day' },
    dimension: { member: 'billing_usage.usage_source', expr: 'src' },
    measures: {
      emails_sent: 'sum(n_emails)',
      mailboxes_used: "uniqExactIf(mb, mb != '')",
      domains_used: `uniqExactIf(${domainOf('mb')}, mb != '')`,
      campaigns_used: "uniqExactIf(cmp, cmp != '')",
      leads_used: "uniqExactIf(lead, lead != '')",
      warmups_active: "uniqExactIf(wm, wm != '')",
      emails_per_mailbox: ratio('sum(n_emails)', "uniqExactIf(mb, mb != '')"),
      emails_per_campaign: ratio('sum(n_emails)', "uniqExactIf(cmp, cmp != '')"),
    },
  },
};

const CONVERTED = "previous_status = 'trialing' AND status = 'active'";
const EXPIRED = "previous_status = 'trialing' AND status = 'canceled'";

export const CLIENT_HEALTH_ORACLES: Readonly<Record<string, CubeOracle>> = {
  client_activity: {
    from: 'client_activity',
    time: { member: 'client_activity.activity_month', column: 'month' },
    dimension: { member: 'client_activity.usage_band', expr: "multiIf(sessions >= 150, 'heavy', sessions >= 40, 'regular', 'light')" },
    measures: {
      client_months: 'count()',
      active_clients: 'uniqExactIf(client_id, sessions > 0)',
      active_users: 'sum(active_users)',
      sessions: 'sum(sessions)',
      events: 'sum(events)',
      sessions_per_user: ratio('sum(sessions)', 'sum(active_users)'),
      events_per_client: ratio('sum(events)', 'uniqExactIf(client_id, sessions > 0)'),
      users_per_client_month: ratio('sum(active_users)', 'count()'),
    },
  },
  subscription_history: {
    from: 'subscription_history',
    time: { member: 'subscription_history.valid_from', column: 'valid_from' },
    dimension: { member: 'subscription_history.status', expr: 'status' },
    measures: {
      status_changes: 'count()',
      clients_with_history: 'uniqExact(client_id)',
      trials_started: "countIf(status = 'trialing')",
      trial_conversions: `countIf(${CONVERTED})`,
      trials_expired: `countIf(${EXPIRED})`,
      trial_conversion_rate: ratio(`countIf(${CONVERTED})`, `countIf(${CONVERTED}) + countIf(${EXPIRED})`, 100),
      payment_failures: "countIf(status = 'past_due')",
      payment_recoveries: "countIf(previous_status = 'past_due' AND status = 'active')",
      cancellations: "countIf(status = 'canceled')",
      paid_cancellations: "countIf(status = 'canceled' AND previous_status IN ('active', 'past_due'))",
      converted_mrr: `sumIf(mrr, ${CONVERTED})`,
    },
  },
  conversion_touchpoints: {
    from: 'conversion_touchpoints',
    time: { member: 'conversion_touchpoints.converted_at', column: 'converted_at' },
    dimension: { member: 'conversion_touchpoints.channel', expr: 'channel' },
    measures: {
      touchpoints: 'count()',
      conversion_paths: 'uniqExact(client_id)',
      multi_touch_paths: 'uniqExactIf(client_id, path_length > 1)',
      touches_per_path: ratio('count()', 'uniqExact(client_id)'),
      first_touch_conversions: 'sum(credit_first)',
      last_touch_conversions: 'sum(credit_last)',
      linear_conversions: 'sum(credit_linear)',
      position_based_conversions: 'sum(credit_position)',
      linear_attributed_value: 'sum(credit_linear * conversion_value)',
      position_based_attributed_value: 'sum(credit_position * conversion_value)',
    },
  },
};
