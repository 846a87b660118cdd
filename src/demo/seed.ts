/**
 * seedDemo: loads the deterministic demo dataset for the DEMO_TENANTS into the warehouse.
 * Existing rows of the demo tenants are removed first (other tenants are never touched), so
 * seeding twice gives the same warehouse as seeding once. The window ends on `endDate` (default:
 * yesterday, UTC) and is recorded in the `demo_dataset` table, which readDemoDataset reads back.
 * Seeds run under the warehouse's `demo_seed` lock (engine/lock.ts): instances started together
 * seed once, and a seed that died half-way is recognised (`complete = 0`) and redone.
 */
import type { Engine } from '../engine/engine.js';
import { DEFAULT_LEASE_MS, type HeldLock, type LockOptions, readClickhouseLock, withClickhouseLock } from '../engine/lock.js';
import { AD_PERFORMANCE_SQL, CONVERSIONS_SQL, EMAIL_SQL, ORGANIC_SESSIONS_SQL, PAID_SESSIONS_SQL, PLAN_TABLES } from './facts.js';
import { buildClientHealth } from './client-health.js';
import { buildPlan, type Row } from './demo-plan.js';
import { withCampaignAttributes } from './campaign-history.js';
import { LIFECYCLE_SOCIAL_TABLES, seedLifecycleAndSocial } from './lifecycle-social-seed.js';
import { buildEmailOutreach } from './email-outreach.js';
import { OUTREACH_HEALTH_TABLES, seedOutreachAndHealth } from './outreach-health-seed.js';
import { DEFAULT_DEMO_SEED, DEMO_TENANT_IDS } from './tenants.js';
import { demoWindow, type DemoWindow } from './window.js';

export interface SeedOptions {
  /** Multiplies the fact row counts (1 ≈ 1.1M fact rows). Entity tables do not scale. */
  readonly scale?: number;
  readonly seed?: number;
  /** Last day of data, "YYYY-MM-DD" (default: yesterday, UTC, by `now`). Tests and benchmarks pass FIXED_DEMO_END_DATE. */
  readonly endDate?: string;
  /** The clock for the default end date. */
  readonly now?: () => Date;
  /** How the `demo_seed` lock is waited for (lease, callbacks). */
  readonly lock?: LockOptions;
  /**
   * Before a seed removes rows from a warehouse that already holds demo data, it waits this long
   * holding the lock, so running instances' watchers (DEMO_SEED_WATCH_MS) stop answering first.
   * Default: 2.5 watch intervals over HTTP (a shared server), 0 on embedded chDB (one process).
   */
  readonly noticeMs?: number;
}

/** The lock every seed takes. */
export const DEMO_SEED_LOCK = 'demo_seed';
/** How often a running instance looks for another instance's seed (HTTP engines only). */
export const DEMO_SEED_WATCH_MS = 2_000;

/** What the last seed loaded (the `demo_dataset` table). */
export interface DemoDataset {
  /** Unknown for a warehouse seeded before the record existed. */
  readonly seed?: number;
  readonly scale?: number;
  readonly start: string;
  readonly end: string;
  /** Demo tenants' rows in DEMO_TABLES right after the seed (unknown for old warehouses). */
  readonly rows?: number;
  /** False while a seed runs — or when it died before it finished. */
  readonly complete?: boolean;
}

export const DEMO_DATASET_TABLE = 'demo_dataset';

/** Tenant-scoped tables the demo writes, in load order. */
export const DEMO_TABLES = [
  'campaigns',
  'clients',
  'ad_performance',
  'web_sessions',
  'conversions',
  'email_activity',
  ...OUTREACH_HEALTH_TABLES,
  ...LIFECYCLE_SOCIAL_TABLES,
] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

const INSERT_CHUNK = 5_000;
const PLAN_BLOCK_ROWS = 8;

export type SeedResult = { rows: Record<DemoTable, number>; window: DemoWindow };

/** Seeds under the `demo_seed` lock (waits for a seed another process is running). */
export async function seedDemo(engine: Engine, options: SeedOptions = {}): Promise<SeedResult> {
  return withClickhouseLock(engine, DEMO_SEED_LOCK, (lock) => seedHoldingLock(engine, options, lock), options.lock);
}

/** The live holder of the `demo_seed` lock: a seed is running somewhere. */
export function readDemoSeedLock(engine: Engine, leaseMs: number = DEFAULT_LEASE_MS) {
  return readClickhouseLock(engine, DEMO_SEED_LOCK, leaseMs);
}

async function seedHoldingLock(engine: Engine, options: SeedOptions, lock: HeldLock): Promise<SeedResult> {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`demo scale must be a positive number, got ${scale}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`demo seed must be a non-negative integer, got ${seed}`);

  const window = demoWindow({ endDate: options.endDate, now: options.now });

  const plan = buildPlan(seed, scale, window);
  const outreach = buildEmailOutreach(seed, scale, window, plan.emailPlan);
  const health = buildClientHealth(seed, window, plan.clients);
  const holding = () => {
    if (lock.lost()) throw new Error('the demo seed lock was taken over (lease ran out); the next start redoes the seed');
  };
  const noticeMs = options.noticeMs ?? (engine.kind === 'http' ? Math.ceil(DEMO_SEED_WATCH_MS * 2.5) : 0);
  if (noticeMs > 0 && !(await isWarehouseEmpty(engine))) await new Promise((r) => setTimeout(r, noticeMs));
  holding();
  await engine.command(`TRUNCATE TABLE IF EXISTS ${DEMO_DATASET_TABLE}`);
  // Written before any row changes: until the complete record replaces it, the data is partial.
  await engine.insert(DEMO_DATASET_TABLE, [{ seed, scale, start_date: window.start, end_date: window.end, rows: 0, complete: 0 }]);
  await removeDemoRows(engine);
  holding();
  await insertChunked(engine, 'campaigns', withCampaignAttributes(seed, plan.campaigns));
  await insertChunked(engine, 'clients', health.clients);

  for (const ddl of Object.values(PLAN_TABLES)) await engine.command(ddl);
  try {
    for (const name of Object.keys(PLAN_TABLES)) await engine.command(`TRUNCATE TABLE ${name}`);
    // One Memory block per insert: several small blocks let ClickHouse expand them on all cores.
    await insertChunked(engine, '_demo_campaign_plan', plan.campaignPlan, PLAN_BLOCK_ROWS);
    await insertChunked(engine, '_demo_tenant_plan', plan.tenantPlan, 1);
    await insertChunked(engine, '_demo_email_plan', outreach.emailPlan, PLAN_BLOCK_ROWS);
    const params = { seed, start: window.start, end: window.end };
    for (const sql of [AD_PERFORMANCE_SQL, PAID_SESSIONS_SQL, ORGANIC_SESSIONS_SQL, CONVERSIONS_SQL, EMAIL_SQL]) {
      holding();
      await engine.command(sql, params);
    }
    // needs _demo_campaign_plan (ad_reach), so inside the try
    await seedLifecycleAndSocial(engine, { plan, seed, scale, window, holding });
  } finally {
    for (const name of Object.keys(PLAN_TABLES)) await engine.command(`DROP TABLE IF EXISTS ${name}`);
  }
  await seedOutreachAndHealth(engine, { outreach, health, seed }, (table, rows, chunk) => insertChunked(engine, table, rows, chunk), holding);
  const rows = await countDemoRows(engine);
  // Recorded last: a seed that died half-way leaves no record, so it reads as "unknown", not current.
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  holding();
  await engine.insert(DEMO_DATASET_TABLE, [{ seed, scale, start_date: window.start, end_date: window.end, rows: total, complete: 1 }]);
  return { rows, window };
}

export type DemoDataState =
  /** repaired: a seed had died half-way (its record says incomplete) and was redone. */
  | {
      readonly action: 'seeded' | 'refreshed' | 'repaired';
      readonly window: DemoWindow;
      readonly rows: Record<DemoTable, number>;
      readonly previous?: DemoDataset;
    }
  | { readonly action: 'current'; readonly dataset: DemoDataset }
  /** Out of date, but demo tenants hold rows the seed did not write: left alone. */
  | { readonly action: 'kept'; readonly dataset: DemoDataset; readonly reason: string }
  /** The warehouse holds data but no demo data: nothing to do. */
  | { readonly action: 'none' };

/**
 * At start: seeds an empty warehouse, and re-seeds demo data whose window no longer ends on the
 * wanted day (options.endDate, default yesterday) when the demo tenants' rows are still exactly
 * what the seed wrote — no ingested batch for them, the same row count as recorded. Rows of other
 * tenants are never touched either way. Otherwise the data is kept and the caller says how to refresh.
 */
export async function ensureDemoData(engine: Engine, options: SeedOptions = {}): Promise<DemoDataState> {
  // Under the lock: an instance starting while another seeds waits, then finds the data current.
  return withClickhouseLock(engine, DEMO_SEED_LOCK, (lock) => ensureHoldingLock(engine, options, lock), options.lock);
}

async function ensureHoldingLock(engine: Engine, options: SeedOptions, lock: HeldLock): Promise<DemoDataState> {
  const seedDemo = (o: SeedOptions) => seedHoldingLock(engine, o, lock);
  if (await isWarehouseEmpty(engine)) return { action: 'seeded', ...(await seedDemo(options)) };
  const dataset = await readDemoDataset(engine);
  if (!dataset) return { action: 'none' };
  if (dataset.complete === false) {
    if (await demoBatchesIngested(engine))
      return { action: 'kept', dataset, reason: 'a seed did not finish, and rows were ingested for the demo tenants since' };
    const redone = await seedDemo({ ...options, seed: options.seed ?? dataset.seed, scale: options.scale ?? dataset.scale });
    return { action: 'repaired', ...redone, previous: dataset };
  }
  const wanted = demoWindow({ endDate: options.endDate, now: options.now });
  if (dataset.end === wanted.end) return { action: 'current', dataset };
  const reason = await demoRowsChanged(engine, dataset);
  if (reason) return { action: 'kept', dataset, reason };
  const reseeded = await seedDemo({ ...options, seed: options.seed ?? dataset.seed, scale: options.scale ?? dataset.scale });
  return { action: 'refreshed', ...reseeded, previous: dataset };
}

/** Why the demo tenants' rows are not (only) the seed's output, or undefined when they are. */
async function demoRowsChanged(engine: Engine, dataset: DemoDataset): Promise<string | undefined> {
  if (await demoBatchesIngested(engine)) return 'rows were ingested for the demo tenants';
  if (dataset.rows === undefined) return 'the warehouse was seeded by an older version (no record of its row count)';
  const now = Object.values(await countDemoRows(engine)).reduce((a, b) => a + b, 0);
  if (now !== dataset.rows) return `the demo tenants hold ${now} rows, the seed wrote ${dataset.rows}`;
  return undefined;
}

async function demoBatchesIngested(engine: Engine): Promise<boolean> {
  const tenants = [...DEMO_TENANT_IDS];
  const batches = await engine.query<{ n: number }>('SELECT count() AS n FROM ingest_batches WHERE tenant_id IN {tenants:Array(String)}', { tenants });
  return Number(batches.rows[0]?.n ?? 0) > 0;
}

/**
 * The window of the demo data in the warehouse: the `demo_dataset` record, or — for a warehouse
 * seeded before the record existed — the demo tenants' last ad_performance day. Undefined when
 * no demo data is present.
 */
export async function readDemoDataset(engine: Engine): Promise<DemoDataset | undefined> {
  const { rows } = await engine.query<{ seed: number; scale: number; start: string; end: string; rows: number; complete: number }>(
    `SELECT seed, scale, toString(start_date) AS start, toString(end_date) AS end, rows, complete FROM ${DEMO_DATASET_TABLE} ORDER BY seeded_at DESC, complete DESC LIMIT 1`,
  );
  const r0 = rows[0];
  if (r0) {
    const done = Number(r0.complete) === 1;
    return { seed: Number(r0.seed), scale: Number(r0.scale), start: r0.start, end: r0.end, rows: done ? Number(r0.rows) : undefined, complete: done };
  }
  const found = await engine.query<{ n: number; start: string; end: string }>(
    `SELECT count() AS n, toString(min(date)) AS start, toString(max(date)) AS end FROM ad_performance WHERE tenant_id IN {tenants:Array(String)}`,
    { tenants: [...DEMO_TENANT_IDS] },
  );
  const r = found.rows[0];
  return r && Number(r.n) > 0 ? { start: r.start, end: r.end } : undefined;
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
