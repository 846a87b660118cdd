/**
 * The process's view of its rollups: which are ready (the compiler routes to those only) and the
 * maintainer that keeps them equal to their cubes. Empty until warehouse-startup.ts has built them,
 * so a query during the build reads the fact table.
 */
import type { RollupAvailability } from '../compiler/rollup/route.js';
import type { ChangeEvent } from '../live/signals.js';
import type { Logger } from '../logger.js';
import type { RollupMaintainer } from './maintainer.js';
import type { RollupBuildReport } from './warehouse.js';

export interface RollupRegistry {
  availability(): RollupAvailability | undefined;
  activate(report: RollupBuildReport, maintainer: RollupMaintainer): void;
  /** Brings the rollups of the changed cubes up to date (before the change is announced). Never throws. */
  catchUp(change: ChangeEvent): Promise<void>;
  close(): void;
}

export function createRollupRegistry(logger?: Pick<Logger, 'warn'>): RollupRegistry {
  let ready: RollupAvailability | undefined;
  let maintainer: RollupMaintainer | undefined;
  return {
    availability: () => ready,
    activate(report, m) {
      maintainer = m;
      ready = report.ready;
    },
    async catchUp(change) {
      if (!maintainer) return;
      const cubes = change.cubes.length > 0 ? change.cubes : undefined;
      try {
        if (change.removed) await maintainer.invalidate(change.tenantId, cubes);
        else await maintainer.refresh(change.tenantId, cubes);
      } catch (err) {
        // The marks stay pending: the next change or the background sweep folds them in.
        logger?.warn({ err: (err as Error).message, tenantId: change.tenantId }, 'rollups: refresh after a change failed');
      }
    },
    close() {
      maintainer?.stop();
    },
  };
}
