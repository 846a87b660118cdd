/**
 * The campaign-lifecycle, reach and social part of the demo seed (campaign-history.ts, reach.ts,
 * social.ts), called by seed.ts while the demo's plan tables exist (ad_reach reads
 * _demo_campaign_plan). Its own plan tables are dropped before it returns.
 */
import type { Engine } from '../engine/engine.js';
import { buildCampaignHistory, CAMPAIGN_DAYS_SQL, HISTORY_PLAN_TABLE } from './campaign-history.js';
import type { DemoPlan, Row } from './demo-plan.js';
import { AD_REACH_SQL } from './reach.js';
import { AUTOMATION_RUNS_SQL, buildSocialPlan, SOCIAL_AUDIENCE_SQL, SOCIAL_MENTIONS_SQL, SOCIAL_PLAN_TABLES, SOCIAL_POSTS_SQL } from './social.js';
import type { DemoWindow } from './window.js';

/** The tenant-scoped tables this part writes, in load order (seed.ts lists them in DEMO_TABLES). */
export const LIFECYCLE_SOCIAL_TABLES = [
  'campaign_history',
  'campaign_days',
  'ad_reach',
  'social_posts',
  'social_mentions',
  'social_audience',
  'influencer_partnerships',
  'automation_runs',
] as const;

export interface LifecycleSocialContext {
  readonly plan: DemoPlan;
  readonly seed: number;
  readonly scale: number;
  readonly window: DemoWindow;
  /** Throws when the seed lock was lost (checked before each statement). */
  readonly holding: () => void;
}

const CHUNK = 5_000;

async function insertRows(engine: Engine, table: string, rows: readonly Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await engine.insert(table, rows.slice(i, i + CHUNK));
}

export async function seedLifecycleAndSocial(engine: Engine, ctx: LifecycleSocialContext): Promise<void> {
  const { plan, seed, scale, window, holding } = ctx;
  const lastDays = new Map(plan.campaignPlan.map((p) => [String(p.campaign_id), String(p.last_day)]));
  const history = buildCampaignHistory(seed, plan.campaigns, lastDays, window);
  const social = buildSocialPlan(seed, scale, window);
  const params = { seed, start: window.start, end: window.end };
  holding();
  await insertRows(engine, 'campaign_history', history.history);
  await insertRows(engine, 'influencer_partnerships', social.partnerships);
  const planTables = { _demo_history_plan: HISTORY_PLAN_TABLE, ...SOCIAL_PLAN_TABLES };
  try {
    for (const [name, ddl] of Object.entries(planTables)) {
      await engine.command(ddl);
      await engine.command(`TRUNCATE TABLE ${name}`);
    }
    await insertRows(engine, '_demo_history_plan', history.dayPlan);
    await insertRows(engine, '_demo_social_plan', social.tenantPlan);
    await insertRows(engine, '_demo_workflow_plan', social.workflowPlan);
    for (const sql of [CAMPAIGN_DAYS_SQL, AD_REACH_SQL, SOCIAL_POSTS_SQL, SOCIAL_MENTIONS_SQL, SOCIAL_AUDIENCE_SQL, AUTOMATION_RUNS_SQL]) {
      holding();
      await engine.command(sql, params);
    }
  } finally {
    for (const name of Object.keys(planTables)) await engine.command(`DROP TABLE IF EXISTS ${name}`);
  }
}
