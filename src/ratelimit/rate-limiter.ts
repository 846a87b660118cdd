/**
 * Per-tenant token buckets, in memory (per process). A bucket holds up to `burst` tokens and
 * refills at `perSecond`; each request takes one. Limits come from the tenant's plan, overridden
 * by tenant settings {rateLimit: {perSecond, burst}}. The clock is injectable for tests.
 */
import { UserError } from '../errors.js';

export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export const PLAN_LIMITS: Readonly<Record<string, RateLimit>> = Object.freeze({
  free: { perSecond: 5, burst: 20 },
  pro: { perSecond: 50, burst: 200 },
  enterprise: { perSecond: 500, burst: 2_000 },
});

/** What the limiter needs to know about a tenant (a store Tenant fits). */
export interface TenantLimits {
  readonly plan?: string;
  readonly settings?: { readonly rateLimit?: Partial<RateLimit> } | null;
}

export type TakeResult = { readonly ok: true; readonly remaining: number } | { readonly ok: false; readonly retryAfterMs: number };

export interface RateLimiter {
  take(tenantId: string, tenant?: TenantLimits, cost?: number): TakeResult;
  /** The limit that applies to a tenant. */
  limitFor(tenant?: TenantLimits): RateLimit;
  reset(tenantId?: string): void;
}

export interface RateLimiterOptions {
  /** Milliseconds; defaults to performance.now (monotonic, immune to wall-clock jumps). */
  readonly now?: () => number;
  readonly plans?: Readonly<Record<string, RateLimit>>;
  /** Plan used when a tenant's plan is unknown. */
  readonly defaultPlan?: string;
  /** Above this many buckets, full (idle) ones are forgotten. */
  readonly maxBuckets?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** The limit seen at the last take (pruning needs each bucket's own refill rate). */
  limit: RateLimit;
}

export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const plans = options.plans ?? PLAN_LIMITS;
  const fallback = plans[options.defaultPlan ?? 'free'] ?? PLAN_LIMITS.free;
  const maxBuckets = options.maxBuckets ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const limitFor = (tenant?: TenantLimits): RateLimit => {
    const base = (tenant?.plan && plans[tenant.plan]) || fallback;
    const o = tenant?.settings?.rateLimit;
    const perSecond = validNumber(o?.perSecond) ?? base.perSecond;
    const burst = validNumber(o?.burst) ?? base.burst;
    return { perSecond, burst: Math.max(1, burst) };
  };

  const refill = (b: Bucket, limit: RateLimit, t: number) => {
    const elapsed = Math.max(0, t - b.at) / 1000;
    b.tokens = Math.min(limit.burst, b.tokens + elapsed * limit.perSecond);
    b.at = t;
  };

  const prune = (t: number) => {
    for (const [id, b] of buckets) {
      // A bucket that would be full again carries no information.
      if (b.tokens + ((t - b.at) / 1000) * b.limit.perSecond >= b.limit.burst) buckets.delete(id);
    }
  };

  return {
    limitFor,
    take(tenantId, tenant, cost = 1) {
      const limit = limitFor(tenant);
      const t = now();
      let b = buckets.get(tenantId);
      if (!b) {
        if (buckets.size >= maxBuckets) prune(t);
        b = { tokens: limit.burst, at: t, limit };
        buckets.set(tenantId, b);
      }
      refill(b, limit, t);
      b.limit = limit;
      if (cost > limit.burst) return { ok: false, retryAfterMs: Number.POSITIVE_INFINITY };
      if (b.tokens >= cost) {
        b.tokens -= cost;
        return { ok: true, remaining: Math.floor(b.tokens) };
      }
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((cost - b.tokens) / limit.perSecond) * 1000)) };
    },
    reset(tenantId) {
      if (tenantId === undefined) buckets.clear();
      else buckets.delete(tenantId);
    },
  };
}

/** The error a door returns when take() refuses. */
export function rateLimitedError(tenantId: string, retryAfterMs: number): UserError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new UserError('RATE_LIMITED', `rate limit exceeded for tenant "${tenantId}"; retry in ${seconds}s`, {
    tenantId,
    retryAfterMs,
  });
}

function validNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}
