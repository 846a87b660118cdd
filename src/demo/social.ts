/**
 * Social and monitoring for the demo (specification 004): published posts, brand and competitor
 * mentions with a sentiment mix, daily follower changes, influencer partnerships (rows built here)
 * and marketing-automation workflow runs. Per-tenant parameters are plan rows; the SQL expands
 * them over the window inside ClickHouse with the same hashing as facts.ts. Own PRNG streams.
 *
 * Posts, audience and partnerships do not scale (like campaigns); mentions and runs scale with
 * max(scale, 0.1), so the test warehouse still has a few per day.
 */
import { createRng } from './prng.js';
import { demoCalendar } from './dates.js';
import { dayFactorSql } from './day-factor.js';
import type { Row } from './demo-plan.js';
import { stochasticRound, u } from './facts.js';
import { DEMO_TENANTS, type DemoTenant } from './tenants.js';
import type { DemoWindow } from './window.js';

interface SocialProfile {
  readonly networks: Readonly<Record<string, number>>;
  readonly postsPerDay: number;
  readonly followers: number;
  readonly mentionsPerDay: number;
  /** positive, neutral, negative */
  readonly sentiment: readonly [number, number, number];
  readonly ownShare: number;
  readonly competitors: readonly string[];
  readonly topics: readonly string[];
  readonly partnerships: number;
}

const PROFILES: Readonly<Record<string, SocialProfile>> = {
  acme: {
    networks: { instagram: 0.35, tiktok: 0.25, facebook: 0.2, x: 0.1, youtube: 0.1 },
    postsPerDay: 3,
    followers: 120_000,
    mentionsPerDay: 25,
    sentiment: [0.45, 0.4, 0.15],
    ownShare: 0.5,
    competitors: ['Zenith Sports', 'Northwind Outfitters'],
    topics: ['product quality', 'shipping', 'pricing', 'sale', 'customer service', 'sizing'],
    partnerships: 40,
  },
  globex: {
    networks: { linkedin: 0.5, x: 0.3, youtube: 0.1, facebook: 0.1 },
    postsPerDay: 1.5,
    followers: 35_000,
    mentionsPerDay: 8,
    sentiment: [0.35, 0.5, 0.15],
    ownShare: 0.4,
    competitors: ['Umbra Analytics', 'Vandelay Data'],
    topics: ['features', 'pricing', 'integrations', 'support', 'outage', 'webinar'],
    partnerships: 18,
  },
  initech: {
    networks: { instagram: 0.4, facebook: 0.25, tiktok: 0.15, youtube: 0.1, x: 0.1 },
    postsPerDay: 2.5,
    followers: 80_000,
    mentionsPerDay: 18,
    sentiment: [0.4, 0.3, 0.3],
    ownShare: 0.55,
    competitors: ['Wanderly', 'Skyway Travel'],
    topics: ['delays', 'refunds', 'destinations', 'deals', 'customer service', 'booking app'],
    partnerships: 30,
  },
};

const cum = (ws: readonly number[]) => {
  const total = ws.reduce((s, w) => s + w, 0);
  let acc = 0;
  return ws.map((w, i) => (i === ws.length - 1 ? 1 : (acc += w / total)));
};

export interface SocialPlan {
  /** One row per tenant: the parameters of posts, mentions and audience. */
  readonly tenantPlan: Row[];
  /** One row per automation workflow. */
  readonly workflowPlan: Row[];
  /** influencer_partnerships rows. */
  readonly partnerships: Row[];
}

export function buildSocialPlan(seed: number, scale: number, window: DemoWindow): SocialPlan {
  const tenantPlan: Row[] = [];
  const workflowPlan: Row[] = [];
  const partnerships: Row[] = [];
  const volume = Math.max(scale, 0.1);
  for (const t of DEMO_TENANTS) {
    const p = PROFILES[t.id];
    if (!p) continue;
    const networks = Object.keys(p.networks);
    tenantPlan.push({
      tenant_id: t.id,
      id_prefix: t.idPrefix,
      handle: `@${t.id}`,
      networks,
      network_cum: cum(Object.values(p.networks)),
      posts_per_day: p.postsPerDay,
      followers: p.followers,
      mentions_per_day: p.mentionsPerDay * volume,
      sentiment_cum: cum(p.sentiment),
      own_share: p.ownShare,
      brands: [t.brand, ...p.competitors],
      topics: [...p.topics],
      weekend_factor: t.weekendFactor,
      season_amp: t.seasonAmplitude,
      season_peak: t.seasonPeakDay,
      growth: t.growth,
    });
    workflowPlan.push(...workflows(seed, t, volume, window));
    partnerships.push(...buildPartnerships(seed, t, p, window));
  }
  return { tenantPlan, workflowPlan, partnerships };
}

const TEMPLATES = [
  ['lead_routing', 'Route new leads to sales', 'event', 6, 4],
  ['welcome_series', 'Welcome series enrolment', 'event', 8, 3],
  ['budget_alert', 'Budget pacing alert', 'schedule', 1, 10],
  ['report_digest', 'Weekly report digest', 'schedule', 0.15, 45],
  ['social_scheduler', 'Publish scheduled posts', 'schedule', 3, 6],
  ['mention_triage', 'Triage negative mentions', 'event', 5, 5],
  ['audience_sync', 'Sync audiences to ad platforms', 'schedule', 1, 20],
  ['manual_export', 'Export to the CRM', 'manual', 0.3, 15],
] as const;

function workflows(seed: number, t: DemoTenant, volume: number, window: DemoWindow): Row[] {
  const rng = createRng(seed, `workflows:${t.id}`);
  const { dayToDate } = demoCalendar(window.startMs);
  const n = rng.int(5, TEMPLATES.length);
  return TEMPLATES.slice(0, n).map(([template, name, trigger, runsPerDay, minutesSaved], i) => ({
    tenant_id: t.id,
    workflow_num: t.idPrefix * 100 + i + 1,
    workflow_id: `${t.id}-wfl-${t.idPrefix * 100 + i + 1}`,
    workflow_name: name,
    template,
    trigger_type: trigger,
    first_day: dayToDate(rng.int(0, 300)),
    runs_per_day: runsPerDay * volume * (0.6 + 0.8 * rng.next()),
    failure_rate: Math.round((0.01 + 0.08 * rng.next()) * 1000) / 1000,
    duration_ms: rng.int(400, 20_000),
    actions: rng.int(1, 12),
    minutes_saved: minutesSaved,
    weekend_factor: trigger === 'event' ? t.weekendFactor : 1,
    season_amp: t.seasonAmplitude,
    season_peak: t.seasonPeakDay,
    growth: t.growth,
  }));
}

const FIRST = ['Alex', 'Sam', 'Jordan', 'Maya', 'Leo', 'Nina', 'Priya', 'Tom', 'Lena', 'Chris', 'Ava', 'Marco', 'Zoe', 'Ivan'];
const LAST = ['Rivera', 'Chen', 'Okafor', 'Novak', 'Silva', 'Larsen', 'Mehta', 'Brooks', 'Rossi', 'Kim', 'Duarte', 'Walsh'];
const TIERS = {
  nano: { followers: [2_000, 10_000], fee: [150, 800] },
  micro: { followers: [10_000, 100_000], fee: [800, 5_000] },
  mid: { followers: [100_000, 500_000], fee: [5_000, 15_000] },
  macro: { followers: [500_000, 1_000_000], fee: [15_000, 50_000] },
  mega: { followers: [1_000_000, 5_000_000], fee: [50_000, 150_000] },
} as const;

function buildPartnerships(seed: number, t: DemoTenant, p: SocialProfile, window: DemoWindow): Row[] {
  const rng = createRng(seed, `influencers:${t.id}`);
  const { dayToDate } = demoCalendar(window.startMs);
  const last = window.days - 1;
  const rows: Row[] = [];
  for (let i = 0; i < p.partnerships; i++) {
    const tier = rng.weighted({ nano: 0.3, micro: 0.35, mid: 0.2, macro: 0.1, mega: 0.05 });
    const spec = TIERS[tier];
    const followers = rng.int(spec.followers[0], spec.followers[1]);
    const start = rng.int(0, last - 5);
    const end = start + rng.int(14, 90);
    const status = start > last - 20 && rng.chance(0.5) ? 'proposed' : end > last ? 'active' : rng.chance(0.1) ? 'canceled' : 'completed';
    const planned = rng.int(2, 8);
    const elapsed = Math.min(1, (last - start) / (end - start));
    const completed =
      status === 'completed'
        ? planned - (rng.chance(0.2) ? 1 : 0)
        : status === 'active'
          ? Math.floor(planned * elapsed)
          : status === 'canceled'
            ? rng.int(0, Math.floor(planned / 2))
            : 0;
    const fee = Math.round(spec.fee[0] + (spec.fee[1] - spec.fee[0]) * rng.next());
    const impressions = Math.round(completed * followers * (0.15 + 0.35 * rng.next()));
    const engagements = Math.round(impressions * (0.01 + 0.06 * rng.next()));
    const conversions = Math.round(engagements * (0.005 + 0.03 * rng.next()));
    const first = rng.pick(FIRST);
    const lastName = rng.pick(LAST);
    rows.push({
      tenant_id: t.id,
      partnership_id: `${t.id}-inf-${t.idPrefix * 1000 + i + 1}`,
      influencer_name: `${first} ${lastName}`,
      influencer_handle: `@${first}${lastName}`.toLowerCase(),
      network: rng.weighted(p.networks),
      tier,
      status,
      start_date: dayToDate(start),
      end_date: dayToDate(end),
      fee,
      attributed_revenue: Math.round(conversions * t.averageValue * (0.6 + 0.8 * rng.next()) * 100) / 100,
      deliverables_planned: planned,
      deliverables_completed: completed,
      impressions,
      engagements,
      conversions,
    });
  }
  return rows;
}

export const SOCIAL_PLAN_TABLES = {
  _demo_social_plan: `CREATE TABLE IF NOT EXISTS _demo_social_plan (
    tenant_id String, id_prefix UInt8, handle String, networks Array(String), network_cum Array(Float64), posts_per_day Float64,
    followers Float64, mentions_per_day Float64, sentiment_cum Array(Float64), own_share Float64, brands Array(String),
    topics Array(String), weekend_factor Float64, season_amp Float64, season_peak Float64, growth Float64
  ) ENGINE = Memory`,
  _demo_workflow_plan: `CREATE TABLE IF NOT EXISTS _demo_workflow_plan (
    tenant_id String, workflow_num UInt64, workflow_id String, workflow_name String, template String, trigger_type String,
    first_day Date, runs_per_day Float64, failure_rate Float64, duration_ms Float64, actions Float64, minutes_saved Float64,
    weekend_factor Float64, season_amp Float64, season_peak Float64, growth Float64
  ) ENGINE = Memory`,
} as const;

/** Each tenant's days: day_n (day number), date, f (the day factor), hd (a hash of the tenant-day). */
const TENANT_DAYS = `
  SELECT *, d AS day_n, addDays({start:Date}, d) AS date, ${dayFactorSql('addDays({start:Date}, d)')} AS f,
    sipHash64({seed:UInt64}, 'social', tenant_id, addDays({start:Date}, d)) AS hd
  FROM _demo_social_plan
  ARRAY JOIN range(toUInt32(dateDiff('day', {start:Date}, {end:Date}) + 1)) AS d`;

export const SOCIAL_POSTS_SQL = `
INSERT INTO social_posts (tenant_id, post_id, published_at, network, account, content_type, status, scheduled, campaign_id,
  impressions, reach, likes, comments, shares, saves, link_clicks, video_views)
SELECT tenant_id, post_id, published_at, network, account, content_type, status, scheduled, '' AS campaign_id,
  impressions, reach, likes, comments, shares, saves, link_clicks, video_views
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'post', tenant_id, date, j) AS h,
    concat(tenant_id, '-pst-', toString(id_prefix * 100000000 + day_n * 100 + j)) AS post_id,
    toDateTime(date, 'UTC') + toIntervalSecond(toUInt32(25200 + floor(${u('h', 101)} * 50400))) AS published_at,
    networks[arrayFirstIndex(c -> c >= ${u('h', 102)}, network_cum)] AS network,
    concat(handle, if(network = 'linkedin', '-company', '')) AS account,
    multiIf(network IN ('tiktok', 'youtube'), 'video',
            network = 'instagram', ['image', 'carousel', 'reel', 'story'][1 + intHash64(h + 103) % 4],
            network = 'x', ['text', 'image', 'link'][1 + intHash64(h + 103) % 3],
            ['image', 'link', 'video', 'text'][1 + intHash64(h + 103) % 4]) AS content_type,
    if(${u('h', 104)} < 0.03, 'failed', 'published') AS status,
    toUInt8(${u('h', 105)} < 0.7) AS scheduled,
    if(status = 'failed', 0, toUInt64(followers * (1 + growth * day_n / 730) * (0.08 + 0.5 * ${u('h', 106)})
       * multiIf(content_type IN ('reel', 'video'), 1.6, content_type = 'story', 0.5, 1))) AS impressions,
    toUInt64(impressions * (0.55 + 0.3 * ${u('h', 107)})) AS reach,
    toUInt32(impressions * multiIf(network = 'linkedin', 0.012, network = 'x', 0.008, 0.03) * (0.4 + 1.2 * ${u('h', 108)})) AS likes,
    toUInt32(likes * (0.02 + 0.06 * ${u('h', 109)})) AS comments,
    toUInt32(likes * (0.03 + 0.1 * ${u('h', 110)})) AS shares,
    toUInt32(likes * if(network = 'instagram', 0.05 + 0.1 * ${u('h', 111)}, 0.01)) AS saves,
    toUInt32(impressions * if(content_type = 'link', 0.012, 0.003) * (0.5 + ${u('h', 112)})) AS link_clicks,
    toUInt64(if(content_type IN ('video', 'reel'), impressions * (0.3 + 0.4 * ${u('h', 113)}), 0)) AS video_views
  FROM (SELECT *, ${stochasticRound('posts_per_day * f', 'hd', 100)} AS n_rows FROM (${TENANT_DAYS}))
  ARRAY JOIN range(n_rows) AS j
)`;

export const SOCIAL_MENTIONS_SQL = `
INSERT INTO social_mentions (tenant_id, mention_id, mentioned_at, source, brand, own_brand, topic, sentiment, sentiment_score,
  author_followers, responded, response_minutes)
SELECT tenant_id, mention_id, mentioned_at, source, brand, own_brand, topic, sentiment, sentiment_score,
  author_followers, responded, response_minutes
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'mention', tenant_id, date, j) AS h,
    concat(tenant_id, '-mnt-', toString(id_prefix * 100000000 + day_n * 10000 + j)) AS mention_id,
    toDateTime(date, 'UTC') + toIntervalSecond(toUInt32(floor(${u('h', 121)} * 86400))) AS mentioned_at,
    ['x', 'reddit', 'news', 'blog', 'instagram', 'tiktok', 'youtube', 'forum'][1 + intHash64(h + 122) % 8] AS source,
    toUInt8(${u('h', 123)} < own_share) AS own_brand,
    if(own_brand, brands[1], brands[2 + intHash64(h + 124) % (length(brands) - 1)]) AS brand,
    topics[1 + intHash64(h + 125) % length(topics)] AS topic,
    ${u('h', 126)} AS us,
    multiIf(us < sentiment_cum[1], 'positive', us < sentiment_cum[2], 'neutral', 'negative') AS sentiment,
    round(multiIf(sentiment = 'positive', 0.3 + 0.7 * ${u('h', 127)}, sentiment = 'neutral', -0.25 + 0.5 * ${u('h', 127)},
                  -0.3 - 0.7 * ${u('h', 127)}), 3) AS sentiment_score,
    toUInt32(floor(exp(2 + 10 * pow(${u('h', 128)}, 2)))) AS author_followers,
    toUInt8(own_brand AND ${u('h', 129)} < if(sentiment = 'negative', 0.75, 0.3)) AS responded,
    toUInt32(if(responded, 5 + floor(-log(${u('h', 130)} + 0.000001) * if(sentiment = 'negative', 60, 240)), 0)) AS response_minutes
  FROM (SELECT *, ${stochasticRound('mentions_per_day * f', 'hd', 120)} AS n_rows FROM (${TENANT_DAYS}))
  ARRAY JOIN range(n_rows) AS j
)`;

export const SOCIAL_AUDIENCE_SQL = `
INSERT INTO social_audience (tenant_id, date, network, followers_gained, followers_lost)
SELECT tenant_id, date, network, followers_gained, followers_lost
FROM (
  SELECT *, net AS network,
    sipHash64({seed:UInt64}, 'audience', tenant_id, date, network) AS h,
    network_cum[indexOf(networks, network)] - if(indexOf(networks, network) = 1, 0, network_cum[indexOf(networks, network) - 1]) AS share,
    toUInt32(floor(followers * 0.0015 * share * f * (0.4 + 1.2 * ${u('h', 141)}))) AS followers_gained,
    toUInt32(floor(followers_gained * (0.15 + 0.6 * ${u('h', 142)}) + if(${u('h', 143)} < 0.03, followers * 0.002 * share, 0))) AS followers_lost
  FROM (${TENANT_DAYS})
  ARRAY JOIN networks AS net
)`;

export const AUTOMATION_RUNS_SQL = `
INSERT INTO automation_runs (tenant_id, run_id, started_at, workflow_id, workflow_name, template, trigger_type, status,
  duration_ms, actions, minutes_saved)
SELECT tenant_id, run_id, started_at, workflow_id, workflow_name, template, trigger_type, status, run_ms, run_actions, saved
FROM (
  SELECT *,
    sipHash64({seed:UInt64}, 'run', workflow_id, date, j) AS h,
    concat(tenant_id, '-run-', toString(workflow_num * 10000000 + dateDiff('day', {start:Date}, date) * 1000 + j)) AS run_id,
    toDateTime(date, 'UTC') + toIntervalSecond(toUInt32(floor(${u('h', 151)} * 86400))) AS started_at,
    ${u('h', 152)} AS us,
    multiIf(us < failure_rate, 'failed', us < failure_rate + 0.01, 'canceled', 'succeeded') AS status,
    toUInt32(duration_ms * (0.4 + 1.2 * ${u('h', 153)}) * if(status = 'failed', 1.8, 1)) AS run_ms,
    toUInt16(if(status = 'succeeded', actions, floor(actions * ${u('h', 154)}))) AS run_actions,
    if(status = 'succeeded', minutes_saved, 0) AS saved
  FROM (
    SELECT *, ${stochasticRound('runs_per_day * f', 'hd', 150)} AS n_rows
    FROM (
      SELECT *, addDays(first_day, d) AS date, ${dayFactorSql('addDays(first_day, d)')} AS f,
        sipHash64({seed:UInt64}, workflow_id, addDays(first_day, d)) AS hd
      FROM _demo_workflow_plan
      ARRAY JOIN range(toUInt32(dateDiff('day', first_day, {end:Date}) + 1)) AS d
    )
  )
  ARRAY JOIN range(n_rows) AS j
)`;
