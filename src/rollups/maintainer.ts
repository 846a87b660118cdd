/**
 * Keeps rollups equal to their cube's table, incrementally: the marker views note which
 * (tenant, bucket) an insert touched; `refresh` recomputes exactly those buckets from the cube's
 * table (read with FINAL, so an upserted fact row counts once, corrected) and replaces them:
 *
 *   1. V = the server's clock in ns; the buckets' new rows go in with _version V;
 *   2. every older row of those buckets gets a tombstone at V - 1: a group the new rows still have
 *      keeps the new row (higher version), a group that is gone stays deleted;
 *   3. the marks up to the newest one read (less a second, for an insert committing meanwhile)
 *      are done (`_strata_rollup_done`, per rollup and tenant).
 *
 * Recomputing (rather than adding deltas in a materialized view) is what keeps upserts exact: a
 * corrected row replaces the old one in the fact table, so adding the new row's values would count
 * both. Two refreshes of the same buckets at once (two instances) are safe: the one that started
 * last read the most recent facts and has the highest version.
 *
 * A rollup that a finer rollup of its cube can compute (`derivedFrom`) is recomputed from that
 * rollup's rows, after it, for its own marked buckets and every bucket its source redid in the run:
 * two fact scans instead of four for ad_performance's rollups.
 *
 * Deletions and retention remove rows without an insert: `invalidate` marks the tenant's rollups of
 * those cubes for a full rebuild. Writers' catch-ups (registry.catchUp, writer-signals.ts) run
 * before other instances and alert rules hear of the change; a background sweep folds in
 * inserts made outside Strata (every rollup's refresh_key.every, default 10 s).
 */
import { rollupSelect } from '../compiler/rollup/build-sql.js';
import { bucketOfDay, derivedRollupSelect } from '../compiler/rollup/derive.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import { DIRTY_TABLE, DONE_TABLE, type PlannedRollup, UPKEEP, VERSION_NOW } from './warehouse.js';

export interface RollupMaintainer {
  /** Folds in pending marks: of one tenant (the rollups of `cubes`, or all), or of every tenant. */
  refresh(tenantId?: string, cubes?: readonly string[]): Promise<RefreshReport>;
  /** Rows left the cubes' tables without an insert (deletion, retention): rebuild the tenant's rollups of them. */
  invalidate(tenantId: string, cubes?: readonly string[]): Promise<RefreshReport>;
  /** Background sweep for inserts made outside Strata. */
  start(intervalMs?: number, onRefreshed?: (tenantId: string, cubes: readonly string[]) => void): void;
  stop(): void;
}

export interface RefreshReport {
  /** (rollup, tenant) pairs whose days were recomputed. */
  readonly groups: number;
  /** Per tenant, the cubes whose rollups changed. */
  readonly changed: ReadonlyMap<string, readonly string[]>;
  readonly buckets: number;
  readonly ms: number;
}

const NOTHING: RefreshReport = { groups: 0, changed: new Map(), buckets: 0, ms: 0 };

const q = (name: string) => `\`${name.replace(/`/g, '')}\``;
/** Marks this close (ns) before the newest one read are counted again next time: a late commit shows. */
const SETTLE = '1000000000';

interface MarkGroup {
  readonly rollup: string;
  readonly tenant: string;
  /** The watermark (ns): marks up to it are folded in. */
  readonly until: string;
  /** Marks within SETTLE before the watermark when it was written. */
  readonly lookback: number;
  /** [bucket, marked_at in ns, full] */
  readonly marks: readonly (readonly [string, string, number])[];
  readonly v: string;
}

export function createRollupMaintainer(engine: Engine, rollups: readonly PlannedRollup[], logger?: Pick<Logger, 'warn' | 'info'>): RollupMaintainer {
  const byTable = new Map(rollups.map((r) => [r.table, r]));
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // One run at a time: refreshes of one process never race each other.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const tablesOf = (cubes?: readonly string[]) => rollups.filter((r) => !cubes || cubes.includes(r.pre.cube)).map((r) => r.table);

  async function refreshGroup(r: PlannedRollup, tenantId: string, buckets: readonly string[] | undefined, v: bigint): Promise<void> {
    const scope = { tenantId, ...(buckets ? { buckets } : {}) };
    const source = r.derivedFrom ? derivedRollupSelect(r, r.derivedFrom, scope) : rollupSelect(r.shape, { timeIsDate: r.timeIsDate, ...scope });
    await engine.command(`INSERT INTO ${q(r.table)} SELECT *, toUInt64({v:String}), 0 FROM (${source.sql}) SETTINGS final = 1`, {
      ...source.params,
      v: v.toString(),
    });
    const inBuckets = buckets && r.shape.time ? ` AND ${q(r.shape.time.column)} IN {buckets:Array(Date)}` : '';
    await engine.command(
      // The filter sits in a subquery: in the outer SELECT, `_version` would name the REPLACE alias.
      `INSERT INTO ${q(r.table)} SELECT * REPLACE (toUInt64({vm:String}) AS _version, 1 AS _deleted) FROM ` +
        `(SELECT * FROM ${q(r.table)} FINAL WHERE tenant_id = {tenant:String}${inBuckets} AND _version < toUInt64({vm:String}))`,
      { tenant: tenantId, vm: (v - 1n).toString(), ...(inBuckets ? { buckets } : {}) },
    );
  }

  async function runRefresh(tenantId: string | undefined, tables: readonly string[]): Promise<RefreshReport> {
    const started = performance.now();
    if (tables.length === 0) return NOTHING;
    // Marks after the watermark, and those of the last second before it (a late commit shows there as
    // a higher count than the last run saw). V, the version of all this run writes, is read with them.
    const { rows } = await engine.query<MarkGroup>(
      `SELECT d.rollup AS rollup, d.tenant_id AS tenant, toString(any(toUnixTimestamp64Nano(w.done_until))) AS until, any(w.lookback) AS lookback, ` +
        `groupArray((toString(d.bucket), toString(toUnixTimestamp64Nano(d.marked_at)), d.full)) AS marks, toString(${VERSION_NOW}) AS v ` +
        `FROM ${DIRTY_TABLE} AS d LEFT JOIN ${DONE_TABLE} AS w ON w.rollup = d.rollup AND w.tenant_id = d.tenant_id ` +
        `WHERE d.rollup IN {tables:Array(String)}${tenantId !== undefined ? ' AND d.tenant_id = {tenant:String}' : ''} ` +
        `AND toUnixTimestamp64Nano(d.marked_at) > toUnixTimestamp64Nano(w.done_until) - ${SETTLE} ` +
        `GROUP BY d.rollup, d.tenant_id SETTINGS join_use_nulls = 0`,
      { tables, ...(tenantId !== undefined ? { tenant: tenantId } : {}) },
      UPKEEP,
    );
    // What to recompute, per rollup table and tenant: buckets, or everything (full).
    const work = new Map<string, Map<string, { full: boolean; buckets: Set<string>; v: bigint }>>();
    const want = (table: string, tenant: string, v: bigint) => {
      const byTenant = work.get(table) ?? new Map();
      work.set(table, byTenant);
      const w = byTenant.get(tenant) ?? { full: false, buckets: new Set<string>(), v };
      byTenant.set(tenant, w);
      return w;
    };
    const done: { rollup: string; tenant: string; until: bigint; lookback: number }[] = [];
    for (const g of rows) {
      const r = byTable.get(g.rollup);
      if (!r) continue;
      const until = BigInt(g.until);
      const marks = g.marks.map(([bucket, at, full]) => ({ bucket, at: BigInt(at), full: Number(full) === 1 }));
      const fresh = marks.filter((m) => m.at > until);
      const late = marks.length - fresh.length > Number(g.lookback);
      const todo = late ? marks : fresh;
      const newUntil = marks.reduce((a, m) => (m.at > a ? m.at : a), until);
      done.push({ rollup: g.rollup, tenant: g.tenant, until: newUntil, lookback: marks.filter((m) => m.at > newUntil - BigInt(SETTLE)).length });
      if (todo.length === 0) continue;
      const w = want(r.table, g.tenant, BigInt(g.v));
      w.full ||= todo.some((m) => m.full) || !r.shape.time;
      for (const m of todo) w.buckets.add(m.bucket);
    }
    // A rollup refreshed from a finer one also redoes whatever its source redoes in this run, after
    // it: a source's buckets recomputed later than the derived rollup read them are never missed.
    for (const r of rollups) {
      const source = r.derivedFrom && work.get(r.derivedFrom.table);
      if (!source || !tables.includes(r.table)) continue;
      for (const [tenant, s] of source) {
        const w = want(r.table, tenant, s.v);
        w.full ||= s.full || !r.shape.time;
        const granularity = r.shape.time?.granularity ?? 'day';
        for (const day of s.buckets) w.buckets.add(bucketOfDay(granularity, day));
      }
    }
    let buckets = 0;
    const changed = new Map<string, Set<string>>();
    let recomputed = 0;
    const ordered = [...rollups.filter((r) => !r.derivedFrom), ...rollups.filter((r) => r.derivedFrom)];
    for (const r of ordered) {
      for (const [tenant, w] of work.get(r.table) ?? []) {
        const list = [...w.buckets];
        await refreshGroup(r, tenant, w.full ? undefined : list, w.v);
        buckets += w.full ? 0 : list.length;
        recomputed++;
        changed.set(tenant, (changed.get(tenant) ?? new Set()).add(r.pre.cube));
      }
    }
    if (done.length > 0) {
      await engine.command(
        `INSERT INTO ${DONE_TABLE} (rollup, tenant_id, done_until, lookback) SELECT x.1, x.2, fromUnixTimestamp64Nano(toInt64(x.3)), x.4 ` +
          `FROM (SELECT arrayJoin(arrayZip({rollups:Array(String)}, {tenants:Array(String)}, {untils:Array(String)}, {lookbacks:Array(UInt32)})) AS x)`,
        {
          rollups: done.map((g) => g.rollup),
          tenants: done.map((g) => g.tenant),
          untils: done.map((g) => g.until.toString()),
          lookbacks: done.map((g) => g.lookback),
        },
      );
    }
    return {
      groups: recomputed,
      changed: new Map([...changed].map(([t, c]) => [t, [...c]])),
      buckets,
      ms: performance.now() - started,
    };
  }

  return {
    refresh(tenantId, cubes) {
      return serial(() => runRefresh(tenantId, tablesOf(cubes)));
    },
    invalidate(tenantId, cubes) {
      return serial(async () => {
        const tables = tablesOf(cubes);
        if (tables.length === 0) return NOTHING;
        await engine.command(
          `INSERT INTO ${DIRTY_TABLE} (rollup, tenant_id, bucket, full) SELECT arrayJoin({tables:Array(String)}), {tenant:String}, toDate(0), 1`,
          { tables, tenant: tenantId },
        );
        return runRefresh(tenantId, tables);
      });
    },
    start(intervalMs = 10_000, onRefreshed) {
      if (timer || rollups.length === 0) return;
      // One sweep queued or running at a time (a sweep slower than the interval does not pile up
      // behind itself); a sweep still queued when stop() is called does nothing.
      let sweeping = false;
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        serial(() => (timer ? runRefresh(undefined, tablesOf()) : Promise.resolve(NOTHING)))
          .then(
            (report) => {
              // Other writers' rows are in now: results cached from the rollups before are stale.
              for (const [tenantId, cubes] of report.changed) onRefreshed?.(tenantId, cubes);
            },
            (err: Error) => logger?.warn({ err: err.message }, 'rollups: background refresh failed; retried next sweep'),
          )
          .finally(() => {
            sweeping = false;
          });
      }, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
