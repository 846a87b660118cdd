import { describe, expect, it } from 'vitest';
import { createRateLimiter, PLAN_LIMITS, rateLimitedError } from '../../../src/ratelimit/rate-limiter.js';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('token bucket per tenant', () => {
  it('allows a burst, then refuses with the time until the next token', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    const free = { plan: 'free' }; // 5/s, burst 20
    for (let i = 0; i < 20; i++) expect(rl.take('initech', free)).toEqual({ ok: true, remaining: 19 - i });
    expect(rl.take('initech', free)).toEqual({ ok: false, retryAfterMs: 200 });
    c.advance(100);
    expect(rl.take('initech', free)).toEqual({ ok: false, retryAfterMs: 100 });
    c.advance(100);
    expect(rl.take('initech', free)).toEqual({ ok: true, remaining: 0 });
  });

  it('refills at perSecond up to burst, never beyond', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    const t = { plan: 'free' };
    for (let i = 0; i < 20; i++) rl.take('a', t);
    c.advance(1_000); // +5 tokens
    let ok = 0;
    while (rl.take('a', t).ok) ok++;
    expect(ok).toBe(5);
    c.advance(3_600_000); // an hour idle: back to burst, not 18 000
    ok = 0;
    while (rl.take('a', t).ok) ok++;
    expect(ok).toBe(20);
  });

  it('keeps tenants apart', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    for (let i = 0; i < 20; i++) rl.take('acme', { plan: 'free' });
    expect(rl.take('acme', { plan: 'free' }).ok).toBe(false);
    expect(rl.take('globex', { plan: 'free' }).ok).toBe(true);
  });

  it('uses plan defaults, tenant overrides, and the free plan for unknown plans', () => {
    const rl = createRateLimiter({ now: clock().now });
    expect(rl.limitFor({ plan: 'pro' })).toEqual(PLAN_LIMITS.pro);
    expect(rl.limitFor({ plan: 'enterprise' })).toEqual(PLAN_LIMITS.enterprise);
    expect(rl.limitFor({ plan: 'platinum' })).toEqual(PLAN_LIMITS.free);
    expect(rl.limitFor(undefined)).toEqual(PLAN_LIMITS.free);
    expect(rl.limitFor({ plan: 'pro', settings: { rateLimit: { perSecond: 2, burst: 3 } } })).toEqual({ perSecond: 2, burst: 3 });
    expect(rl.limitFor({ plan: 'pro', settings: { rateLimit: { burst: 7 } } })).toEqual({ perSecond: 50, burst: 7 });
    expect(rl.limitFor({ plan: 'pro', settings: { rateLimit: { perSecond: -1, burst: Number.NaN } } })).toEqual(PLAN_LIMITS.pro);
  });

  it('applies an override: burst 3 at 2/s', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    const t = { plan: 'enterprise', settings: { rateLimit: { perSecond: 2, burst: 3 } } };
    expect([1, 2, 3, 4].map(() => rl.take('umbrella', t).ok)).toEqual([true, true, true, false]);
    expect(rl.take('umbrella', t)).toEqual({ ok: false, retryAfterMs: 500 });
  });

  it('a lowered limit takes effect at once (tokens capped to the new burst)', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    rl.take('acme', { plan: 'pro' }); // 199 left
    const lowered = { plan: 'pro', settings: { rateLimit: { perSecond: 1, burst: 2 } } };
    expect([1, 2, 3].map(() => rl.take('acme', lowered).ok)).toEqual([true, true, false]);
  });

  it('reset and pruning of idle buckets', () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now, maxBuckets: 2 });
    const t = { plan: 'free' };
    for (let i = 0; i < 20; i++) rl.take('a', t);
    rl.reset('a');
    expect(rl.take('a', t)).toEqual({ ok: true, remaining: 19 });
    // 'a' idles long enough to be full again, so a third tenant may evict it without changing behaviour
    rl.take('b', t);
    c.advance(10_000);
    rl.take('c', t);
    expect(rl.take('a', t)).toEqual({ ok: true, remaining: 19 });
  });

  it('describes the refusal as a RATE_LIMITED user error', () => {
    const e = rateLimitedError('acme', 1_200);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.message).toBe('rate limit exceeded for tenant "acme"; retry in 2s');
    expect(e.details).toEqual({ tenantId: 'acme', retryAfterMs: 1_200 });
  });
});
