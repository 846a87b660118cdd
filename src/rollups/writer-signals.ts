/**
 * The change signals writers of this process (ingestion, deletion, retention) publish through.
 * A writer answers as soon as its rows are in:
 *
 * - from its first insert until the rollups of its cubes have caught up, this tenant's queries
 *   here read those cubes' facts (`hold`), and cached results go at once;
 * - this instance's handlers (live queries, alerts) hear of the change at once: they read the
 *   facts, which hold the new rows;
 * - the catch-up runs after the answer; then the results cached here meanwhile go (the next ones
 *   read the rollups) and the other instances, which route to the rollups, hear of the change;
 * - refresh-key checks leave the change to these signals until then (beginWrite).
 *
 * So one write causes one evaluation per live query on each instance, and no instance reads a
 * rollup that lags it. `drain` waits for the catch-ups still running (shutdown).
 */
import type { ChangeEvent, ChangeSignals } from '../live/signals.js';
import type { Logger } from '../logger.js';
import type { RollupRegistry } from './registry.js';

export interface WriterSignalsDeps {
  readonly signals: ChangeSignals;
  readonly rollups: Pick<RollupRegistry, 'hold' | 'catchUp'>;
  /** Drops this instance's cached results of the cubes (all when undefined) for the tenant. */
  readonly invalidate: (tenantId: string, cubes?: readonly string[]) => void;
  readonly logger: Pick<Logger, 'warn'>;
}

export interface WriterSignals {
  readonly signals: ChangeSignals;
  /** Settles once every catch-up started so far has ended. */
  drain(): Promise<void>;
}

export function createWriterSignals(deps: WriterSignalsDeps): WriterSignals {
  const { signals, rollups, logger } = deps;
  const catchingUp = new Set<Promise<void>>();
  const invalidate = (e: ChangeEvent) => deps.invalidate(e.tenantId, e.cubes.length > 0 ? e.cubes : undefined);
  return {
    signals: {
      async publish(e) {
        const endHold = rollups.hold(e.tenantId, e.cubes);
        const endWrite = signals.beginWrite(e.tenantId, e.cubes);
        invalidate(e);
        await signals.publish(e, 'here');
        const done = rollups
          .catchUp(e)
          .then(() => {
            invalidate(e);
            return signals.publish(e, 'others');
          })
          .catch((err: Error) => logger.warn({ err: err.message, tenantId: e.tenantId }, 'change signal after a write failed'))
          .finally(() => {
            endWrite();
            endHold();
            catchingUp.delete(done);
          });
        catchingUp.add(done);
      },
      onChange: (h) => signals.onChange(h),
      onResync: (h) => signals.onResync(h),
      beginWrite(tenantId, cubes) {
        const endWrite = signals.beginWrite(tenantId, cubes);
        const endHold = rollups.hold(tenantId, cubes);
        return () => {
          endWrite();
          endHold();
        };
      },
      writeState: (tenantId, cube) => signals.writeState(tenantId, cube),
      close: () => signals.close(),
    },
    async drain() {
      await Promise.allSettled([...catchingUp]);
    },
  };
}
