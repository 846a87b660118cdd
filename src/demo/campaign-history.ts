/**
 * Campaign lifecycle for the demo (specifications 001, 003): advertiser / currency / labels on the
 * campaign rows, the type-2 history of each campaign's budget and status (campaign_history), and
 * the campaign-day budget table (campaign_days) expanded from the history inside ClickHouse.
 * Own PRNG streams (`campaign-attrs:`, `history:`), so the older tables keep their exact content.
 *
 * Shapes: 0-3 budget changes per campaign (the last version carries the campaign's budget), a
 * `paused` version after a paused campaign's last active day, an `ended` version the day after a
 * flight ends; spend paces on plan for most campaigns, under for some, over for a few.
 */
import { createRng } from './prng.js';
import { DEMO_TENANTS } from './tenants.js';
import { demoCalendar } from './dates.js';
import type { Row } from './demo-plan.js';
import { u } from './facts.js';
import type { DemoWindow } from './window.js';

const LABELS = ['evergreen', 'q4-push', 'brand-safety', 'test', 'high-priority', 'new-market', 'retargeting', 'seasonal'];
const ADVERTISERS: Readonly<Record<string, readonly string[]>> = {
  acme: ['Footwear', 'Outdoor', 'Outlet'],
  globex: ['Analytics', 'Cloud'],
  initech: ['Flights', 'Hotels', 'Packages'],
};
const DAY_MS = 86_400_000;

/** The campaign rows with advertiser, currency and labels (spec 003), drawn from their own stream. */
export function withCampaignAttributes(seed: number, campaigns: readonly Row[]): Row[] {
  return campaigns.map((c) => {
    const t = DEMO_TENANTS.find((x) => x.id === c.tenant_id);
    if (!t) return { ...c };
    const rng = createRng(seed, `campaign-attrs:${c.campaign_id}`);
    const names = ADVERTISERS[t.id] ?? ['Main'];
    const a = rng.int(0, names.length - 1);
    const labels = [...new Set(Array.from({ length: rng.int(0, 3) }, () => rng.pick(LABELS)))].sort();
    return {
      ...c,
      advertiser_id: `${t.id}-adv-${t.idPrefix * 100 + a + 1}`,
      advertiser_name: `${t.brand} ${names[a]}`,
      currency: 'USD',
      labels,
    };
  });
}

/** One version of a campaign's settings (valid_to exclusive, null while current). */
interface Version {
  from: number;
  status: string;
  budget: number;
  reason: string;
}

export interface CampaignHistoryPlan {
  /** campaign_history rows. */
  readonly history: Row[];
  /** Versions clipped to the window, with pacing parameters: the SQL expands them to campaign_days. */
  readonly dayPlan: Row[];
}

/**
 * History versions per campaign and the day plan of campaign_days. `lastDays` maps a campaign id
 * to its last active day ("YYYY-MM-DD") inside the window (the demo plan's last_day).
 */
export function buildCampaignHistory(seed: number, campaigns: readonly Row[], lastDays: ReadonlyMap<string, string>, window: DemoWindow): CampaignHistoryPlan {
  const { dayToDate } = demoCalendar(window.startMs);
  const dayOf = (date: string) => Math.round((Date.parse(date) - window.startMs) / DAY_MS);
  const windowLast = window.days - 1;
  const history: Row[] = [];
  const dayPlan: Row[] = [];
  for (const c of campaigns) {
    const rng = createRng(seed, `history:${c.campaign_id}`);
    const start = dayOf(String(c.start_date));
    const end = c.end_date === null ? null : dayOf(String(c.end_date));
    const lastActive = lastDays.has(String(c.campaign_id)) ? dayOf(String(lastDays.get(String(c.campaign_id)))) : (end ?? windowLast);
    const finalBudget = Number(c.budget);
    // budget changes at random days of the active flight; the last version carries the campaign's budget
    const changeDays = [...new Set(Array.from({ length: rng.int(0, 3) }, () => rng.int(start + 7, Math.max(start + 7, lastActive - 1))))]
      .filter((d) => d < lastActive)
      .sort((a, b) => a - b);
    const factors = changeDays.map(() => 0.7 + 0.7 * rng.next());
    let budget = finalBudget / factors.reduce((p, f) => p * f, 1);
    const versions: Version[] = [{ from: start, status: 'active', budget: Math.round(budget), reason: 'created' }];
    changeDays.forEach((d, i) => {
      budget *= factors[i];
      const last = i === changeDays.length - 1;
      versions.push({
        from: d,
        status: 'active',
        budget: last ? finalBudget : Math.round(budget),
        reason: factors[i] >= 1 ? 'budget_increase' : 'budget_decrease',
      });
    });
    if (changeDays.length === 0) versions[0].budget = finalBudget;
    if (c.status === 'paused') versions.push({ from: lastActive + 1, status: 'paused', budget: finalBudget, reason: 'paused' });
    if (c.status === 'ended' && end !== null) versions.push({ from: end + 1, status: 'ended', budget: finalBudget, reason: 'ended' });

    // pacing: most campaigns on plan, some under-deliver, a few overspend
    const kind = rng.weighted({ on_pace: 0.55, under: 0.3, over: 0.15 });
    const pacing = kind === 'on_pace' ? 0.88 + 0.14 * rng.next() : kind === 'under' ? 0.45 + 0.35 * rng.next() : 1.06 + 0.3 * rng.next();
    const flightDays = end === null ? null : end - start + 1;
    versions.forEach((v, i) => {
      const to = i + 1 < versions.length ? versions[i + 1].from : null;
      history.push({
        tenant_id: c.tenant_id,
        campaign_id: c.campaign_id,
        valid_from: dayToDate(v.from),
        valid_to: to === null ? null : dayToDate(to),
        is_current: to === null ? 1 : 0,
        version: i + 1,
        platform: c.platform,
        name: c.name,
        status: v.status,
        budget: v.budget,
        budget_type: c.budget_type,
        change_reason: v.reason,
      });
      // days of this version inside the window and the campaign's flight (ended versions have none)
      const first = Math.max(0, v.from);
      const last = Math.min(windowLast, (to ?? Number.POSITIVE_INFINITY) - 1, end ?? windowLast);
      if (v.status === 'ended' || last < first) return;
      const active = v.status === 'active';
      const planned = !active ? 0 : c.budget_type === 'daily' ? v.budget : v.budget / (flightDays ?? 1);
      dayPlan.push({
        tenant_id: c.tenant_id,
        campaign_id: c.campaign_id,
        platform: c.platform,
        status: v.status,
        budget: v.budget,
        budget_type: c.budget_type,
        first_day: dayToDate(first),
        last_day: dayToDate(last),
        planned: Math.round(planned * 100) / 100,
        pacing: Math.round(pacing * 1000) / 1000,
      });
    });
  }
  return { history, dayPlan };
}

export const HISTORY_PLAN_TABLE = `CREATE TABLE IF NOT EXISTS _demo_history_plan (
    tenant_id String, campaign_id String, platform String, status String, budget Float64, budget_type String,
    first_day Date, last_day Date, planned Float64, pacing Float64
  ) ENGINE = Memory`;

/** campaign_days: each version's days; spend = plan x the campaign's pacing x day-to-day noise. */
export const CAMPAIGN_DAYS_SQL = `
INSERT INTO campaign_days (tenant_id, date, campaign_id, platform, status, budget, budget_type, planned_spend, spend)
SELECT tenant_id, date, campaign_id, platform, status, budget, budget_type, planned AS planned_spend,
  round(planned * pacing * (0.7 + 0.6 * ${u('h', 81)}), 2) AS spend
FROM (
  SELECT *, addDays(first_day, d) AS date, sipHash64({seed:UInt64}, 'campaign-day', campaign_id, addDays(first_day, d)) AS h
  FROM _demo_history_plan
  ARRAY JOIN range(toUInt32(dateDiff('day', first_day, last_day) + 1)) AS d
)`;
