/**
 * Refresh keys with Cube's semantics, checked only for (tenant, cube) pairs that live queries read:
 *  - `every` alone: the data may change behind our back; re-evaluate that often.
 *  - `sql`: run the refresh-key SQL per tenant (every `every` when given, else every
 *    config.live.refreshCheckIntervalMs) and re-evaluate when its value changes.
 * Data Strata ingests itself is signalled immediately (signals.ts) and needs no refresh key.
 * The SQL runs through the query service (query/refresh-key.ts), never on the engine from here.
 */
import type { Principal } from '../auth/principal.js';
import type { Model } from '../semantic/model.js';
import type { WriteState } from './signals.js';

/** A cube's refresh-key value for the principal's tenant (the query service's refreshKeyValue). */
export type RefreshKeyReader = (principal: Principal, cube: string) => Promise<string | undefined>;

export interface RefreshSchedulerDeps {
  readonly model: Model;
  readonly checkIntervalMs: number;
  readonly readRefreshKey?: RefreshKeyReader;
  /** Tenants with live queries reading the cube. */
  tenantsReading(cube: string): readonly string[];
  /** A principal of that tenant to run its refresh-key SQL as. */
  principalFor(tenantId: string, cube: string): Principal | undefined;
  onChange(tenantId: string, cubes: readonly string[]): void;
  /**
   * This process's writes to a (tenant, cube) (signals.ts LocalWrites): their own change signal
   * re-evaluates, so a check skips an open write and discards a read that overlapped one.
   */
  readonly writeState?: (tenantId: string, cube: string) => WriteState;
  readonly logger?: { warn(obj: object, msg?: string): void };
  readonly now?: () => number;
}

export interface RefreshScheduler {
  /** One check round (the timer calls it; tests call it directly). */
  tick(): Promise<void>;
  /**
   * A live query of this tenant starts reading `cubes`: take the refresh-key baseline now (before
   * its first evaluation is queued), so a write right after the subscription is seen by the next
   * check instead of becoming that check's baseline.
   */
  watch(tenantId: string, cubes: readonly string[], principal: Principal): Promise<void>;
  /**
   * The data of `cubes` (empty: all) changed and a re-evaluation follows (ingestion signal,
   * resync): read the refresh-key values again now, as the new baselines, so the next check does
   * not re-evaluate the same change a second time. A check already in flight for those pairs
   * records nothing.
   */
  rebaseline(tenantId: string, cubes: readonly string[]): Promise<void>;
  stop(): void;
}

interface Rule {
  readonly cube: string;
  readonly intervalMs: number;
  readonly sql: boolean;
}

export function refreshRules(model: Model, checkIntervalMs: number): Rule[] {
  const rules: Rule[] = [];
  for (const cube of Object.values(model.cubes)) {
    const rk = cube.refreshKey;
    if (!rk) continue;
    if (rk.sql) rules.push({ cube: cube.name, sql: true, intervalMs: rk.everySeconds ? rk.everySeconds * 1000 : checkIntervalMs });
    else if (rk.everySeconds) rules.push({ cube: cube.name, sql: false, intervalMs: rk.everySeconds * 1000 });
  }
  return rules;
}

export function createRefreshScheduler(deps: RefreshSchedulerDeps, options: { autoStart?: boolean } = {}): RefreshScheduler {
  const now = deps.now ?? Date.now;
  const rules = refreshRules(deps.model, deps.checkIntervalMs).filter((r) => {
    if (r.sql && !deps.readRefreshKey) {
      deps.logger?.warn({ cube: r.cube }, 'live: no refresh-key reader; sql refresh key ignored (ingestion signals still apply)');
      return false;
    }
    return true;
  });
  const nextDue = new Map<string, number>();
  /** Last refresh-key value per tenant\0cube. */
  const lastValues = new Map<string, string>();
  /** Bumped per tenant\0cube by rebaseline: a read started before it is outdated. */
  const epochs = new Map<string, number>();
  /** Rebaseline reads in flight per tenant\0cube: a check meanwhile would count their change again. */
  const rebasing = new Map<string, number>();
  /** Baseline reads in flight per tenant\0cube: subscriptions starting together share one read. */
  const watching = new Map<string, Promise<void>>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  async function checkSql(rule: Rule, tenantId: string): Promise<void> {
    const principal = deps.principalFor(tenantId, rule.cube);
    if (!principal) return;
    const key = `${tenantId}\u0000${rule.cube}`;
    if (rebasing.has(key)) return;
    const writes = deps.writeState?.(tenantId, rule.cube);
    if (writes && writes.open > 0) return;
    const epoch = epochs.get(key) ?? 0;
    try {
      const value = await deps.readRefreshKey!(principal, rule.cube);
      if (value === undefined || (epochs.get(key) ?? 0) !== epoch) return;
      // A local write began meanwhile: its signal rebaselines. Had it failed without a signal, the
      // next check still compares against the old baseline and sees what it left.
      if (writes && deps.writeState!(tenantId, rule.cube).begun !== writes.begun) return;
      const prev = lastValues.get(key);
      lastValues.set(key, value);
      if (prev !== undefined && prev !== value) deps.onChange(tenantId, [rule.cube]);
    } catch (err) {
      deps.logger?.warn({ cube: rule.cube, tenantId, err: (err as Error).message }, 'live: refresh-key check failed');
    }
  }

  async function tick(): Promise<void> {
    if (running) return;
    running = true;
    try {
      const t = now();
      const checks: Promise<void>[] = [];
      const active = new Set<string>();
      for (const rule of rules) {
        const tenants = deps.tenantsReading(rule.cube);
        for (const tenant of tenants) active.add(`${tenant}\u0000${rule.cube}`);
        if ((nextDue.get(rule.cube) ?? 0) > t) continue;
        nextDue.set(rule.cube, t + rule.intervalMs);
        for (const tenant of tenants) {
          if (rule.sql) checks.push(checkSql(rule, tenant));
          else deps.onChange(tenant, [rule.cube]);
        }
      }
      await Promise.all(checks);
      // A pair nobody watches forgets its value. Watchers are counted again now: a subscription
      // that started during this round has just taken its baseline (watch) and keeps it.
      for (const rule of rules) for (const tenant of deps.tenantsReading(rule.cube)) active.add(`${tenant}\u0000${rule.cube}`);
      for (const k of lastValues.keys()) if (!active.has(k)) lastValues.delete(k);
    } finally {
      running = false;
    }
  }

  if (options.autoStart !== false && rules.length > 0) {
    const period = Math.max(50, Math.min(deps.checkIntervalMs, ...rules.map((r) => r.intervalMs)));
    // `every` rules fire on their first tick only after one full interval.
    for (const r of rules) if (!r.sql) nextDue.set(r.cube, now() + r.intervalMs);
    timer = setInterval(() => void tick(), period);
    timer.unref();
  }

  return {
    tick,
    async watch(tenantId, cubes, principal) {
      const reads: Promise<void>[] = [];
      for (const rule of rules) {
        const key = `${tenantId}\u0000${rule.cube}`;
        if (!rule.sql || !cubes.includes(rule.cube) || lastValues.has(key)) continue;
        // A dashboard opened by many at once (or 10,000 subscriptions) reads each baseline once.
        let read = watching.get(key);
        if (!read) {
          read = deps.readRefreshKey!(principal, rule.cube)
            .then(
              (value) => {
                if (value !== undefined && !lastValues.has(key)) lastValues.set(key, value);
              },
              (err: Error) => deps.logger?.warn({ cube: rule.cube, tenantId, err: err.message }, 'live: refresh-key baseline failed'),
            )
            .finally(() => watching.delete(key));
          watching.set(key, read);
        }
        reads.push(read);
      }
      await Promise.all(reads);
    },
    async rebaseline(tenantId, cubes) {
      const reads: Promise<void>[] = [];
      for (const rule of rules) {
        if (!rule.sql || (cubes.length > 0 && !cubes.includes(rule.cube))) continue;
        const principal = deps.principalFor(tenantId, rule.cube);
        if (!principal) continue;
        const key = `${tenantId}\u0000${rule.cube}`;
        const epoch = (epochs.get(key) ?? 0) + 1;
        epochs.set(key, epoch);
        rebasing.set(key, (rebasing.get(key) ?? 0) + 1);
        reads.push(
          deps.readRefreshKey!(principal, rule.cube)
            .then(
              (value) => {
                if (value !== undefined && epochs.get(key) === epoch) lastValues.set(key, value);
              },
              (err: Error) => deps.logger?.warn({ cube: rule.cube, tenantId, err: err.message }, 'live: refresh-key baseline failed'),
            )
            .finally(() => {
              const n = (rebasing.get(key) ?? 1) - 1;
              if (n > 0) rebasing.set(key, n);
              else rebasing.delete(key);
            }),
        );
      }
      await Promise.all(reads);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
