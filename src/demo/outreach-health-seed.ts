/**
 * Loads the email-outreach (email-outreach.ts) and client-health (client-health.ts) parts of the demo
 * after the core facts: entity rows, then the facts expanded from their plan tables. Called by
 * seed.ts under the seed lock; the temporary plan tables are dropped afterwards.
 */
import type { Engine } from '../engine/engine.js';
import { CLIENT_ACTIVITY_SQL, CLIENT_PLAN_TABLES, type ClientHealthPlan, TOUCHPOINTS_SQL } from './client-health.js';
import type { Row } from './demo-plan.js';
import { type EmailOutreachPlan, LEADS_SQL, OUTREACH_PLAN_TABLES, WARMUP_SQL } from './email-outreach.js';
import { DEMO_TENANT_IDS } from './tenants.js';

/** The tables this part writes, in load order (all tenant-scoped). */
export const OUTREACH_HEALTH_TABLES = [
  'sending_domains',
  'mailboxes',
  'email_campaigns',
  'mailbox_warmup',
  'lead_engagement',
  'subscription_history',
  'client_activity',
  'conversion_touchpoints',
] as const;

export async function seedOutreachAndHealth(
  engine: Engine,
  parts: { readonly outreach: EmailOutreachPlan; readonly health: ClientHealthPlan; readonly seed: number },
  insert: (table: string, rows: readonly Row[], chunk?: number) => Promise<void>,
  holding: () => void,
): Promise<void> {
  const { outreach, health, seed } = parts;
  await insert('sending_domains', outreach.sendingDomains);
  await insert('mailboxes', outreach.mailboxes);
  await insert('email_campaigns', outreach.emailCampaigns);
  await insert('subscription_history', health.history);
  const planTables = { ...OUTREACH_PLAN_TABLES, ...CLIENT_PLAN_TABLES };
  try {
    for (const [name, ddl] of Object.entries(planTables)) {
      await engine.command(ddl);
      await engine.command(`TRUNCATE TABLE ${name}`);
    }
    await insert('_demo_warmup_plan', outreach.warmupPlan, 8);
    await insert('_demo_lead_plan', outreach.leadPlan, 8);
    await insert('_demo_activity_plan', health.activityPlan, 1_000);
    const params = { seed, tenants: [...DEMO_TENANT_IDS] };
    for (const sql of [WARMUP_SQL, LEADS_SQL, CLIENT_ACTIVITY_SQL, TOUCHPOINTS_SQL]) {
      holding();
      await engine.command(sql, params);
    }
  } finally {
    for (const name of Object.keys(planTables)) await engine.command(`DROP TABLE IF EXISTS ${name}`);
  }
}
