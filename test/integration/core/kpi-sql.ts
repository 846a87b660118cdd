/**
 * The independent oracle of kpis.test.ts: for every measure of cube-models/, the same number
 * written by hand as plain ClickHouse SQL over the raw table — ratios are ratios of sums, filtered
 * counts are countIf. Nothing here comes from the compiler or the model's SQL snippets, so a
 * compiler bug (fan-out, wrong aggregation, a dropped filter) shows up as a difference.
 * Aliases (m0, m1…) never equal a column name: ClickHouse would resolve `sum(clicks)` to an alias.
 */
import { CLIENT_HEALTH_ORACLES, OUTREACH_ORACLES } from './kpi-sql-domains.js';
import { EXTRA_MEASURES, LIFECYCLE_SOCIAL_ORACLES } from './kpi-sql-lifecycle-social.js';

/** `k * a / b`, NULL when b = 0 (the service reads a zero denominator as "no value"). */
export const ratio = (a: string, b: string, k = 1) => `if((${b}) = 0, NULL, ${k} * (${a}) / (${b}))`;
const PAYING = "subscription_status IN ('active', 'past_due')";

export interface CubeOracle {
  /** FROM clause over the raw table (entity tables are read with FINAL, like the model). */
  readonly from: string;
  /** The cube's time dimension and its raw column. */
  readonly time: { readonly member: string; readonly column: string };
  /** A grouping dimension and its raw expression. */
  readonly dimension: { readonly member: string; readonly expr: string };
  /** Measure name -> raw aggregate SQL. */
  readonly measures: Readonly<Record<string, string>>;
}

export const ORACLES: Readonly<Record<string, CubeOracle>> = {
  ad_performance: {
    from: 'ad_performance',
    time: { member: 'ad_performance.date', column: 'date' },
    dimension: { member: 'ad_performance.platform', expr: 'platform' },
    measures: {
      count: 'count()',
      impressions: 'sum(impressions)',
      clicks: 'sum(clicks)',
      cost: 'sum(cost)',
      conversions: 'sum(conversions)',
      conversion_value: 'sum(conversion_value)',
      video_views: 'sum(video_views)',
      engagements: 'sum(engagements)',
      active_campaigns: 'uniqExactIf(campaign_id, impressions > 0)',
      ctr: ratio('sum(clicks)', 'sum(impressions)', 100),
      cpc: ratio('sum(cost)', 'sum(clicks)'),
      cpm: ratio('sum(cost)', 'sum(impressions)', 1000),
      cpa: ratio('sum(cost)', 'sum(conversions)'),
      roas: ratio('sum(conversion_value)', 'sum(cost)'),
      conversion_rate: ratio('sum(conversions)', 'sum(clicks)', 100),
      video_view_rate: ratio('sum(video_views)', 'sum(impressions)', 100),
      engagement_rate: ratio('sum(engagements)', 'sum(impressions)', 100),
      ...EXTRA_MEASURES.ad_performance,
    },
  },
  campaigns: {
    from: '(SELECT * FROM campaigns FINAL)',
    time: { member: 'campaigns.start_date', column: 'start_date' },
    dimension: { member: 'campaigns.type', expr: 'type' },
    measures: {
      count: 'count()',
      active_count: "countIf(status = 'active')",
      daily_budget: "sumIf(budget, budget_type = 'daily')",
      ...EXTRA_MEASURES.campaigns,
    },
  },
  clients: {
    from: '(SELECT * FROM clients FINAL)',
    time: { member: 'clients.signed_up_at', column: 'signed_up_at' },
    dimension: { member: 'clients.plan', expr: 'plan' },
    measures: {
      count: 'count()',
      active_clients: `countIf(${PAYING})`,
      trialing_clients: "countIf(subscription_status = 'trialing')",
      canceled_clients: "countIf(subscription_status = 'canceled')",
      clients_at_churn_risk: `countIf(${PAYING} AND churn_risk = 'high')`,
      churn_risk_share: ratio(`countIf(${PAYING} AND churn_risk = 'high')`, `countIf(${PAYING})`, 100),
      mrr: 'sum(mrr)',
      arr: '12 * sum(mrr)',
      arpa: ratio('sum(mrr)', `countIf(${PAYING})`),
      average_churn_score: 'avg(churn_score)',
      average_lead_score: 'avg(lead_score)',
      hot_leads: 'countIf(lead_score >= 70)',
    },
  },
  conversions: {
    from: 'conversions',
    time: { member: 'conversions.occurred_at', column: 'occurred_at' },
    dimension: { member: 'conversions.attribution_model', expr: 'attribution_model' },
    measures: {
      count: 'count()',
      value: 'sum(value)',
      average_value: ratio('sum(value)', 'count()'),
      purchases: "countIf(conversion_type = 'purchase')",
      signups: "countIf(conversion_type = 'signup')",
      leads: "countIf(conversion_type = 'lead')",
      demo_requests: "countIf(conversion_type = 'demo_request')",
    },
  },
  email_activity: {
    from: 'email_activity',
    time: { member: 'email_activity.date', column: 'date' },
    dimension: { member: 'email_activity.email_campaign_id', expr: 'email_campaign_id' },
    measures: {
      sent: 'sum(sent)',
      delivered: 'sum(delivered)',
      opened: 'sum(opened)',
      clicked: 'sum(clicked)',
      replied: 'sum(replied)',
      bounced: 'sum(bounced)',
      unsubscribed: 'sum(unsubscribed)',
      spam_complaints: 'sum(spam_complaints)',
      delivery_rate: ratio('sum(delivered)', 'sum(sent)', 100),
      open_rate: ratio('sum(opened)', 'sum(delivered)', 100),
      click_rate: ratio('sum(clicked)', 'sum(delivered)', 100),
      click_to_open_rate: ratio('sum(clicked)', 'sum(opened)', 100),
      reply_rate: ratio('sum(replied)', 'sum(delivered)', 100),
      bounce_rate: ratio('sum(bounced)', 'sum(sent)', 100),
      unsubscribe_rate: ratio('sum(unsubscribed)', 'sum(delivered)', 100),
      spam_rate: ratio('sum(spam_complaints)', 'sum(delivered)', 100),
      count: 'count()',
      mailboxes_used: 'uniqExact(mailbox)',
      campaigns_used: 'uniqExact(email_campaign_id)',
      domains_used: "uniqExact(substring(mailbox, position(mailbox, '@') + 1))",
      emails_per_mailbox: ratio('sum(sent)', 'uniqExact(mailbox)'),
      emails_per_campaign: ratio('sum(sent)', 'uniqExact(email_campaign_id)'),
    },
  },
  ...OUTREACH_ORACLES,
  ...CLIENT_HEALTH_ORACLES,
  ...LIFECYCLE_SOCIAL_ORACLES,
  web_sessions: {
    from: 'web_sessions',
    time: { member: 'web_sessions.started_at', column: 'started_at' },
    // The model's `case` dimension, re-derived from medium.
    dimension: {
      member: 'web_sessions.channel_group',
      expr: `multiIf(medium = 'cpc', 'Paid search', medium = 'paid_social', 'Paid social', medium IN ('display', 'video'), 'Display & video',
                     medium = 'organic', 'Organic search', medium = 'email', 'Email', medium = 'referral', 'Referral', 'Direct')`,
    },
    measures: {
      sessions: 'count()',
      users: 'uniqExact(user_id)',
      pageviews: 'sum(pageviews)',
      bounces: 'sum(bounced)',
      total_duration_seconds: 'sum(duration_seconds)',
      transactions: 'sum(transactions)',
      revenue: 'sum(revenue)',
      bounce_rate: ratio('sum(bounced)', 'count()', 100),
      avg_session_duration: ratio('sum(duration_seconds)', 'count()'),
      pageviews_per_session: ratio('sum(pageviews)', 'count()'),
      sessions_per_user: ratio('count()', 'uniqExact(user_id)'),
      ecommerce_conversion_rate: ratio('sum(transactions)', 'count()', 100),
      revenue_per_session: ratio('sum(revenue)', 'count()'),
      average_order_value: ratio('sum(revenue)', 'sum(transactions)'),
    },
  },
};

/**
 * Raw SQL for one tenant: the oracle's measures as m0…mN, grouped by the dimension (k_dim) and the
 * month (k_month) when `grouped`, restricted to [from, to] (days, inclusive, UTC) when given.
 */
export function oracleSql(o: CubeOracle, tenant: string, opts: { grouped: boolean; range?: readonly [string, string] }): string {
  const measures = Object.values(o.measures).map((sql, i) => `${sql} AS m${i}`);
  const keys = opts.grouped ? [`${o.dimension.expr} AS k_dim`, `toString(toStartOfMonth(${o.time.column})) AS k_month`] : [];
  const where = [`tenant_id = '${tenant}'`];
  if (opts.range) where.push(`toDate(${o.time.column}) BETWEEN toDate('${opts.range[0]}') AND toDate('${opts.range[1]}')`);
  return `SELECT ${[...keys, ...measures].join(', ')} FROM ${o.from} WHERE ${where.join(' AND ')}${opts.grouped ? ' GROUP BY k_dim, k_month' : ''}`;
}
