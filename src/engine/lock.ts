/**
 * A lock that lives in the warehouse it protects, so every process sharing the ClickHouse
 * database — servers, `strata seed`, with Postgres, PGlite or no store at all — sees the same one.
 *
 * ClickHouse has no row-level compare-and-set, but CREATE TABLE of a name that exists fails
 * (TABLE_ALREADY_EXISTS) atomically. Each acquisition is therefore a new generation table
 * `_strata_lock__<name>__<n>`: whoever creates generation n+1 holds the lock, and the newest
 * generation is the only one that counts. Its rows are heartbeats (`held`) and the release
 * (`released`), stamped with the SERVER's clock (no skew between instances). A holder that dies
 * (kill -9) stops beating; after `leaseMs` without a beat the next contender takes generation n+1.
 * A holder that was too slow to beat sees a newer generation and reports `lost()`.
 *
 * Needs one ClickHouse server (or a Replicated database, where DDL goes through Keeper); plain
 * replicas behind a load balancer each keep their own tables and would not share the lock.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Engine } from './engine.js';
import { quoteIdent } from './transport.js';

export const LOCK_TABLE_PREFIX = '_strata_lock__';
/** A dead holder is overtaken after this long without a heartbeat. */
export const DEFAULT_LEASE_MS = 30_000;

const NAME = /^[a-z][a-z0-9_]*$/;

/** This process: what other instances see as the holder (host:pid:random). */
export const LOCK_OWNER = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

export interface LockHolder {
  readonly owner: string;
  readonly generation: number;
  /** Milliseconds since its last heartbeat (server clock). */
  readonly ageMs: number;
}

export interface LockOptions {
  readonly leaseMs?: number;
  /** How often a waiting contender looks again (default 500 ms). */
  readonly pollMs?: number;
  readonly owner?: string;
  /** Called when the lock is found held by someone else (once per holder). */
  readonly onWait?: (holder: LockHolder) => void;
  /** Called when a holder whose lease ran out is overtaken. */
  readonly onTakeover?: (holder: LockHolder) => void;
}

export interface HeldLock {
  readonly generation: number;
  readonly owner: string;
  /** True once another contender took a newer generation (our lease ran out). */
  lost(): boolean;
  release(): Promise<void>;
}

interface Generation {
  readonly generation: number;
  readonly table: string;
  /** Seconds since the table was created (server clock), for a table that holds no row yet. */
  readonly createdAgoMs: number;
}

/** Runs `fn` holding the lock; releases it however `fn` ends. */
export async function withClickhouseLock<T>(engine: Engine, name: string, fn: (lock: HeldLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireClickhouseLock(engine, name, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

export async function acquireClickhouseLock(engine: Engine, name: string, options: LockOptions = {}): Promise<HeldLock> {
  if (!NAME.test(name)) throw new Error(`invalid lock name ${JSON.stringify(name)}`);
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? 500;
  const owner = options.owner ?? LOCK_OWNER;
  let waitedOn: string | undefined;
  for (;;) {
    const generations = await listGenerations(engine, name);
    const latest = generations.at(-1);
    if (latest) {
      const holder = await holderOf(engine, latest).catch((e: unknown) => {
        if (tableGone(e)) return null; // dropped under our feet: look again
        throw e;
      });
      if (holder === null) continue;
      if (holder && holder.ageMs < leaseMs) {
        if (waitedOn !== `${holder.owner}#${holder.generation}`) {
          waitedOn = `${holder.owner}#${holder.generation}`;
          options.onWait?.(holder);
        }
        await sleep(pollMs);
        continue;
      }
      if (holder) options.onTakeover?.(holder);
    }
    const generation = (latest?.generation ?? 0) + 1;
    const table = tableName(name, generation);
    try {
      await engine.command(
        `CREATE TABLE ${quoteIdent(table)} (owner String, state LowCardinality(String), at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY at`,
      );
    } catch (e) {
      if (alreadyExists(e)) continue; // another contender took this generation
      throw e;
    }
    await beat(engine, table, owner, 'held');
    // A stale view can recreate a generation a newer holder already dropped: only the newest counts.
    const newest = (await listGenerations(engine, name)).at(-1);
    if (newest && newest.generation !== generation) {
      await engine.command(`DROP TABLE IF EXISTS ${quoteIdent(table)}`).catch(() => undefined);
      continue;
    }
    for (const old of generations) await engine.command(`DROP TABLE IF EXISTS ${quoteIdent(old.table)}`).catch(() => undefined);
    return holdLock(engine, name, table, generation, owner, leaseMs);
  }
}

/** The live holder of the lock (heartbeat younger than the lease), or undefined when it is free. */
export async function readClickhouseLock(engine: Engine, name: string, leaseMs: number = DEFAULT_LEASE_MS): Promise<LockHolder | undefined> {
  const latest = (await listGenerations(engine, name)).at(-1);
  if (!latest) return undefined;
  const holder = await holderOf(engine, latest).catch((e: unknown) => {
    if (tableGone(e)) return undefined; // a newer generation replaced it just now
    throw e;
  });
  return holder && holder.ageMs < leaseMs ? holder : undefined;
}

function holdLock(engine: Engine, name: string, table: string, generation: number, owner: string, leaseMs: number): HeldLock {
  let lost = false;
  let released = false;
  let beating: Promise<void> = Promise.resolve();
  // Several beats per lease, so one slow statement does not cost the lock. One beat at a time,
  // and release waits for the last one: no `held` row lands after `released`.
  const timer = setInterval(
    () => {
      beating = beating
        .then(async () => {
          if (released) return;
          const newest = (await listGenerations(engine, name)).at(-1);
          if (newest?.generation !== generation) lost = true;
          else if (!released) await beat(engine, table, owner, 'held');
        })
        .catch(() => undefined);
    },
    Math.max(50, Math.floor(leaseMs / 6)),
  );
  timer.unref();
  return {
    generation,
    owner,
    lost: () => lost,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beating;
      // Best effort: if this fails the lease simply runs out.
      await beat(engine, table, owner, 'released').catch(() => undefined);
    },
  };
}

async function beat(engine: Engine, table: string, owner: string, state: 'held' | 'released'): Promise<void> {
  await engine.command(`INSERT INTO ${quoteIdent(table)} (owner, state) SELECT {owner:String}, {state:String}`, { owner, state });
}

async function listGenerations(engine: Engine, name: string): Promise<Generation[]> {
  const prefix = `${LOCK_TABLE_PREFIX}${name}__`;
  const { rows } = await engine.query<{ name: string; created_ago_ms: number }>(
    `SELECT name, (toUnixTimestamp(now()) - toUnixTimestamp(metadata_modification_time)) * 1000 AS created_ago_ms
     FROM system.tables WHERE database = currentDatabase() AND startsWith(name, {prefix:String})`,
    { prefix },
  );
  return rows
    .map((r) => ({ generation: Number(r.name.slice(prefix.length)), table: r.name, createdAgoMs: Number(r.created_ago_ms) }))
    .filter((g) => Number.isSafeInteger(g.generation) && g.generation > 0)
    .sort((a, b) => a.generation - b.generation);
}

/** The generation's holder (undefined once released); a table without rows is held since its creation. */
async function holderOf(engine: Engine, g: Generation): Promise<LockHolder | undefined> {
  // Aliases differ from the columns (an alias would shadow the column inside argMax). On a tie
  // in time, `released` wins.
  const { rows } = await engine.query<{ n: number; last_owner: string; last_state: string; age_ms: number }>(
    `SELECT count() AS n, argMax(owner, (at, state = 'released')) AS last_owner, argMax(state, (at, state = 'released')) AS last_state,
            toUnixTimestamp64Milli(now64(3)) - toUnixTimestamp64Milli(max(at)) AS age_ms
     FROM ${quoteIdent(g.table)}`,
  );
  const r = rows[0];
  if (!r || Number(r.n) === 0) return { owner: '(starting)', generation: g.generation, ageMs: g.createdAgoMs };
  return r.last_state === 'released' ? undefined : { owner: r.last_owner, generation: g.generation, ageMs: Number(r.age_ms) };
}

function tableName(name: string, generation: number): string {
  return `${LOCK_TABLE_PREFIX}${name}__${generation}`;
}

function errorText(e: unknown): string {
  return `${(e as Error)?.message ?? ''} ${((e as { cause?: Error }).cause as Error | undefined)?.message ?? ''}`;
}

function alreadyExists(e: unknown): boolean {
  return /TABLE_ALREADY_EXISTS|Code: 57\b|already exists/.test(errorText(e));
}

function tableGone(e: unknown): boolean {
  return /UNKNOWN_TABLE|Code: 60\b|does not exist|doesn't exist/.test(errorText(e));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
