/** Which tables accept ingestion, and which cubes read each (so the right subscriptions refresh). */
import type { Model, SqlTemplate } from '../semantic/model.js';

export const INGESTIBLE_TABLES = [
  'ad_performance',
  'web_sessions',
  'email_activity',
  'conversions',
  'campaigns',
  'clients',
  // email outreach, client health (migrations 0017-0018)
  'sending_domains',
  'mailboxes',
  'email_campaigns',
  'mailbox_warmup',
  'lead_engagement',
  'client_activity',
  'subscription_history',
  'conversion_touchpoints',
  // campaign lifecycle, reach, social (migrations 0020-0022)
  'campaign_history',
  'campaign_days',
  'ad_reach',
  'social_posts',
  'social_mentions',
  'social_audience',
  'influencer_partnerships',
  'automation_runs',
] as const;
export type IngestibleTable = (typeof INGESTIBLE_TABLES)[number];

export function isIngestibleTable(name: string): name is IngestibleTable {
  return (INGESTIBLE_TABLES as readonly string[]).includes(name);
}

/** "marketing.ad_performance", "`ad_performance`" -> "ad_performance". */
function bareTable(sqlTable: string): string {
  const last = sqlTable.trim().split('.').pop() ?? '';
  return last.replace(/^[`"]|[`"]$/g, '');
}

function mentions(t: SqlTemplate, table: string): boolean {
  const re = new RegExp(`(^|[^A-Za-z0-9_])${table}($|[^A-Za-z0-9_])`);
  return t.parts.some((p) => p.kind === 'text' && re.test(p.text));
}

/** Cubes whose data comes from `table`: by sql_table, or a `sql:` that names it. */
export function cubesReadingTable(model: Model, table: string): string[] {
  const out: string[] = [];
  for (const cube of Object.values(model.cubes)) {
    if (cube.sqlTable ? bareTable(cube.sqlTable) === table : cube.sql ? mentions(cube.sql, table) : false) out.push(cube.name);
  }
  return out.sort();
}
