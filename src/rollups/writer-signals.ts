/**
 * The change signals writers of this process (ingestion, deletion, retention) publish through.
 * A writer answers as soon as its rows are in:
 *
 * - from its first insert until the rollups of its cubes have caught up, this tenant's queries
 *   here read those cubes' facts (`hold`), and cached results go at once;
 * - this instance's live queries (`immediate`: the live service, live dashboards) hear of it at
 *   once: they read the facts, which hold the new rows, and each subscriber's view only moves on;
 * - the catch-up runs after the answer; then the results cached here meanwhile go (the next ones
 *   read the rollups), and whatever keeps state shared by every instance (`settled`: alert rules)
 *   and the other instances, which route to the rollups, hear of the change. An alert evaluated
 *   here from the facts while another instance still read a lagging rollup would flap
 *   (test/e2e/reports/alert-instances.e2e.test.ts);
 * - refresh-key checks leave the change to these signals until then (beginWrite).
 *
 * So one write causes one evaluation per live query on each instance, and no instance reads a
 * rollup that lags it. `drain` waits for the catch-ups still running (shutdown).
 */
import type { ChangeEvent, ChangeHandler, ChangeSignals } from '../live/signals.js';
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
  /** What writers publish through. */
  readonly signals: ChangeSignals;
  /** For live queries: other instances' changes, and this process's writes at once. */
  readonly immediate: ChangeSignals;
  /** For state every instance shares (alerts): every change once the rollups have caught up. */
  readonly settled: ChangeSignals;
  /** Settles once every catch-up started so far has ended. */
  drain(): Promise<void>;
}

export function createWriterSignals(deps: WriterSignalsDeps): WriterSignals {
  const { signals, rollups, logger } = deps;
  const catchingUp = new Set<Promise<void>>();
  const invalidate = (e: ChangeEvent) => deps.invalidate(e.tenantId, e.cubes.length > 0 ? e.cubes : undefined);
  const immediate = new Set<ChangeHandler>();
  const settled = new Set<ChangeHandler>();
  // signals.ts's own fan-out, written again: rollups/ may import only types from live/ (the signals are injected).
  const fanOut = (handlers: Set<ChangeHandler>, e: ChangeEvent) => {
    for (const h of [...handlers]) {
      try {
        h(e);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'live: change handler threw');
      }
    }
  };
  /** The base signals, with this process's writes delivered to `local` handlers (remote ones come through the base). */
  const view = (local: Set<ChangeHandler>): ChangeSignals => ({
    publish: (e, to) => signals.publish(e, to),
    onChange(h) {
      local.add(h);
      const off = signals.onChange(h);
      return () => {
        local.delete(h);
        off();
      };
    },
    onResync: (h) => signals.onResync(h),
    beginWrite: (tenantId, cubes) => signals.beginWrite(tenantId, cubes),
    writeState: (tenantId, cube) => signals.writeState(tenantId, cube),
    close: () => signals.close(),
  });
  return {
    immediate: view(immediate),
    settled: view(settled),
    signals: {
      async publish(event) {
        const e: ChangeEvent = Object.freeze({ tenantId: event.tenantId, cubes: Object.freeze([...new Set(event.cubes)]) });
        const endHold = rollups.hold(e.tenantId, e.cubes);
        const endWrite = signals.beginWrite(e.tenantId, e.cubes);
        invalidate(e);
        fanOut(immediate, e);
        const done = rollups
          .catchUp(event)
          .then(() => {
            invalidate(e);
            fanOut(settled, e);
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
