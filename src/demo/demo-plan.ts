/**
 * The demo plan, built in JS from a seeded PRNG: the entity tables (campaigns, clients) as rows,
 * and per-entity generation parameters that the SQL in facts.ts expands into millions of fact
 * rows inside ClickHouse. Pure: same (seed, scale, window) -> same plan.
 */
import { demoCalendar, type DemoCalendar } from './dates.js';
import { createRng, type Rng } from './prng.js';
import { meanDayFactor, type DayShape } from './day-factor.js';
import { DEMO_DAYS, DEMO_TENANTS, PLATFORM_PROFILES, type DemoTenant, type PlatformCode } from './tenants.js';
import type { DemoWindow } from './window.js';

/** Fact rows at scale 1 (≈1.1M in total); `scale` multiplies all of them. */
export const ROW_TARGETS = {
  ad_performance: 660_000,
  paid_sessions: 130_000,
  organic_sessions: 180_000,
  conversions: 90_000,
  email_activity: 45_000,
} as const;

export type Row = Record<string, unknown>;

export interface DemoPlan {
  readonly campaigns: Row[];
  readonly clients: Row[];
  readonly campaignPlan: Row[];
  readonly tenantPlan: Row[];
  readonly emailPlan: Row[];
}

interface Flight {
  readonly startDay: number;
  readonly endDay: number | null;
  readonly lastActiveDay: number;
  readonly status: 'active' | 'paused' | 'ended';
}

const THEMES = [
  'Brand',
  'Prospecting',
  'Retargeting',
  'Spring Launch',
  'Summer Sale',
  'Back to School',
  'Black Friday',
  'Holiday',
  'New Year',
  'Always-on Generic',
  'Competitor',
  'Lookalike',
  'Webinar',
  'Product Launch',
];
const OBJECTIVE_BY_TYPE: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  search: { sales: 0.6, leads: 0.4 },
  shopping: { sales: 1 },
  performance_max: { sales: 0.7, leads: 0.3 },
  display: { awareness: 0.5, traffic: 0.5 },
  video: { awareness: 0.8, traffic: 0.2 },
  social: { traffic: 0.35, leads: 0.35, awareness: 0.2, app_installs: 0.1 },
};
const TYPE_EFFECT: Readonly<Record<string, { ctr: number; cpc: number; cvr: number; video: number }>> = {
  search: { ctr: 1, cpc: 1, cvr: 1, video: 0 },
  shopping: { ctr: 0.8, cpc: 0.7, cvr: 1.3, video: 0 },
  performance_max: { ctr: 0.6, cpc: 0.8, cvr: 1.1, video: 0.05 },
  display: { ctr: 0.25, cpc: 0.6, cvr: 0.5, video: 0 },
  video: { ctr: 0.4, cpc: 0.7, cvr: 0.4, video: 0.3 },
  social: { ctr: 1, cpc: 1, cvr: 1, video: 0.06 },
};

function shapeOf(t: DemoTenant): DayShape {
  return { weekendFactor: t.weekendFactor, seasonAmplitude: t.seasonAmplitude, seasonPeakDay: t.seasonPeakDay, growth: t.growth };
}

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  return weights.map((w, i) => (i === weights.length - 1 ? 1 : (acc += w / total)));
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function flight(rng: Rng, alwaysOn: boolean): Flight {
  const last = DEMO_DAYS - 1;
  if (alwaysOn) {
    const startDay = -rng.int(0, 400);
    if (rng.chance(0.15)) return { startDay, endDay: null, lastActiveDay: last - rng.int(5, 200), status: 'paused' };
    return { startDay, endDay: null, lastActiveDay: last, status: 'active' };
  }
  const startDay = rng.int(-60, last - 10);
  const endDay = startDay + rng.int(14, 150);
  if (endDay < last) return { startDay, endDay, lastActiveDay: endDay, status: 'ended' };
  if (rng.chance(0.12)) return { startDay, endDay, lastActiveDay: Math.max(startDay, last - rng.int(1, 30)), status: 'paused' };
  return { startDay, endDay, lastActiveDay: last, status: 'active' };
}

export function buildPlan(seed: number, scale: number, window: DemoWindow): DemoPlan {
  const cal = demoCalendar(window.startMs);
  const { dayToDate } = cal;
  const campaigns: Row[] = [];
  const campaignPlan: Row[] = [];
  const tenantPlan: Row[] = [];
  const emailPlan: Row[] = [];
  const clients: Row[] = [];

  // First pass: campaigns and their flights, so rates can be normalised by total active days.
  interface Draft {
    readonly tenant: DemoTenant;
    readonly row: Row;
    readonly plan: Row;
    readonly firstDay: number;
    readonly lastDay: number;
    readonly weight: number;
  }
  const drafts: Draft[] = [];
  for (const [ti, t] of DEMO_TENANTS.entries()) {
    const rng = createRng(seed, `campaigns:${t.id}`);
    const accounts = new Map<PlatformCode, string[]>();
    for (const [pi, p] of (Object.keys(PLATFORM_PROFILES) as PlatformCode[]).entries()) {
      const n = rng.int(1, 2);
      accounts.set(
        p,
        Array.from({ length: n }, (_, k) => `${t.id}-acc-${t.idPrefix * 10_000 + (pi + 1) * 10 + k + 1}`),
      );
    }
    for (let i = 0; i < t.campaigns; i++) {
      const platform = rng.weighted(t.platformMix);
      const profile = PLATFORM_PROFILES[platform];
      const type = rng.weighted(profile.types);
      const fx = TYPE_EFFECT[type];
      const objective = rng.weighted(OBJECTIVE_BY_TYPE[type]);
      const alwaysOn = (type === 'search' || type === 'shopping') && rng.chance(0.6);
      const f = flight(rng, alwaysOn);
      const num = t.idPrefix * 100_000 + i + 1;
      const campaignId = `${t.id}-cmp-${num}`;
      const dailyBudget = round(rng.int(4, 60) * 25 * (platform === 'linkedin' ? 1.5 : 1), 0);
      const lifetime = !alwaysOn && rng.chance(0.5);
      const duration = f.endDay === null ? DEMO_DAYS : f.endDay - f.startDay + 1;
      const theme = rng.pick(THEMES);
      const row: Row = {
        tenant_id: t.id,
        campaign_id: campaignId,
        platform,
        account_id: rng.pick(accounts.get(platform) ?? []),
        name: `${t.brand} | ${profile.label} | ${type.replace('_', ' ')} | ${theme} #${i + 1}`,
        type,
        status: f.status,
        objective,
        budget: lifetime ? round(dailyBudget * duration, 0) : dailyBudget,
        budget_type: lifetime ? 'lifetime' : 'daily',
        start_date: dayToDate(f.startDay),
        end_date: f.endDay === null ? null : dayToDate(f.endDay),
      };
      const firstDay = Math.max(0, f.startDay);
      const lastDay = Math.min(DEMO_DAYS - 1, f.lastActiveDay);
      const ctr = profile.ctr * fx.ctr * (0.75 + 0.5 * rng.next());
      const cpc = profile.cpc * fx.cpc * (0.8 + 0.4 * rng.next());
      const cvr = profile.cvr * fx.cvr * (0.7 + 0.6 * rng.next());
      const plan: Row = {
        tenant_id: t.id,
        tenant_idx: ti + 1,
        campaign_id: campaignId,
        campaign_num: num,
        platform,
        account_id: row.account_id,
        type,
        first_day: dayToDate(firstDay),
        last_day: dayToDate(lastDay),
        ctr: round(ctr, 5),
        cpc: round(cpc, 3),
        cvr: round(cvr, 5),
        avg_value: t.averageValue,
        video_rate: fx.video,
        engagement_rate: profile.engagementRate,
        ad_groups: rng.int(2, 6),
        // budget / (ctr * cpc) impressions a day, spread over the rows of a day at scale 1
        daily_impressions: round(dailyBudget / (ctr * cpc), 0),
        source: profile.source,
        medium: type === 'video' ? 'video' : profile.medium,
      };
      drafts.push({ tenant: t, row, plan, firstDay, lastDay, weight: lastDay >= firstDay ? lastDay - firstDay + 1 : 0 });
    }
  }
  const campaignDays = drafts.reduce((s, d) => s + d.weight, 0);
  const rowsPerDay = (ROW_TARGETS.ad_performance * scale) / campaignDays;
  const rowsPerDayAtScale1 = ROW_TARGETS.ad_performance / campaignDays;
  for (const d of drafts) {
    campaigns.push(d.row);
    if (d.weight === 0) continue; // flight entirely before the demo window: no facts
    const t = d.tenant;
    const norm = meanDayFactor(shapeOf(t), cal, d.firstDay, d.lastDay);
    campaignPlan.push({
      ...d.plan,
      ...tenantColumns(t),
      rows_per_day: rowsPerDay,
      row_impressions: round(Number(d.plan.daily_impressions) / rowsPerDayAtScale1 / norm, 2),
      sessions_per_day: (ROW_TARGETS.paid_sessions * scale) / campaignDays / norm,
      conversions_per_day: (ROW_TARGETS.conversions * scale) / campaignDays / norm,
    });
  }

  const tenantWeights = DEMO_TENANTS.map((t) => t.campaigns);
  const tenantWeightSum = tenantWeights.reduce((s, w) => s + w, 0);
  for (const [ti, t] of DEMO_TENANTS.entries()) {
    const share = tenantWeights[ti] / tenantWeightSum;
    tenantPlan.push({
      tenant_id: t.id,
      tenant_idx: ti + 1,
      ...tenantColumns(t),
      sessions_per_day: (ROW_TARGETS.organic_sessions * scale * share) / DEMO_DAYS / meanDayFactor(shapeOf(t), cal),
    });
  }

  // Email: campaigns (sequences) of 3-5 steps, sent from a pool of tenant mailboxes.
  const emailDrafts: { t: DemoTenant; ti: number; row: Row; firstDay: number; lastDay: number }[] = [];
  for (const [ti, t] of DEMO_TENANTS.entries()) {
    const rng = createRng(seed, `email:${t.id}`);
    const b2b = t.industry === 'b2b_saas';
    for (let i = 0; i < t.emailCampaigns; i++) {
      const alwaysOn = i < 2; // newsletters / nurture that run the whole period
      const firstDay = alwaysOn ? 0 : rng.int(0, DEMO_DAYS - 20);
      const lastDay = alwaysOn ? DEMO_DAYS - 1 : Math.min(DEMO_DAYS - 1, firstDay + rng.int(20, 200));
      const num = t.idPrefix * 1_000 + i + 1;
      emailDrafts.push({
        t,
        ti,
        firstDay,
        lastDay,
        row: {
          tenant_id: t.id,
          tenant_idx: ti + 1,
          email_campaign_id: `${t.id}-eml-${num}`,
          email_campaign_name: `${t.brand} ${alwaysOn ? (i === 0 ? 'Newsletter' : 'Nurture') : rng.pick(['Outbound', 'Webinar invite', 'Win-back', 'Onboarding', 'Promo', 'Event follow-up'])} #${i + 1}`,
          steps: alwaysOn ? 1 + i * 2 : rng.int(3, 5),
          first_day: dayToDate(firstDay),
          last_day: dayToDate(lastDay),
          sends_per_row: rng.int(30, b2b ? 120 : 400),
          domain: t.domain,
          bounce_rate: round(0.01 + 0.04 * rng.next(), 4),
          open_rate: round(0.2 + 0.3 * rng.next(), 4),
          click_rate: round(0.05 + 0.15 * rng.next(), 4),
          reply_rate: round((b2b ? 0.02 : 0.003) + (b2b ? 0.05 : 0.01) * rng.next(), 4),
          unsub_rate: round(0.002 + 0.008 * rng.next(), 4),
          spam_rate: round(0.0002 + 0.0015 * rng.next(), 5),
          weekend_factor: b2b ? 0.1 : 0.6,
          season_amp: 0.1,
          season_peak: t.seasonPeakDay,
          growth: t.growth,
        },
      });
    }
  }
  const emailDays = emailDrafts.reduce((s, d) => s + d.lastDay - d.firstDay + 1, 0);
  for (const d of emailDrafts) {
    const norm = meanDayFactor(
      { weekendFactor: Number(d.row.weekend_factor), seasonAmplitude: 0.1, seasonPeakDay: d.t.seasonPeakDay, growth: d.t.growth },
      cal,
      d.firstDay,
      d.lastDay,
    );
    emailPlan.push({ ...d.row, rows_per_day: (ROW_TARGETS.email_activity * scale) / emailDays / norm });
  }

  // ~2.5 sessions per user: paid and organic sessions of a tenant share one user pool
  const sessionsPerTenant = new Map<string, number>();
  for (const p of campaignPlan) {
    const days = (Date.parse(String(p.last_day)) - Date.parse(String(p.first_day))) / 86_400_000 + 1;
    sessionsPerTenant.set(String(p.tenant_id), (sessionsPerTenant.get(String(p.tenant_id)) ?? 0) + Number(p.sessions_per_day) * days);
  }
  for (const p of tenantPlan)
    sessionsPerTenant.set(String(p.tenant_id), (sessionsPerTenant.get(String(p.tenant_id)) ?? 0) + Number(p.sessions_per_day) * DEMO_DAYS);
  for (const p of [...campaignPlan, ...tenantPlan]) p.user_pool = Math.max(50, Math.round((sessionsPerTenant.get(String(p.tenant_id)) ?? 0) / 2.5));

  for (const t of DEMO_TENANTS) clients.push(...buildClients(seed, t, cal));
  return { campaigns, clients, campaignPlan, tenantPlan, emailPlan };
}

/** Tenant-level columns repeated on every plan row (the SQL needs no join). */
function tenantColumns(t: DemoTenant): Row {
  const convTypes = Object.keys(t.conversionMix);
  const models = Object.keys(t.attributionMix);
  return {
    countries: t.countries.map(([c]) => c),
    country_cum: cumulative(t.countries.map(([, w]) => w)),
    // relative volume per country, averaging 1 over the list
    country_weight: t.countries.map(([, w]) => round((w * t.countries.length) / t.countries.reduce((s, [, x]) => s + x, 0), 4)),
    mobile_share: t.mobileShare,
    weekend_factor: t.weekendFactor,
    season_amp: t.seasonAmplitude,
    season_peak: t.seasonPeakDay,
    growth: t.growth,
    landing_pages: t.landingPages,
    tx_rate: t.transactionRate,
    avg_value: t.averageValue,
    conv_types: convTypes,
    conv_cum: cumulative(convTypes.map((k) => t.conversionMix[k as keyof typeof t.conversionMix] ?? 0)),
    attr_models: models,
    attr_cum: cumulative(models.map((k) => t.attributionMix[k as keyof typeof t.attributionMix] ?? 0)),
    user_prefix: t.idPrefix * 10_000_000,
  };
}

const NAME_A = [
  'Blue',
  'North',
  'Bright',
  'Silver',
  'Red',
  'Green',
  'Swift',
  'Quiet',
  'Prime',
  'Urban',
  'Golden',
  'Clear',
  'Bold',
  'Summit',
  'Harbor',
  'Maple',
];
const NAME_B = [
  'Harbor',
  'Peak',
  'River',
  'Forge',
  'Lantern',
  'Orchard',
  'Anchor',
  'Falcon',
  'Meadow',
  'Pixel',
  'Stone',
  'Cedar',
  'Beacon',
  'Atlas',
  'Vertex',
  'Comet',
];
const NAME_C = ['Labs', 'Co', 'Group', 'Studio', 'Partners', 'Holdings', 'Works', 'Systems', 'Goods', 'Collective'];
const INDUSTRIES = ['retail', 'software', 'healthcare', 'education', 'finance', 'hospitality', 'manufacturing', 'media', 'nonprofit', 'real_estate'];
const PLANS = { starter: [49, 99], growth: [199, 499], pro: [799, 1999], enterprise: [3000, 15000] } as const;

function buildClients(seed: number, t: DemoTenant, { dayToDateTime }: DemoCalendar): Row[] {
  const rng = createRng(seed, `clients:${t.id}`);
  const rows: Row[] = [];
  const planMix =
    t.industry === 'b2b_saas' ? { starter: 0.3, growth: 0.35, pro: 0.25, enterprise: 0.1 } : { starter: 0.55, growth: 0.3, pro: 0.12, enterprise: 0.03 };
  const channelMix =
    t.industry === 'b2b_saas'
      ? { paid_search: 0.25, paid_social: 0.2, organic: 0.25, email: 0.1, referral: 0.12, direct: 0.08 }
      : { paid_search: 0.3, paid_social: 0.3, organic: 0.2, email: 0.08, referral: 0.05, direct: 0.07 };
  for (let i = 0; i < t.clients; i++) {
    const plan = rng.weighted(planMix);
    // more sign-ups later in the period (growth), some before the demo window
    const signupDay = Math.floor(Math.sqrt(rng.next()) * (DEMO_DAYS + 180)) - 180;
    const ageDays = DEMO_DAYS - 1 - signupDay;
    const status = ageDays < 14 && rng.chance(0.7) ? 'trialing' : rng.weighted({ active: 0.74, past_due: 0.06, canceled: 0.2 });
    const [lo, hi] = PLANS[plan];
    const mrr = status === 'trialing' || status === 'canceled' ? 0 : round(lo + (hi - lo) * rng.next(), 0);
    const base = { trialing: 0.45, active: plan === 'starter' ? 0.3 : 0.15, past_due: 0.7, canceled: 0.9 }[status];
    const score = Math.min(0.99, Math.max(0.01, base + (rng.next() - 0.5) * (status === 'active' ? 0.7 : 0.5)));
    const stage = status === 'trialing' ? 'trial' : status === 'canceled' ? 'churned' : ageDays < 60 ? 'onboarding' : 'customer';
    rows.push({
      tenant_id: t.id,
      client_id: `${t.id}-cli-${t.idPrefix * 100_000 + i + 1}`,
      name: `${rng.pick(NAME_A)} ${rng.pick(NAME_B)} ${rng.pick(NAME_C)}`,
      plan,
      subscription_status: status,
      mrr,
      lifecycle_stage: stage,
      churn_risk: score >= 0.6 ? 'high' : score >= 0.3 ? 'medium' : 'low',
      churn_score: round(score, 3),
      industry: rng.pick(INDUSTRIES),
      first_touch_channel: rng.weighted(channelMix),
      signed_up_at: dayToDateTime(signupDay, rng.int(6 * 3600, 22 * 3600)),
    });
  }
  return rows;
}
