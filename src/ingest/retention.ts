/**
 * Retention per tenant and fact table through ClickHouse TTL. Each fact table gets
 * `TTL <day> + toIntervalDay(dictGetOrDefault(data_retention_dict, 'days', (tenant_id, table), 36500))`:
 * rows older than the tenant's retention go at merges (or at once with MATERIALIZE TTL). The
 * retention rows (migration 0023) are written per tenant from its plan by `setRetention`.
 * A dictionary in a TTL is "suspicious" to ClickHouse (its value may change): that is the point
 * here, and why setRetention re-materializes the TTL of the tables it changes.
 */
import { TENANT_ID_PATTERN } from '../auth/principal.js';
import type { Engine } from '../engine/engine.js';
import { invariant, UserError } from '../errors.js';
import { selectForTenant } from './tenant-sql.js';

/** Fact tables with a retention, and the day each row counts from. */
export const RETENTION_TABLES = {
  ad_performance: 'date',
  email_activity: 'date',
  web_sessions: 'toDate(started_at)',
  conversions: 'toDate(occurred_at)',
} as const;
export type RetentionTable = keyof typeof RETENTION_TABLES;

/** No retention row: keep (practically) forever. */
export const KEEP_DAYS = 36_500;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function dbOf(engine: Engine): string {
  invariant(IDENTIFIER.test(engine.database), 'the ClickHouse database name must be a plain identifier');
  return engine.database;
}

/** Creates the dictionary and sets every retention table's TTL. Idempotent; run after migrations. */
export async function enableRetention(engine: Engine): Promise<void> {
  const db = dbOf(engine);
  await engine.command(
    `CREATE DICTIONARY IF NOT EXISTS ${db}.data_retention_dict (tenant_id String, table_name String, days UInt32)
     PRIMARY KEY tenant_id, table_name
     SOURCE(CLICKHOUSE(TABLE 'data_retention' DB '${db}'))
     LIFETIME(MIN 30 MAX 60) LAYOUT(COMPLEX_KEY_HASHED())`,
  );
  for (const [table, day] of Object.entries(RETENTION_TABLES)) {
    // materialize_ttl_after_modify = 0: setting the TTL does not rewrite the table; setRetention does, per table.
    await engine.command(
      `ALTER TABLE ${db}.${table} MODIFY TTL ${day} + toIntervalDay(dictGetOrDefault('${db}.data_retention_dict', 'days', (tenant_id, '${table}'), toUInt32(${KEEP_DAYS})))
       SETTINGS allow_suspicious_ttl_expressions = 1, materialize_ttl_after_modify = 0`,
    );
  }
}

/**
 * Sets a tenant's retention (days per table; from its plan) and applies it now: the dictionary is
 * reloaded and the changed tables' TTL re-materialized (a mutation: rows past retention are
 * removed). Returns the tables changed; the caller signals their cubes (caches, live queries).
 */
export async function setRetention(engine: Engine, tenantId: string, days: Partial<Record<RetentionTable, number>>): Promise<RetentionTable[]> {
  const db = dbOf(engine);
  invariant(TENANT_ID_PATTERN.test(tenantId), 'retention needs a valid tenant id');
  const tables = Object.keys(days) as RetentionTable[];
  for (const t of tables) {
    if (!Object.hasOwn(RETENTION_TABLES, t)) throw new UserError('BAD_USER_INPUT', `no retention for table "${t}"`, { table: t });
    const d = days[t];
    if (!Number.isInteger(d) || (d as number) < 1 || (d as number) > KEEP_DAYS)
      throw new UserError('BAD_USER_INPUT', `retention days must be 1-${KEEP_DAYS}`, { table: t });
  }
  if (tables.length === 0) return [];
  // Values travel as data, never in SQL text.
  await engine.insert(
    'data_retention',
    tables.map((t) => ({ tenant_id: tenantId, table_name: t, days: days[t] })),
  );
  await engine.command(`SYSTEM RELOAD DICTIONARY ${db}.data_retention_dict`);
  for (const t of tables) await engine.command(`ALTER TABLE ${db}.${t} MATERIALIZE TTL SETTINGS mutations_sync = 1`);
  return tables;
}

/**
 * Retention by plan (days of fact rows kept; the plan names of tenancy/usage-meter.ts PLAN_QUOTAS).
 * enterprise keeps everything. An unknown plan keeps everything too (no silent data loss).
 */
export const PLAN_RETENTION_DAYS: Readonly<Record<string, number | undefined>> = Object.freeze({
  free: 90,
  pro: 3 * 365,
  enterprise: undefined,
});

/** The retention a plan gives every retention table ({} = keep everything). */
export function retentionForPlan(plan: string): Partial<Record<RetentionTable, number>> {
  const days = Object.hasOwn(PLAN_RETENTION_DAYS, plan) ? PLAN_RETENTION_DAYS[plan] : undefined;
  if (days === undefined) return {};
  return Object.fromEntries(Object.keys(RETENTION_TABLES).map((t) => [t, days]));
}

/** A tenant's retention days per table (tables without one keep everything). */
export async function retentionOf(engine: Engine, tenantId: string): Promise<Partial<Record<RetentionTable, number>>> {
  // One row per (tenant, table): the engine reads ReplacingMergeTree tables with final = 1.
  const q = selectForTenant(tenantId, { select: 'table_name AS t, days AS d', from: `${dbOf(engine)}.data_retention` });
  const { rows } = await engine.query<{ t: RetentionTable; d: number | string }>(q.sql, q.params);
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.d)]));
}
