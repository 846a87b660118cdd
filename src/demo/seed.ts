/**
 * seedDemo: loads the deterministic demo dataset for the DEMO_TENANTS into the warehouse.
 * Existing rows of the demo tenants are removed first (other tenants are never touched), so
 * seeding twice gives the same warehouse as seeding once.
 */
import type { Engine } from '../engine/engine.js';
import { AD_PERFORMANCE_SQL, CONVERSIONS_SQL, EMAIL_SQL, ORGANIC_SESSIONS_SQL, PAID_SESSIONS_SQL, PLAN_TABLES } from './facts.js';
import { buildPlan, type Row } from './plan.js';
import { DEFAULT_DEMO_SEED, DEMO_END_DATE, DEMO_START_DATE, DEMO_TENANT_IDS } from './tenants.js';

export interface SeedOptions {
  /** Multiplies the fact row counts (1 ≈ 1.1M fact rows). Entity tables do not scale. */
  readonly scale?: number;
  readonly seed?: number;
}

/** Tenant-scoped tables the demo writes, in load order. */
export const DEMO_TABLES = ['campaigns', 'clients', 'ad_performance', 'web_sessions', 'conversions', 'email_activity'] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

const INSERT_CHUNK = 5_000;
const PLAN_BLOCK_ROWS = 8;

export async function seedDemo(engine: Engine, options: SeedOptions = {}): Promise<{ rows: Record<DemoTable, number> }> {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`demo scale must be a positive number, got ${scale}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`demo seed must be a non-negative integer, got ${seed}`);

  const plan = buildPlan(seed, scale);
  await removeDemoRows(engine);
  await insertChunked(engine, 'campaigns', plan.campaigns);
  await insertChunked(engine, 'clients', plan.clients);

  for (const ddl of Object.values(PLAN_TABLES)) await engine.command(ddl);
  try {
    for (const name of Object.keys(PLAN_TABLES)) await engine.command(`TRUNCATE TABLE ${name}`);
    // One Memory block per insert: several small blocks let ClickHouse expand them on all cores.
    await insertChunked(engine, '_demo_campaign_plan', plan.campaignPlan, PLAN_BLOCK_ROWS);
    await insertChunked(engine, '_demo_tenant_plan', plan.tenantPlan, 1);
    await insertChunked(engine, '_demo_email_plan', plan.emailPlan, PLAN_BLOCK_ROWS);
    const params = { seed, start: DEMO_START_DATE, end: DEMO_END_DATE };
    for (const sql of [AD_PERFORMANCE_SQL, PAID_SESSIONS_SQL, ORGANIC_SESSIONS_SQL, CONVERSIONS_SQL, EMAIL_SQL]) {
      await engine.command(sql, params);
    }
  } finally {
    for (const name of Object.keys(PLAN_TABLES)) await engine.command(`DROP TABLE IF EXISTS ${name}`);
  }
  return { rows: await countDemoRows(engine) };
}

/** True when no fact or entity table holds any row (of any tenant): a fresh warehouse. */
export async function isWarehouseEmpty(engine: Engine): Promise<boolean> {
  const { rows } = await engine.query<{ n: number }>(
    `SELECT sum(total_rows) AS n FROM system.tables WHERE database = currentDatabase() AND name IN {tables:Array(String)}`,
    { tables: [...DEMO_TABLES] },
  );
  return Number(rows[0]?.n ?? 0) === 0;
}

export async function countDemoRows(engine: Engine): Promise<Record<DemoTable, number>> {
  const out = {} as Record<DemoTable, number>;
  for (const table of DEMO_TABLES) {
    const { rows } = await engine.query<{ n: number }>(`SELECT count() AS n FROM ${table} WHERE tenant_id IN {tenants:Array(String)}`, {
      tenants: [...DEMO_TENANT_IDS],
    });
    out[table] = Number(rows[0]?.n ?? 0);
  }
  return out;
}

async function removeDemoRows(engine: Engine): Promise<void> {
  const tenants = [...DEMO_TENANT_IDS];
  for (const table of DEMO_TABLES) {
    const { rows } = await engine.query<{ demo: number; other: number }>(
      `SELECT countIf(tenant_id IN {tenants:Array(String)}) AS demo, countIf(tenant_id NOT IN {tenants:Array(String)}) AS other FROM ${table}`,
      { tenants },
    );
    const { demo = 0, other = 0 } = rows[0] ?? {};
    if (Number(demo) === 0) continue;
    // A mutation rewrites every partition (seconds); TRUNCATE is instant when only demo rows exist.
    if (Number(other) === 0) await engine.command(`TRUNCATE TABLE ${table}`);
    else await engine.command(`DELETE FROM ${table} WHERE tenant_id IN {tenants:Array(String)}`, { tenants });
  }
}

async function insertChunked(engine: Engine, table: string, rows: readonly Row[], chunk = INSERT_CHUNK): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) await engine.insert(table, rows.slice(i, i + chunk));
}
