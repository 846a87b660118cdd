/**
 * The process's view of its rollups: which are ready (the compiler routes to those only) and the
 * maintainer that keeps them equal to their cubes. Empty until warehouse-startup.ts has built them,
 * so a query during the build reads the fact table. Rows removed while they were being built (a
 * deletion, retention at start) are folded in before the first query is routed to them.
 */
import type { RollupAvailability } from '../compiler/rollup/route.js';
import type { ChangeEvent } from '../live/signals.js';
import type { Logger } from '../logger.js';
import type { RollupMaintainer } from './maintainer.js';
import type { RollupBuildReport } from './warehouse.js';

export interface RollupRegistry {
  /**
   * The rollups queries may read: all ready ones, except (given a tenant) those of cubes this
   * process is changing for that tenant and has not caught up yet (`hold`): those read the facts.
   */
  availability(tenantId?: string): RollupAvailability | undefined;
  /**
   * A write of this process to `cubes` (empty: all) of a tenant is under way or not folded into the
   * rollups yet: until the release, that tenant's queries read those cubes' facts, so an answer right
   * after the write never comes from a rollup that lags it. Returns the release (idempotent).
   */
  hold(tenantId: string, cubes: readonly string[]): () => void;
  /** Starts routing to the built rollups (after the removals seen meanwhile are folded in). */
  activate(report: RollupBuildReport, maintainer: RollupMaintainer): Promise<void>;
  /** The background sweep recomputed these cubes' rollups for the tenant (other writers' rows). */
  refreshed(tenantId: string, cubes: readonly string[]): void;
  onRefreshed(listener: (tenantId: string, cubes: readonly string[]) => void): void;
  /** Brings the rollups of the changed cubes up to date (before the change is announced). Never throws. */
  catchUp(change: ChangeEvent): Promise<void>;
  close(): void;
}

export function createRollupRegistry(logger?: Pick<Logger, 'warn'>): RollupRegistry {
  let ready: RollupAvailability | undefined;
  let maintainer: RollupMaintainer | undefined;
  // Removals before the maintainer exists: inserts leave marks the first refresh reads, removals do not.
  let removedEarly: ChangeEvent[] = [];
  const listeners: ((tenantId: string, cubes: readonly string[]) => void)[] = [];
  /** tenant -> cube ('*': every cube) -> open holds. */
  const held = new Map<string, Map<string, number>>();

  async function apply(m: RollupMaintainer, change: ChangeEvent): Promise<void> {
    const cubes = change.cubes.length > 0 ? change.cubes : undefined;
    try {
      if (change.removed) await m.invalidate(change.tenantId, cubes);
      else await m.refresh(change.tenantId, cubes);
    } catch (err) {
      // The marks stay pending: the next change or the background sweep folds them in.
      logger?.warn({ err: (err as Error).message, tenantId: change.tenantId }, 'rollups: refresh after a change failed');
    }
  }

  return {
    availability(tenantId) {
      const mine = tenantId === undefined ? undefined : held.get(tenantId);
      if (!ready || !mine) return ready;
      if (mine.has('*')) return undefined;
      return new Map([...ready].filter(([name]) => !mine.has(name.slice(0, name.indexOf('.')))));
    },
    hold(tenantId, cubes) {
      const keys = cubes.length > 0 ? [...new Set(cubes)] : ['*'];
      let mine = held.get(tenantId);
      if (!mine) held.set(tenantId, (mine = new Map()));
      for (const k of keys) mine.set(k, (mine.get(k) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const m = held.get(tenantId);
        if (!m) return;
        for (const k of keys) {
          const n = (m.get(k) ?? 1) - 1;
          if (n > 0) m.set(k, n);
          else m.delete(k);
        }
        if (m.size === 0) held.delete(tenantId);
      };
    },
    async activate(report, m) {
      maintainer = m;
      const early = removedEarly;
      removedEarly = [];
      for (const change of early) await apply(m, change);
      ready = report.ready;
    },
    async catchUp(change) {
      if (maintainer) return apply(maintainer, change);
      if (change.removed) removedEarly.push(change);
    },
    refreshed(tenantId, cubes) {
      for (const l of listeners) l(tenantId, cubes);
    },
    onRefreshed(listener) {
      listeners.push(listener);
    },
    close() {
      maintainer?.stop();
    },
  };
}
