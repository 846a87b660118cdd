/**
 * Monthly usage per tenant and the plan quotas. `add` meters (batched into the store by
 * store/usage.ts); `check(tenantId, tenant, cost)` refuses with QUOTA_EXCEEDED when the month's queries
 * plus the request's cost pass the quota. The month's count is the stored total (re-read at most every
 * `syncMs`, in the background: a request never waits for it) plus what this instance counted since, so
 * N instances converge on the shared total within a sync.
 */
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type MonthUsage, monthOf, type UsageDelta, type UsageRepo } from '../store/usage.js';

export interface Quota {
  /** Semantic queries per UTC month; Infinity: unlimited. */
  readonly queriesPerMonth: number;
}

export const PLAN_QUOTAS: Readonly<Record<string, Quota>> = Object.freeze({
  free: { queriesPerMonth: 100_000 },
  pro: { queriesPerMonth: 5_000_000 },
  enterprise: { queriesPerMonth: Number.POSITIVE_INFINITY },
});

/** What the meter needs of a tenant (a store Tenant fits); settings.quota is operator-owned. */
export interface TenantQuota {
  readonly plan?: string;
  readonly settings?: { readonly quota?: Partial<Quota> } | null;
}

export interface UsageMeter {
  add(tenantId: string, delta: UsageDelta): void;
  /** Throws QUOTA_EXCEEDED when `cost` more queries would pass the month's quota. */
  check(tenantId: string, tenant: TenantQuota | undefined, cost: number): void;
  quotaOf(tenant: TenantQuota | undefined): Quota;
  /** The month so far (stored + this instance's unflushed share). */
  current(tenantId: string): Promise<MonthUsage>;
}

interface Entry {
  month: number;
  stored: number;
  /** Counted here since the stored value was read. */
  local: number;
  readAt: number;
  reading?: Promise<void>;
}

export function createUsageMeter(options: {
  usage: UsageRepo;
  logger: Pick<Logger, 'warn'>;
  defaultPlan?: string;
  quotas?: Readonly<Record<string, Quota>>;
  syncMs?: number;
  now?: () => Date;
}): UsageMeter {
  const quotas = options.quotas ?? PLAN_QUOTAS;
  const syncMs = options.syncMs ?? 10_000;
  const now = options.now ?? (() => new Date());
  const entries = new Map<string, Entry>();

  const quotaOf = (tenant: TenantQuota | undefined): Quota => {
    const base = quotas[tenant?.plan ?? ''] ?? quotas[options.defaultPlan ?? 'free'] ?? PLAN_QUOTAS.free;
    const q = tenant?.settings?.quota?.queriesPerMonth;
    return { queriesPerMonth: typeof q === 'number' && q > 0 ? q : base.queriesPerMonth };
  };

  const entryOf = (tenantId: string): Entry => {
    const month = monthOf(now()).getTime();
    let e = entries.get(tenantId);
    if (!e || e.month !== month) {
      e = { month, stored: 0, local: 0, readAt: 0 };
      entries.set(tenantId, e);
    }
    return e;
  };

  const sync = (tenantId: string, e: Entry) => {
    if (e.reading || Date.now() - e.readAt < syncMs) return;
    const localBefore = e.local;
    e.reading = options.usage
      .flush()
      .then(() => options.usage.get(tenantId, new Date(e.month)))
      .then((u) => {
        e.stored = u.queries;
        e.local -= localBefore;
        e.readAt = Date.now();
      })
      .catch((err) => {
        e.readAt = Date.now();
        options.logger.warn({ tenantId, err: (err as Error).message }, 'usage: could not read the month so far; quota checked on what this instance counted');
      })
      .finally(() => {
        e.reading = undefined;
      });
  };

  return {
    add(tenantId, delta) {
      options.usage.add(tenantId, delta, now());
      if (delta.queries) entryOf(tenantId).local += delta.queries;
    },
    check(tenantId, tenant, cost) {
      const quota = quotaOf(tenant);
      if (!Number.isFinite(quota.queriesPerMonth)) return;
      const e = entryOf(tenantId);
      sync(tenantId, e);
      const used = e.stored + e.local;
      if (used + cost > quota.queriesPerMonth) {
        const resetsAt = new Date(Date.UTC(new Date(e.month).getUTCFullYear(), new Date(e.month).getUTCMonth() + 1, 1));
        throw new UserError(
          'QUOTA_EXCEEDED',
          `your plan's monthly quota of ${quota.queriesPerMonth} queries is used up; it resets on ${resetsAt.toISOString().slice(0, 10)}`,
          {
            quota: quota.queriesPerMonth,
            used,
            resetsAt: resetsAt.toISOString(),
            retryAfterMs: Math.max(1_000, resetsAt.getTime() - now().getTime()),
          },
        );
      }
    },
    quotaOf,
    async current(tenantId) {
      await options.usage.flush();
      return options.usage.get(tenantId, now());
    },
  };
}
