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
  availability(): RollupAvailability | undefined;
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
    availability: () => ready,
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
