/**
 * The fact tables are generated inside ClickHouse: each plan row (a campaign, a tenant, an
 * email campaign) is expanded over its active days and then into N rows a day. Every random
 * number is a hash of ({seed}, the row's natural key, a salt), so the output depends only on
 * the seed and the plan — never on thread scheduling or insert order.
 * Funnels hold by construction: clicks <= impressions, conversions <= clicks, delivered <= sent...
 */
import { dayFactorSql } from './day-factor.js';
import { AD_NAMES_SQL, geoSql } from './geo.js';

/**
 * Uniform [0,1) from a per-row hash column and a salt. The row hash (sipHash64 of the seed and
 * the row's natural key) is computed once per row; salts are mixed in with the cheap intHash64.
 */
export function u(hash: string, salt: number): string {
  return `(intHash64(${hash} + ${salt}) % 1000000) / 1000000.0`;
}

/** floor(x) plus one more with probability frac(x): integer counts whose mean is x. */
export function stochasticRound(x: string, hash: string, salt: number): string {
  return `toUInt32(floor(${x}) + (${u(hash, salt)} < (${x}) - floor(${x})))`;
}

export const PLAN_TABLES = {
  _demo_campaign_plan: `CREATE TABLE IF NOT EXISTS _demo_campaign_plan (
    tenant_id String, tenant_idx UInt8, campaign_id String, campaign_num UInt64, platform String, account_id String,
    type String, first_day Date, last_day Date, ctr Float64, cpc Float64, cvr Float64, avg_value Float64,
    video_rate Float64, engagement_rate Float64, ad_groups UInt32, daily_impressions Float64, source String, medium String,
    countries Array(String), country_cum Array(Float64), country_weight Array(Float64), mobile_share Float64,
    weekend_factor Float64, season_amp Float64, season_peak Float64, growth Float64, landing_pages Array(String),
    tx_rate Float64, conv_types Array(String), conv_cum Array(Float64), attr_models Array(String), attr_cum Array(Float64),
    user_prefix UInt64, user_pool UInt64, rows_per_day Float64, row_impressions Float64, sessions_per_day Float64,
    conversions_per_day Float64
  ) ENGINE = Memory`,
  _demo_tenant_plan: `CREATE TABLE IF NOT EXISTS _demo_tenant_plan (
    tenant_id String, tenant_idx UInt8, countries Array(String), country_cum Array(Float64), country_weight Array(Float64),
    mobile_share Float64, weekend_factor Float64, season_amp Float64, season_peak Float64, growth Float64,
    landing_pages Array(String), tx_rate Float64, avg_value Float64, conv_types Array(String), conv_cum Array(Float64),
    attr_models Array(String), attr_cum Array(Float64), user_prefix UInt64, user_pool UInt64, sessions_per_day Float64
  ) ENGINE = Memory`,
  _demo_email_plan: `CREATE TABLE IF NOT EXISTS _demo_email_plan (
    tenant_id String, tenant_idx UInt8, email_campaign_id String, email_campaign_name String, steps UInt8,
    first_day Date, last_day Date, sends_per_row Float64, domain String, bounce_rate Float64, open_rate Float64,
    click_rate Float64, reply_rate Float64, unsub_rate Float64, spam_rate Float64, weekend_factor Float64,
    season_amp Float64, season_peak Float64, growth Float64, rows_per_day Float64,
    mailboxes Array(String), ab_step UInt8, variant_lift Float64
  ) ENGINE = Memory`,
} as const;

export const CAMPAIGN_DAYS = `
  SELECT *, addDays(first_day, d) AS date, ${dayFactorSql('addDays(first_day, d)')} AS f,
    sipHash64({seed:UInt64}, campaign_id, addDays(first_day, d)) AS hd
  FROM _demo_campaign_plan
  ARRAY JOIN range(toUInt32(dateDiff('day', first_day, last_day) + 1)) AS d`;

const AD_KEY = 'h';

export const AD_PERFORMANCE_SQL = `
INSERT INTO ad_performance (tenant_id, date, platform, account_id, campaign_id, ad_group_id, ad_id, country, device,
  impressions, clicks, cost, conversions, conversion_value, video_views, engagements, region, city, ad_group_name, ad_name)
SELECT tenant_id, date, platform, account_id, campaign_id,
  concat(tenant_id, '-adg-', toString(campaign_num * 100 + ag)) AS ad_group_id,
  concat(tenant_id, '-ad-', toString(campaign_num * 10000 + ag * 100 + ad_n)) AS ad_id,
  country, device, impressions, clicks, cost, conversions, conversion_value, video_views, engagements, region, city, ad_group_name, ad_name
FROM (
  SELECT *,
    -- names and the city follow from the ids and the row hash: no existing column changes
    ${AD_NAMES_SQL},
    ${geoSql('country', `intHash64(${AD_KEY} + 90)`)},
    sipHash64({seed:UInt64}, campaign_id, date, j) AS h,
    j % 3 AS device_idx,
    intDiv(j, 3) % length(countries) AS country_idx,
    intDiv(j, 3 * length(countries)) AS ad_slot,
    ad_slot % ad_groups + 1 AS ag,
    intDiv(ad_slot, ad_groups) + 1 AS ad_n,
    ['mobile', 'desktop', 'tablet'][device_idx + 1] AS device,
    countries[country_idx + 1] AS country,
    3 * multiIf(device_idx = 0, mobile_share, device_idx = 1, (1 - mobile_share) * 0.85, (1 - mobile_share) * 0.15) AS device_w,
    toUInt64(floor(row_impressions * f * device_w * country_weight[country_idx + 1] * (0.5 + ${u(AD_KEY, 1)}))) AS impressions,
    least(impressions, toUInt64(floor(impressions * ctr * (0.6 + 0.8 * ${u(AD_KEY, 2)}) + ${u(AD_KEY, 3)}))) AS clicks,
    round(clicks * cpc * (0.75 + 0.5 * ${u(AD_KEY, 4)}) + impressions * 0.0004 * ${u(AD_KEY, 5)}, 2) AS cost,
    least(clicks, toUInt64(floor(clicks * cvr * (0.6 + 0.8 * ${u(AD_KEY, 6)}) + ${u(AD_KEY, 7)}))) AS conversions,
    round(conversions * avg_value * (0.6 + 0.8 * ${u(AD_KEY, 8)}), 2) AS conversion_value,
    toUInt64(floor(impressions * video_rate * (0.7 + 0.6 * ${u(AD_KEY, 9)}))) AS video_views,
    toUInt64(floor(impressions * engagement_rate * (0.5 + ${u(AD_KEY, 10)}))) AS engagements
  FROM (
    SELECT *, ${stochasticRound('rows_per_day', 'hd', 11)} AS n_rows
    FROM (${CAMPAIGN_DAYS})
  )
  ARRAY JOIN range(n_rows) AS j
)`;

const SESSION_COLUMNS = `tenant_id, session_id, started_at, user_id, source, medium, utm_campaign, landing_page, device, country,
  pageviews, duration_seconds, bounced, transactions, revenue`;

/** Session attributes shared by paid and organic sessions; `key` is the row hash column. */
function sessionAttributes(key: string, bounceRate: number): string {
  return `
    toDateTime(date, 'UTC') + toIntervalSecond(toUInt32(if(${u(key, 21)} < 0.8, 25200 + floor(${u(key, 22)} * 54000), floor(${u(key, 22)} * 86400)))) AS started_at,
    concat(tenant_id, '-usr-', toString(user_prefix + intHash64(${key} + 20) % user_pool)) AS user_id,
    landing_pages[1 + intHash64(${key} + 23) % length(landing_pages)] AS landing_page,
    multiIf(${u(key, 24)} < mobile_share, 'mobile', ${u(key, 24)} < mobile_share + (1 - mobile_share) * 0.85, 'desktop', 'tablet') AS device,
    countries[arrayFirstIndex(c -> c >= ${u(key, 25)}, country_cum)] AS country,
    toUInt8(${u(key, 26)} < ${bounceRate}) AS bounced,
    toUInt32(if(bounced, 1, 2 + least(38, floor(-log(${u(key, 27)} + 0.000001) * 3)))) AS pageviews,
    toUInt32(if(bounced, floor(${u(key, 28)} * 25), pageviews * (20 + floor(${u(key, 28)} * 90)))) AS duration_seconds,
    toUInt32(if(bounced, 0, (${u(key, 29)} < tx_rate) * if(${u(key, 30)} < 0.1, 2, 1))) AS transactions,
    round(transactions * avg_value * (0.5 + ${u(key, 31)}), 2) AS revenue`;
}

const PAID_KEY = 'h';

export const PAID_SESSIONS_SQL = `
INSERT INTO web_sessions (${SESSION_COLUMNS})
SELECT ${SESSION_COLUMNS}
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'paid', campaign_id, date, j) AS h,
    concat(tenant_id, '-ses-', lower(hex(sipHash128({seed:UInt64}, 'paid', campaign_id, date, j)))) AS session_id,
    campaign_id AS utm_campaign,
    ${sessionAttributes(PAID_KEY, 0.45)}
  FROM (
    SELECT *, ${stochasticRound('sessions_per_day * f', 'hd', 12)} AS n_rows
    FROM (${CAMPAIGN_DAYS})
  )
  ARRAY JOIN range(n_rows) AS j
)`;

const ORGANIC_KEY = 'h';

export const ORGANIC_SESSIONS_SQL = `
INSERT INTO web_sessions (${SESSION_COLUMNS})
SELECT ${SESSION_COLUMNS}
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'organic', tenant_id, date, j) AS h,
    concat(tenant_id, '-ses-', lower(hex(sipHash128({seed:UInt64}, 'organic', tenant_id, date, j)))) AS session_id,
    ${u(ORGANIC_KEY, 40)} AS us,
    multiIf(us < 0.45, 'google', us < 0.5, 'bing', us < 0.75, '(direct)', us < 0.87, 'newsletter',
      ['g2.com', 'reddit.com', 'news.ycombinator.com', 'partner-blog.example'][1 + intHash64(h + 41) % 4]) AS source,
    multiIf(us < 0.5, 'organic', us < 0.75, '(none)', us < 0.87, 'email', 'referral') AS medium,
    '' AS utm_campaign,
    ${sessionAttributes(ORGANIC_KEY, 0.38)}
  FROM (
    SELECT *, ${stochasticRound('sessions_per_day * f', 'hd', 13)} AS n_rows
    FROM (
      SELECT *, addDays({start:Date}, d) AS date, ${dayFactorSql('addDays({start:Date}, d)')} AS f,
        sipHash64({seed:UInt64}, tenant_id, addDays({start:Date}, d)) AS hd
      FROM _demo_tenant_plan
      ARRAY JOIN range(toUInt32(dateDiff('day', {start:Date}, {end:Date}) + 1)) AS d
    )
  )
  ARRAY JOIN range(n_rows) AS j
)`;

const CONV_KEY = 'h';

export const CONVERSIONS_SQL = `
INSERT INTO conversions (tenant_id, conversion_id, occurred_at, conversion_type, value, campaign_id, platform, attribution_model)
SELECT tenant_id, conversion_id, occurred_at, conversion_type, value, campaign_id, platform, attribution_model
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'conversion', campaign_id, date, j) AS h,
    concat(tenant_id, '-cnv-', lower(hex(sipHash128({seed:UInt64}, 'conversion', campaign_id, date, j)))) AS conversion_id,
    toDateTime(date, 'UTC') + toIntervalSecond(toUInt32(floor(${u(CONV_KEY, 50)} * 86400))) AS occurred_at,
    conv_types[arrayFirstIndex(c -> c >= ${u(CONV_KEY, 51)}, conv_cum)] AS conversion_type,
    round(multiIf(conversion_type = 'purchase', avg_value * (0.4 + 1.2 * ${u(CONV_KEY, 52)}),
                  conversion_type = 'signup', 0,
                  conversion_type = 'lead', avg_value * 0.3 * (0.5 + ${u(CONV_KEY, 52)}),
                  avg_value * 0.8 * (0.5 + ${u(CONV_KEY, 52)})), 2) AS value,
    attr_models[arrayFirstIndex(c -> c >= ${u(CONV_KEY, 53)}, attr_cum)] AS attribution_model
  FROM (
    SELECT *, ${stochasticRound('conversions_per_day * f', 'hd', 14)} AS n_rows
    FROM (${CAMPAIGN_DAYS})
  )
  ARRAY JOIN range(n_rows) AS j
)`;

const EMAIL_KEY = 'h';

export const EMAIL_SQL = `
INSERT INTO email_activity (tenant_id, date, email_campaign_id, email_campaign_name, sequence_step, mailbox, variant,
  sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_complaints)
SELECT tenant_id, date, email_campaign_id, email_campaign_name, sequence_step, mailbox, variant,
  sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_complaints
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, email_campaign_id, date, j) AS h,
    toUInt8(j % steps + 1) AS sequence_step,
    -- the campaign's mailbox pool (email-outreach.ts); a tested step sends variant A or B
    mailboxes[1 + intDiv(j, steps) % length(mailboxes)] AS mailbox,
    if(sequence_step = ab_step, if(${u(EMAIL_KEY, 73)} < 0.5, 'A', 'B'), 'A') AS variant,
    toUInt32(1 + floor(sends_per_row * f * pow(0.85, sequence_step - 1) * (0.6 + 0.8 * ${u(EMAIL_KEY, 60)}))) AS sent,
    toUInt32(least(sent, floor(sent * bounce_rate * (0.5 + ${u(EMAIL_KEY, 61)}) + ${u(EMAIL_KEY, 62)}))) AS bounced,
    toUInt32(sent - bounced) AS delivered,
    toUInt32(least(delivered, floor(delivered * open_rate * if(variant = 'B', variant_lift, 1) * (0.7 + 0.6 * ${u(EMAIL_KEY, 63)}) + ${u(EMAIL_KEY, 64)}))) AS opened,
    toUInt32(least(opened, floor(opened * click_rate * (0.6 + 0.8 * ${u(EMAIL_KEY, 65)}) + ${u(EMAIL_KEY, 66)}))) AS clicked,
    toUInt32(least(delivered, floor(delivered * reply_rate * if(sequence_step = 1, 1.3, 0.8) * (0.5 + ${u(EMAIL_KEY, 67)}) + ${u(EMAIL_KEY, 68)}))) AS replied,
    toUInt32(least(delivered, floor(delivered * unsub_rate * (0.5 + ${u(EMAIL_KEY, 69)}) + ${u(EMAIL_KEY, 70)}))) AS unsubscribed,
    toUInt32(least(delivered, floor(delivered * spam_rate * (0.5 + ${u(EMAIL_KEY, 71)}) + ${u(EMAIL_KEY, 72)}))) AS spam_complaints
  FROM (
    SELECT *, least(steps * length(mailboxes), ${stochasticRound('rows_per_day * f', 'hd', 15)}) AS n_rows
    FROM (
      SELECT *, addDays(first_day, d) AS date, ${dayFactorSql('addDays(first_day, d)')} AS f,
        sipHash64({seed:UInt64}, email_campaign_id, addDays(first_day, d)) AS hd
      FROM _demo_email_plan
      ARRAY JOIN range(toUInt32(dateDiff('day', first_day, last_day) + 1)) AS d
    )
  )
  ARRAY JOIN range(n_rows) AS j
)`;
