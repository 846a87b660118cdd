/**
 * Plan retention follows the tenant registry: at start every tenant's retention is reconciled with
 * its plan, and each tenant whose row changes (plan change by the updateTenant mutation, the CLI or
 * psql: the Postgres trigger's access signal, heard by every instance) is reconciled again. After a
 * LISTEN reconnect (signals may have been lost) every tenant is reconciled. `apply` (injected:
 * ingest/plan-retention.ts) writes only differences, so instances doing the same work at once
 * agree; per tenant the work runs one at a time here, and a tenant already waiting is not queued twice.
 */
import type { Logger } from '../logger.js';
import type { TenantRepo } from '../store/tenants.js';
import { ACCESS_CHANNEL, parseAccessSignal } from './access-signals.js';

/** LISTEN/NOTIFY with the resync hook (the store satisfies it). */
export interface RetentionBus {
  listen(channel: string, handler: (payload: string) => void, onResync?: () => void): Promise<() => Promise<void>>;
}

export interface PlanRetentionWatch {
  /**
   * Listens at once; reconciles every tenant once `ready` settles (the warehouse), then each changed
   * tenant. Resolves when the first reconciliation is done (failures are logged, never thrown).
   */
  start(apply: (tenantId: string, plan: string) => Promise<unknown>, ready?: Promise<unknown>): Promise<void>;
  close(): Promise<void>;
}

export interface PlanRetentionOptions {
  readonly tenants: Pick<TenantRepo, 'list' | 'get'>;
  readonly bus?: RetentionBus;
  readonly logger: Pick<Logger, 'warn' | 'debug'>;
}

export function createPlanRetentionWatch(options: PlanRetentionOptions): PlanRetentionWatch {
  const { tenants, logger } = options;
  const chains = new Map<string, Promise<void>>();
  const waiting = new Set<string>();
  let unlisten: (() => Promise<void>) | undefined;
  let closed = false;

  return {
    async start(apply, ready = Promise.resolve()) {
      const gate: Promise<unknown> = ready.catch(() => undefined);
      /** Runs the tenant's reconciliation after the ones queued before it; one waiting run per tenant. */
      const schedule = (id: string): Promise<void> => {
        if (waiting.has(id)) return chains.get(id) ?? Promise.resolve();
        waiting.add(id);
        const run = (chains.get(id) ?? gate)
          .then(async () => {
            waiting.delete(id);
            if (closed) return;
            const t = await tenants.get(id);
            if (t) await apply(t.id, t.plan);
          })
          .catch((e: Error) => {
            waiting.delete(id);
            logger.warn({ tenantId: id, err: e.message }, 'retention: could not apply the plan; retried on the next change or start');
          });
        chains.set(id, run);
        void run.finally(() => chains.get(id) === run && chains.delete(id));
        return run;
      };
      const reconcileAll = async () => {
        await gate;
        if (closed) return;
        try {
          // One tenant at a time: a shortened retention rewrites a table.
          for (const t of await tenants.list()) await schedule(t.id);
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'retention: could not list tenants to reconcile');
        }
      };
      if (options.bus) {
        unlisten = await options.bus.listen(
          ACCESS_CHANNEL,
          (payload) => {
            const s = parseAccessSignal(payload);
            if (s?.kind === 'tenant') void schedule(s.id);
          },
          () => void reconcileAll(),
        );
      }
      // A change heard meanwhile runs after the tenant's reconciliation (one chain per tenant).
      await reconcileAll();
    },
    async close() {
      closed = true;
      await unlisten?.();
      await Promise.allSettled([...chains.values()]);
    },
  };
}
