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

/** The ClickHouse user the dictionary reads data_retention as (a server may refuse its `default` user). */
export interface DictionaryCredentials {
  readonly username?: string;
  readonly password?: string;
}

const quoted = (v: string) => `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/**
 * Creates the dictionary and sets every retention table's TTL. Idempotent, and cheap when already
 * done (checked in system tables first: a start does not rewrite table metadata); run after migrations.
 */
export async function enableRetention(engine: Engine, credentials: DictionaryCredentials = {}): Promise<void> {
  const db = dbOf(engine);
  if (await retentionEnabled(engine)) return;
  // The operator's own credentials (config), never a caller's; ClickHouse hides the password in SHOW CREATE.
  const user = credentials.username ? ` USER ${quoted(credentials.username)} PASSWORD ${quoted(credentials.password ?? '')}` : '';
  // The latest days per key (a dictionary loads every row: unmerged older rows would race the newest).
  const source = `SELECT tenant_id, table_name, argMax(days, updated_at) AS days FROM ${db}.data_retention GROUP BY tenant_id, table_name`;
  await engine.command(
    `CREATE OR REPLACE DICTIONARY ${db}.data_retention_dict (tenant_id String, table_name String, days UInt32)
     PRIMARY KEY tenant_id, table_name
     SOURCE(CLICKHOUSE(QUERY ${quoted(source)}${user}))
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
 * The TTL a table derived from a retention table keeps (a rollup of it): rows of a day go when that
 * day's rows of the source table go. Undefined for tables without retention.
 */
export function derivedRetentionTtl(engine: Engine, sourceTable: string, dayColumn: string): string | undefined {
  if (!Object.hasOwn(RETENTION_TABLES, sourceTable)) return undefined;
  const db = dbOf(engine);
  return `${dayColumn} + toIntervalDay(dictGetOrDefault('${db}.data_retention_dict', 'days', (tenant_id, '${sourceTable}'), toUInt32(${KEEP_DAYS})))`;
}

/** True when the dictionary exists and every retention table's TTL reads it. */
export async function retentionEnabled(engine: Engine): Promise<boolean> {
  const { rows } = await engine.query<{ name: string; q: string }>(
    'SELECT name, create_table_query AS q FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
    { db: dbOf(engine), names: ['data_retention_dict', ...Object.keys(RETENTION_TABLES)] },
  );
  const byName = new Map(rows.map((r) => [r.name, r.q]));
  // A dictionary of an earlier version read the table as is: replaced by the argMax source.
  return (
    Boolean(byName.get('data_retention_dict')?.includes('argMax')) && Object.keys(RETENTION_TABLES).every((t) => byName.get(t)?.includes('data_retention_dict'))
  );
}

/**
 * Sets a tenant's retention (days per table; from its plan) and applies it now: the dictionary is
 * reloaded and the changed tables' TTL re-materialized (a mutation: rows past retention are
 * removed). Returns the tables changed; the caller signals their cubes (caches, live queries).
 */
export async function setRetention(engine: Engine, tenantId: string, days: Partial<Record<RetentionTable, number>>): Promise<RetentionTable[]> {
  const tables = checkDays(tenantId, days);
  await writeRetention(engine, tenantId, days, tables);
  return tables;
}

function checkDays(tenantId: string, days: Partial<Record<RetentionTable, number>>): RetentionTable[] {
  invariant(TENANT_ID_PATTERN.test(tenantId), 'retention needs a valid tenant id');
  const tables = Object.keys(days) as RetentionTable[];
  for (const t of tables) {
    if (!Object.hasOwn(RETENTION_TABLES, t)) throw new UserError('BAD_USER_INPUT', `no retention for table "${t}"`, { table: t });
    const d = days[t];
    if (!Number.isInteger(d) || (d as number) < 1 || (d as number) > KEEP_DAYS)
      throw new UserError('BAD_USER_INPUT', `retention days must be 1-${KEEP_DAYS}`, { table: t });
  }
  return tables;
}

async function writeRetention(
  engine: Engine,
  tenantId: string,
  days: Partial<Record<RetentionTable, number>>,
  materialize: readonly RetentionTable[],
): Promise<void> {
  const db = dbOf(engine);
  const tables = Object.keys(days) as RetentionTable[];
  if (tables.length === 0) return;
  // Values travel as data, never in SQL text.
  await engine.insert(
    'data_retention',
    tables.map((t) => ({ tenant_id: tenantId, table_name: t, days: days[t] })),
  );
  await engine.command(`SYSTEM RELOAD DICTIONARY ${db}.data_retention_dict`);
  for (const t of materialize) await engine.command(`ALTER TABLE ${db}.${t} MATERIALIZE TTL SETTINGS mutations_sync = 1`);
}

export interface PlanRetentionChange {
  /** Tables whose days changed. */
  readonly changed: readonly RetentionTable[];
  /** Of those, the ones whose retention got shorter: their TTL was materialized (old rows are gone). */
  readonly shortened: readonly RetentionTable[];
}

/**
 * Brings a tenant's stored retention to what its plan gives (`planDays`: config, default
 * PLAN_RETENTION_DAYS). Only differences are written, so running it again, or on two instances at
 * once, changes nothing more (same rows, ReplacingMergeTree). Only a shorter retention rewrites a
 * table (MATERIALIZE TTL); a longer one cannot bring rows back, so it only updates the dictionary.
 */
export async function applyPlanRetention(
  engine: Engine,
  tenantId: string,
  plan: string,
  planDays: Readonly<Record<string, number | undefined>> = PLAN_RETENTION_DAYS,
): Promise<PlanRetentionChange> {
  const wanted = retentionForPlan(plan, planDays);
  const current = await retentionOf(engine, tenantId);
  const changed: RetentionTable[] = [];
  const shortened: RetentionTable[] = [];
  const days: Partial<Record<RetentionTable, number>> = {};
  for (const t of Object.keys(RETENTION_TABLES) as RetentionTable[]) {
    const want = wanted[t] ?? KEEP_DAYS;
    const had = current[t] ?? KEEP_DAYS;
    if (want === had) continue;
    changed.push(t);
    days[t] = want;
    if (want < had) shortened.push(t);
  }
  checkDays(tenantId, days);
  await writeRetention(engine, tenantId, days, shortened);
  return { changed, shortened };
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
export function retentionForPlan(
  plan: string,
  planDays: Readonly<Record<string, number | undefined>> = PLAN_RETENTION_DAYS,
): Partial<Record<RetentionTable, number>> {
  const days = Object.hasOwn(planDays, plan) ? planDays[plan] : undefined;
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
