/**
 * A tenant's plan retention, applied and announced: `applyPlanRetention` (retention.ts), then a
 * change signal for the cubes reading the tables whose old rows went, so caches of every instance
 * and live subscriptions stop showing them. The tenancy watch (tenancy/plan-retention.ts) calls it
 * at start for every tenant and when a tenant's row changes.
 */
import type { Engine } from '../engine/engine.js';
import type { ChangeSignals } from '../live/signals.js';
import type { Logger } from '../logger.js';
import type { Model } from '../semantic/model.js';
import { applyPlanRetention, type PlanRetentionChange } from './retention.js';
import { cubesReadingTable } from './tables.js';

export interface RetentionApplierDeps {
  readonly engine: Engine;
  readonly model: Model;
  readonly signals: Pick<ChangeSignals, 'publish'>;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** Days per plan (config); default PLAN_RETENTION_DAYS. */
  readonly planDays?: Readonly<Record<string, number | undefined>>;
}

export type RetentionApplier = (tenantId: string, plan: string) => Promise<PlanRetentionChange>;

export function createRetentionApplier(deps: RetentionApplierDeps): RetentionApplier {
  return async (tenantId, plan) => {
    const change = await applyPlanRetention(deps.engine, tenantId, plan, deps.planDays);
    if (change.changed.length > 0) deps.logger?.info({ tenantId, plan, ...change }, 'retention: applied the plan');
    const cubes = [...new Set(change.shortened.flatMap((t) => cubesReadingTable(deps.model, t)))];
    if (cubes.length > 0) {
      await deps.signals.publish({ tenantId, cubes, removed: true }).catch((err: Error) => {
        deps.logger?.warn({ tenantId, err: err.message }, 'retention: change signal failed; caches refresh on their next trigger');
      });
    }
    return change;
  };
}
