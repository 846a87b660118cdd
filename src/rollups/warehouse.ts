/**
 * Rollup tables in the warehouse: created and backfilled from the model at start (under the
 * warehouse lock `rollups`, so instances build each once), recorded in `_strata_rollups`, dropped
 * when the model no longer declares them. A table's name carries a hash of what computes it, so a
 * changed rollup is a new table, built before it is used: a model change is a rebuild.
 *
 * Table: ReplacingMergeTree(_version, _deleted) keyed by tenant, time bucket, dimensions and
 * segment flags; reads de-duplicate (the engine runs every SELECT with final = 1), so a refreshed
 * group replaces its older row and a tombstone hides a group that is gone (maintainer.ts).
 * Marker views (materialized views on the cubes' tables, one per table and bucket expression) mark
 * (rollup, tenant, bucket) dirty on every insert, from Strata's ingestion or anyone else's: the
 * maintainer folds them in.
 */
import { createHash } from 'node:crypto';
import { derivable } from '../compiler/rollup/derive.js';
import { bucketSql, ROLLUP_TENANT_COLUMN, rollupSelect, timeSourceSql } from '../compiler/rollup/build-sql.js';
import type { ReadyRollup } from '../compiler/rollup/route.js';
import { rollupShape, type RollupShape } from '../compiler/rollup/shape.js';
import type { Engine } from '../engine/engine.js';
import type { Model, PreAggregation } from '../semantic/model.js';

export const ROLLUPS_TABLE = '_strata_rollups';
export const DIRTY_TABLE = '_strata_rollup_dirty';
export const DONE_TABLE = '_strata_rollup_done';
/** Bump when the table layout changes: every rollup is rebuilt. */
const LAYOUT_VERSION = 2;

export interface PlannedRollup {
  readonly key: string;
  readonly pre: PreAggregation;
  readonly shape: RollupShape;
  readonly table: string;
  readonly timeIsDate: boolean;
  /** Backfill SELECT (every tenant). */
  readonly select: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** TTL expression: the source table's retention, applied to the rollup's days. */
  readonly ttl?: string;
  /** A finer rollup of the same cube this one is refreshed from (derive.ts); else the cube's table. */
  readonly derivedFrom?: PlannedRollup;
}

export interface RollupOptions {
  /** Refill every rollup from its table (the demo data was replaced under them). */
  readonly rebuild?: boolean;
  /** The TTL expression of a rollup of `table` with day column `day` (data retention on), or undefined. */
  readonly ttl?: (table: string, day: string) => string | undefined;
}

export interface RollupBuildReport {
  readonly ready: Map<string, ReadyRollup>;
  readonly planned: readonly PlannedRollup[];
  readonly built: readonly { readonly table: string; readonly ms: number; readonly rows: number }[];
  readonly dropped: readonly string[];
}

const q = (name: string) => `\`${name.replace(/`/g, '')}\``;

async function ensureBookkeeping(engine: Engine): Promise<void> {
  await engine.command(
    `CREATE TABLE IF NOT EXISTS ${ROLLUPS_TABLE} (table String, rollup String, time_is_date UInt8, built_at DateTime64(3) DEFAULT now64(3)) ENGINE = ReplacingMergeTree(built_at) ORDER BY table`,
  );
  await engine.command(
    `CREATE TABLE IF NOT EXISTS ${DIRTY_TABLE} (rollup String, tenant_id String, bucket Date, full UInt8 DEFAULT 0, marked_at DateTime64(9) DEFAULT now64(9)) ENGINE = MergeTree ORDER BY (rollup, tenant_id, marked_at) TTL toDateTime(marked_at) + INTERVAL 1 DAY`,
  );
  await engine.command(
    `CREATE TABLE IF NOT EXISTS ${DONE_TABLE} (rollup String, tenant_id String, done_until DateTime64(9), lookback UInt32 DEFAULT 0) ENGINE = ReplacingMergeTree(done_until) ORDER BY (rollup, tenant_id)`,
  );
}

/**
 * Rows were replaced without the marker views seeing it (`strata seed`): every rollup is built again
 * at the next start (a built table counts only while it is recorded).
 */
export async function forgetRollups(engine: Engine): Promise<void> {
  await engine.command(`TRUNCATE TABLE IF EXISTS ${ROLLUPS_TABLE}`);
}

/** Every rollup of the model with its table name, column types and backfill SELECT (reads types only). */
export async function planRollups(engine: Engine, model: Model, options: RollupOptions = {}): Promise<PlannedRollup[]> {
  const planned: PlannedRollup[] = [];
  for (const cube of Object.values(model.cubes)) {
    for (const pre of cube.preAggregations ?? []) {
      const shape = rollupShape(model, pre);
      let timeIsDate = false;
      const source = timeSourceSql(shape);
      if (source) {
        const { rows } = await engine.query<{ type: string }>(`DESCRIBE (SELECT ${source} FROM ${cube.sqlTable} AS ${q(cube.name)})`, undefined, UPKEEP);
        timeIsDate = /^(Nullable\()?(LowCardinality\()?Date(32)?\)*$/.test(rows[0]?.type ?? '');
      }
      const select = rollupSelect(shape, { timeIsDate }).sql;
      const { rows } = await engine.query<{ name: string; type: string }>(`DESCRIBE (${select})`, undefined, UPKEEP);
      // LowCardinality of a number (a flag over a LowCardinality column) is refused in a table: keep the number.
      const columns = rows.map((r) => ({ name: r.name, type: r.type.replace(/^LowCardinality\(((?:U?Int|Float|Bool|Date)[^()]*)\)$/, '$1') }));
      const ttl = shape.time && cube.sqlTable ? options.ttl?.(cube.sqlTable, q(shape.time.column)) : undefined;
      const digest = createHash('sha256')
        .update(JSON.stringify([LAYOUT_VERSION, select, columns, pre.partitionGranularity, ttl ?? '']))
        .digest('hex')
        .slice(0, 10);
      planned.push({
        key: `${pre.cube}.${pre.name}`,
        pre,
        shape,
        table: `rollup_${pre.cube}_${pre.name}_${digest}`,
        timeIsDate,
        select,
        columns,
        ...(ttl ? { ttl } : {}),
      });
    }
  }
  return withSources(planned);
}

/** How much a rollup keeps: more dimensions and segments, and finer buckets, keep more rows. */
const detail = (r: PlannedRollup) => r.shape.dimensions.length + r.shape.segments.length + (r.shape.time?.granularity === 'day' ? 0.5 : 0);

/**
 * Each rollup that a finer one of its cube can compute is refreshed from it: from the least
 * detailed such rollup that is itself read from the facts (one level; equal shapes: the first key
 * is the source). The rest read the cube's table.
 */
function withSources(planned: readonly PlannedRollup[]): PlannedRollup[] {
  const finer = (coarse: PlannedRollup, fine: PlannedRollup) =>
    fine !== coarse && derivable(coarse, fine) && (detail(fine) > detail(coarse) || (detail(fine) === detail(coarse) && fine.key < coarse.key));
  const roots = planned.filter((r) => !planned.some((f) => finer(r, f)));
  return planned.map((r) => {
    if (roots.includes(r)) return r;
    const source = roots.filter((f) => finer(r, f)).sort((a, b) => detail(a) - detail(b) || a.key.localeCompare(b.key))[0];
    return source ? { ...r, derivedFrom: source } : r;
  });
}

const PARTITION: Record<PreAggregation['partitionGranularity'], (col: string) => string> = {
  day: (c) => c,
  week: (c) => `toMonday(${c})`,
  month: (c) => `toYYYYMM(${c})`,
  quarter: (c) => `toStartOfQuarter(${c})`,
  year: (c) => `toYear(${c})`,
};

function createTableSql(r: PlannedRollup): string {
  const { shape } = r;
  const keys = [
    ROLLUP_TENANT_COLUMN,
    ...(shape.time ? [shape.time.column] : []),
    ...shape.dimensions.map((d) => d.column),
    ...shape.segments.map((s) => s.column),
  ];
  const cols = [...r.columns.map((c) => `${q(c.name)} ${c.type}`), '`_version` UInt64', '`_deleted` UInt8'].join(', ');
  const partition = shape.time ? ` PARTITION BY ${PARTITION[r.pre.partitionGranularity](q(shape.time.column))}` : '';
  // Only data rows expire: a tombstone outliving its day is harmless, while one removed before the
  // older row it hides (TTL works part by part) would bring that row back.
  const ttl = r.ttl ? ` TTL ${r.ttl} DELETE WHERE _deleted = 0` : '';
  const settings = `allow_nullable_key = 1${r.ttl ? ', allow_suspicious_ttl_expressions = 1' : ''}`;
  return `CREATE TABLE ${q(r.table)} (${cols}) ENGINE = ReplacingMergeTree(_version, _deleted)${partition} ORDER BY (${keys.map(q).join(', ')})${ttl} SETTINGS ${settings}`;
}

export const MARKER_VIEW_PREFIX = 'rollup_marks_';

/**
 * One marker view per cube table and bucket expression (rollups of a cube by day share it): on every
 * insert into the table, the distinct (tenant, bucket) pairs of the block, once per rollup;
 * `full` when a rollup has no time bucket.
 */
function markerViews(rollups: readonly PlannedRollup[]): Map<string, string> {
  const groups = new Map<string, { cube: PlannedRollup['shape']['cube']; bucket: string | undefined; tables: string[] }>();
  for (const r of rollups) {
    const bucket = bucketSql(r.shape, r.timeIsDate);
    const key = `${r.shape.cube.name}\u0000${bucket ?? ''}`;
    const g = groups.get(key) ?? { cube: r.shape.cube, bucket, tables: [] };
    g.tables.push(r.table);
    groups.set(key, g);
  }
  const out = new Map<string, string>();
  for (const { cube, bucket, tables } of groups.values()) {
    const tenant = cube.tenant.kind === 'column' ? cube.tenant.column : ROLLUP_TENANT_COLUMN;
    const list = tables.map((t) => `'${t}'`).join(', ');
    const select =
      `SELECT arrayJoin([${list}]) AS rollup, tenant_id, bucket, ${bucket ? 0 : 1} AS full FROM ` +
      `(SELECT DISTINCT ${q(cube.name)}.${q(tenant)} AS tenant_id, ${bucket ?? 'toDate(0)'} AS bucket FROM ${cube.sqlTable} AS ${q(cube.name)})`;
    const name = `${MARKER_VIEW_PREFIX}${cube.name}_${createHash('sha256').update(select).digest('hex').slice(0, 10)}`;
    out.set(
      name,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(name)} TO ${DIRTY_TABLE} (rollup String, tenant_id String, bucket Date, full UInt8) AS ${select}`,
    );
  }
  return out;
}

/** Rollup upkeep is the server's own work: not counted as statements requests cause (engine stats). */
export const UPKEEP = { internal: true } as const;

export const VERSION_NOW = 'toUInt64(toUnixTimestamp64Nano(now64(9)))';

async function backfill(engine: Engine, r: PlannedRollup): Promise<number> {
  await engine.command(`INSERT INTO ${q(r.table)} SELECT *, ${VERSION_NOW}, 0 FROM (${r.select})`);
  const { rows } = await engine.query<{ n: number }>(`SELECT count() AS n FROM ${q(r.table)}`, undefined, UPKEEP);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Creates and backfills the model's rollups that are not built yet, drops those the model no longer
 * declares. `rebuild`: refill every rollup from its table (the demo data was replaced under them).
 * Call under the warehouse lock `rollups`.
 */
export async function ensureRollups(engine: Engine, model: Model, options: RollupOptions = {}): Promise<RollupBuildReport> {
  await ensureBookkeeping(engine);
  const planned = await planRollups(engine, model, options);
  const { rows: recorded } = await engine.query<{ table: string }>(`SELECT table FROM ${ROLLUPS_TABLE}`, undefined, UPKEEP);
  const { rows: existing } = await engine.query<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'rollup\\_%'`,
    undefined,
    UPKEEP,
  );
  const done = new Set(recorded.map((r) => r.table));
  const present = new Set(existing.map((r) => r.name));
  // The marker views first: rows inserted while a backfill runs are marked and folded in later.
  const views = markerViews(planned);
  for (const sql of views.values()) await engine.command(sql);
  const built: { table: string; ms: number; rows: number }[] = [];
  const ready = new Map<string, ReadyRollup>();
  for (const r of planned) {
    if (!done.has(r.table) || !present.has(r.table) || options.rebuild) {
      const started = performance.now();
      await engine.command(`DROP TABLE IF EXISTS ${q(r.table)}`);
      await engine.command(createTableSql(r));
      const rows = await backfill(engine, r);
      await engine.command(`INSERT INTO ${ROLLUPS_TABLE} (table, rollup, time_is_date) VALUES ({table:String}, {rollup:String}, {tid:UInt8})`, {
        table: r.table,
        rollup: r.key,
        tid: r.timeIsDate ? 1 : 0,
      });
      built.push({ table: r.table, ms: performance.now() - started, rows });
    }
    ready.set(r.key, { table: r.table, timeIsDate: r.timeIsDate });
  }
  const wanted = new Set(planned.map((r) => r.table));
  // Only tables this code recorded: a user's own table named rollup_… is never touched.
  const dropped = [...done].filter((t) => !wanted.has(t));
  for (const t of dropped) await engine.command(`DROP TABLE IF EXISTS ${q(t)}`);
  for (const name of present) if (name.startsWith(MARKER_VIEW_PREFIX) && !views.has(name)) await engine.command(`DROP VIEW IF EXISTS ${q(name)}`);
  if (dropped.length > 0) await engine.command(`DELETE FROM ${ROLLUPS_TABLE} WHERE table IN {dropped:Array(String)}`, { dropped });
  return { ready, planned, built, dropped };
}
