/**
 * Client health demo data (specification 000): each client's subscription status history
 * (trialing -> active -> past_due -> canceled, consistent with the client's current status), its
 * lead score and last activity, monthly product activity, and the multi-touch path that led to its
 * sign-up. The history is built in JS from the client rows; activity months and touchpoints are
 * expanded inside ClickHouse (facts.ts style: hashes of the seed and the row's key).
 */
import type { Row } from './demo-plan.js';
import { createRng } from './prng.js';
import { DEMO_TENANT_IDS } from './tenants.js';
import type { DemoWindow } from './window.js';

const DAY_MS = 86_400_000;
const TRIAL_DAYS = 14;
const LIST_PRICE: Readonly<Record<string, number>> = { starter: 79, growth: 349, pro: 1_299, enterprise: 6_000 };

export interface ClientHealthPlan {
  /** The client rows with lead_score and last_activity_at. */
  readonly clients: Row[];
  readonly history: Row[];
  readonly activityPlan: Row[];
}

export const CLIENT_PLAN_TABLES = {
  _demo_activity_plan: `CREATE TABLE IF NOT EXISTS _demo_activity_plan (
    tenant_id String, client_id String, first_month Date, last_month Date, seats Float64,
    decline_from Date, last_activity DateTime('UTC')
  ) ENGINE = Memory`,
} as const;

const u = (hash: string, salt: number) => `((intHash64(${hash} + ${salt}) % 1000000) / 1000000.0)`;

/** Usage declines over the last three months before a cancellation or a failed payment. */
export const CLIENT_ACTIVITY_SQL = `
INSERT INTO client_activity (tenant_id, month, client_id, active_users, sessions, events, last_activity_at)
SELECT tenant_id, month, client_id, users_n, toUInt32(round(users_n * (8 + 10 * ${u('h', 2)}))) AS sessions_n,
  toUInt64(round(sessions_n * (6 + 8 * ${u('h', 3)}))),
  if(month = last_month, last_activity, least(last_activity, toDateTime(month, 'UTC') + toIntervalSecond(toUInt32((20 + 8 * ${u('h', 4)}) * 86400))))
FROM (
  SELECT *, addMonths(first_month, k) AS month, sipHash64({seed:UInt64}, client_id, addMonths(first_month, k)) AS h,
    toUInt32(greatest(1, round(seats * (0.55 + 0.4 * ${u('h', 1)}) * if(addMonths(first_month, k) >= decline_from, 0.45, 1)))) AS users_n
  FROM _demo_activity_plan
  ARRAY JOIN range(toUInt32(dateDiff('month', first_month, last_month) + 1)) AS k
)`;

/**
 * One path per client, ending at its sign-up: 1-6 touches spread over the weeks before. The first
 * touch is the client's first_touch_channel; paid touches name one of the tenant's campaigns on a
 * platform of that channel.
 */
export const TOUCHPOINTS_SQL = `
INSERT INTO conversion_touchpoints (tenant_id, client_id, converted_at, position, path_length, touched_at, channel, campaign_id,
  conversion_value, credit_first, credit_last, credit_linear, credit_position)
SELECT tenant_id, client_id, signed_up_at, pos, n, signed_up_at - toIntervalSecond(toUInt32(((n - pos) * gap + 0.9 * ${u('hp', 1)}) * 86400)),
  ch, multiIf(ch = 'paid_search' AND length(search_ids) > 0, search_ids[1 + (hp % length(search_ids))],
              ch = 'paid_social' AND length(social_ids) > 0, social_ids[1 + (hp % length(social_ids))], ''),
  12 * mrr, toFloat64(pos = 1), toFloat64(pos = n), 1 / n,
  multiIf(n = 1, 1, n = 2, 0.5, pos = 1 OR pos = n, 0.4, 0.2 / (n - 2))
FROM (
  SELECT *, toUInt8(k + 1) AS pos, sipHash64({seed:UInt64}, client_id, k) AS hp,
    if(k = 0, first_touch_channel, ['paid_search', 'paid_search', 'paid_social', 'organic', 'email', 'email', 'referral', 'direct'][1 + (intHash64(hp + 2) % 8)]) AS ch
  FROM (
    SELECT c.tenant_id AS tenant_id, c.client_id AS client_id, c.signed_up_at AS signed_up_at, c.first_touch_channel AS first_touch_channel,
      c.mrr AS mrr, sipHash64({seed:UInt64}, c.client_id) AS hc,
      toUInt8(multiIf(${u('hc', 1)} < 0.25, 1, ${u('hc', 1)} < 0.5, 2, ${u('hc', 1)} < 0.7, 3, ${u('hc', 1)} < 0.85, 4, ${u('hc', 1)} < 0.95, 5, 6)) AS n,
      1 + 6 * ${u('hc', 2)} AS gap, p.search_ids AS search_ids, p.social_ids AS social_ids
    FROM (SELECT * FROM clients FINAL WHERE tenant_id IN {tenants:Array(String)}) AS c
    LEFT JOIN (
      SELECT tenant_id, groupArrayIf(campaign_id, platform IN ('google_ads', 'microsoft_ads')) AS search_ids,
        groupArrayIf(campaign_id, platform IN ('meta', 'linkedin', 'tiktok')) AS social_ids
      FROM (SELECT * FROM campaigns FINAL WHERE tenant_id IN {tenants:Array(String)}) GROUP BY tenant_id
    ) AS p ON c.tenant_id = p.tenant_id
  )
  ARRAY JOIN range(n) AS k
)`;

export const CLIENT_HEALTH_TENANTS = DEMO_TENANT_IDS;

const at = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const monthOf = (ms: number) => `${new Date(ms).toISOString().slice(0, 7)}-01`;

export function buildClientHealth(seed: number, window: DemoWindow, clients: readonly Row[]): ClientHealthPlan {
  const endMs = window.startMs + window.days * DAY_MS - 3_600_000; // 23:00 on the last day
  const out: Row[] = [];
  const history: Row[] = [];
  const activityPlan: Row[] = [];
  for (const tenant of DEMO_TENANT_IDS) {
    const rng = createRng(seed, `client-health:${tenant}`);
    for (const c of clients.filter((r) => r.tenant_id === tenant)) {
      const signup = Date.parse(`${String(c.signed_up_at).replace(' ', 'T')}Z`);
      const status = String(c.subscription_status);
      const plan = String(c.plan);
      const price = Number(c.mrr) > 0 ? Number(c.mrr) : LIST_PRICE[plan];
      const span = Math.max(endMs - signup, 3_600_000);
      // Spells as [status, from]; the trial ends after 14 days (or half the client's age, when younger).
      const trialEnd = signup + Math.min(TRIAL_DAYS * DAY_MS, span * 0.5);
      const spells: [string, number][] = [['trialing', signup]];
      if (status === 'canceled' && rng.chance(0.4)) {
        spells.push(['canceled', trialEnd]); // the trial expired unpaid
      } else if (status !== 'trialing') {
        spells.push(['active', trialEnd]);
        const rest = endMs - trialEnd;
        const endOfPaid = status === 'canceled' ? trialEnd + rest * (0.15 + 0.8 * rng.next()) : endMs;
        if (status !== 'past_due' && rng.chance(0.2) && endOfPaid - trialEnd > 40 * DAY_MS) {
          const failed = trialEnd + (endOfPaid - trialEnd) * (0.2 + 0.5 * rng.next());
          spells.push(['past_due', failed], ['active', failed + rng.int(3, 10) * DAY_MS]);
        }
        if (status === 'past_due') spells.push(['past_due', endMs - rng.int(1, 20) * DAY_MS]);
        if (status === 'canceled') spells.push(['canceled', endOfPaid]);
      }
      // In the order pushed; a young client's spells may crowd together: keep each a minute after the last.
      for (let i = 1; i < spells.length; i++) spells[i][1] = Math.max(spells[i][1], spells[i - 1][1] + 60_000);
      spells.forEach(([s, from], i) => {
        const next = spells[i + 1];
        history.push({
          tenant_id: tenant,
          client_id: c.client_id,
          valid_from: at(from),
          valid_to: next ? at(next[1]) : null,
          status: s,
          previous_status: i === 0 ? '' : spells[i - 1][0],
          plan,
          mrr: s === 'active' || s === 'past_due' ? price : 0,
        });
      });
      const stopped = status === 'canceled' ? spells[spells.length - 1][1] : endMs;
      const lastActivity = Math.max(signup, stopped - rng.int(0, status === 'past_due' ? 20 : 8) * DAY_MS - rng.int(0, 36_000) * 1000);
      const stage = String(c.lifecycle_stage);
      const base = { trial: 55, onboarding: 50, customer: 40, churned: 8 }[stage] ?? 30;
      const leadScore = Math.max(0, Math.min(100, Math.round(base + (plan === 'enterprise' || plan === 'pro' ? 12 : 0) + 35 * (rng.next() - 0.3))));
      out.push({ ...c, lead_score: leadScore, last_activity_at: at(lastActivity) });
      const firstMonth = monthOf(Math.max(signup, window.startMs));
      const lastMonth = monthOf(lastActivity);
      if (lastActivity < window.startMs) continue;
      const seats = { starter: 3, growth: 8, pro: 25, enterprise: 90 }[plan] ?? 5;
      const troubled = status === 'canceled' || status === 'past_due';
      activityPlan.push({
        tenant_id: tenant,
        client_id: c.client_id,
        first_month: firstMonth,
        last_month: lastMonth,
        seats: seats * (0.6 + 0.8 * rng.next()),
        decline_from: troubled ? monthOf(lastActivity - 75 * DAY_MS) : '2100-01-01',
        last_activity: at(lastActivity),
      });
    }
  }
  return { clients: out, history, activityPlan };
}
