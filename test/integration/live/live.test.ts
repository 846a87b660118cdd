import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveService } from '../../../src/live/live-service.js';
import { createInProcessSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import type { QueryResult } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { adRow, createStack, ctx, ndjson, principal, type Stack } from './stack.js';

let s: Stack;
beforeAll(async () => {
  s = await createStack({ refreshCheckIntervalMs: 100 });
  // Baseline data for both tenants (through ingestion, which also caches the table schema).
  await s.ingest.ingest(
    principal('acme'),
    'ad_performance',
    ndjson(PLATFORMS.map((p, i) => adRow({ platform: p, clicks: 10 + i, impressions: 1000 }))),
    'seed-acme',
  );
  await s.ingest.ingest(
    principal('globex'),
    'ad_performance',
    ndjson(PLATFORMS.map((p) => adRow({ platform: p, clicks: 500, impressions: 5000 }))),
    'seed-globex',
  );
});
afterAll(async () => {
  await s?.close();
});

const PLATFORMS = ['google_ads', 'meta', 'tiktok', 'linkedin', 'dv360', 'microsoft_ads', 'pinterest', 'snap', 'reddit', 'x'];

/** Ten distinct queries: clicks filtered to one platform each (different filters never merge). */
const queryFor = (platform: string): SemanticQuery => ({
  measures: ['ad_performance.clicks'],
  filters: [{ member: 'ad_performance.platform', operator: 'equals', values: [platform] }],
});

/** Independent check: straight SQL on the table, per tenant and platform. */
async function clicksByPlatform(tenant: string): Promise<Map<string, number>> {
  const { rows } = await s.engine.query<{ p: string; c: string }>(
    'SELECT platform AS p, sum(clicks) AS c FROM strata.ad_performance WHERE tenant_id = {t:String} GROUP BY p',
    { t: tenant },
  );
  return new Map(rows.map((r) => [r.p, Number(r.c)]));
}

async function clicksOf(tenant: string, platform: string): Promise<number> {
  const { rows } = await s.engine.query<{ c: string }>(
    'SELECT sum(clicks) AS c FROM strata.ad_performance WHERE tenant_id = {t:String} AND platform = {p:String}',
    { t: tenant, p: platform },
  );
  return Number(rows[0].c);
}

const clicks = (r: QueryResult) => Number(r.rows[0]?.['ad_performance.clicks'] ?? 0);

describe('live subscriptions over chDB', () => {
  it('1,000 subscribers over 10 distinct queries: ≤ 10 ClickHouse queries per change, correct numbers for all', async () => {
    const acme = principal('acme', ['metrics:read']);
    const subs = Array.from({ length: 1000 }, (_, i) => {
      const platform = PLATFORMS[i % 10];
      return { platform, it: s.live.subscribe(ctx(acme), queryFor(platform)) };
    });
    const firsts = await Promise.all(subs.map((x) => x.it.next()));
    const expected0 = await clicksByPlatform('acme');
    expect(firsts.map((f) => clicks(f.value as QueryResult))).toEqual(subs.map((x) => expected0.get(x.platform)));
    expect(s.live.stats()).toMatchObject({ subscriptions: 1000, sharedQueries: 10 });

    // One batch touching every platform: one change signal for (acme, ad_performance).
    const before = s.engine.stats().queries;
    const evalsBefore = s.live.stats().evaluations;
    const report = await s.ingest.ingest(
      principal('acme'),
      'ad_performance',
      ndjson(PLATFORMS.map((p) => adRow({ ad_id: 'change-1', platform: p, clicks: 7, impressions: 700, conversions: 0 }))),
      'change-1',
    );
    expect(report.inserted).toBe(10);
    const nexts = await Promise.all(subs.map((x) => x.it.next()));
    const after = s.engine.stats().queries;
    const ledgerQueries = 2; // the ingest's batch-id lookup and its claim read-back
    expect(after - before - ledgerQueries).toBeLessThanOrEqual(10);
    expect(s.live.stats().evaluations - evalsBefore).toBe(10);
    const expected1 = await clicksByPlatform('acme');
    expect(nexts.map((n) => clicks(n.value as QueryResult))).toEqual(subs.map((x) => expected1.get(x.platform)));
    expect(nexts.map((n) => clicks(n.value as QueryResult))).toEqual(subs.map((x) => (expected0.get(x.platform) ?? 0) + 7));
    await Promise.all(subs.map((x) => x.it.return!()));
    expect(s.live.stats()).toMatchObject({ subscriptions: 0, sharedQueries: 0 });
  });

  it('a change for one tenant pushes to that tenant only; the other tenant is not even re-evaluated', async () => {
    const q = queryFor('google_ads');
    const a = s.live.subscribe(ctx(principal('acme', ['metrics:read'])), q);
    const g = s.live.subscribe(ctx(principal('globex', ['metrics:read'])), q);
    const [a0, g0] = await Promise.all([a.next(), g.next()]);
    expect(clicks(a0.value as QueryResult)).toBe(await clicksOf('acme', 'google_ads'));
    expect(clicks(g0.value as QueryResult)).toBe(await clicksOf('globex', 'google_ads'));
    const globexNext = g.next();

    const evals = s.live.stats().evaluations;
    await s.ingest.ingest(
      principal('acme'),
      'ad_performance',
      ndjson([adRow({ ad_id: 'change-2', platform: 'google_ads', clicks: 3, impressions: 30, conversions: 0 })]),
      'change-2',
    );
    const a1 = await a.next();
    expect(clicks(a1.value as QueryResult)).toBe(clicks(a0.value as QueryResult) + 3);
    expect(s.live.stats().evaluations - evals).toBe(1);

    // globex's pending next() resolves only with globex's own change, with globex's numbers.
    await s.ingest.ingest(
      principal('globex'),
      'ad_performance',
      ndjson([adRow({ ad_id: 'change-3', platform: 'google_ads', clicks: 4, impressions: 40, conversions: 0 })]),
      'change-3',
    );
    const g1 = await globexNext;
    expect(clicks(g1.value as QueryResult)).toBe(clicks(g0.value as QueryResult) + 4);
    await a.return!();
    await g.return!();
  });

  it('a change that does not alter the result pushes nothing', async () => {
    const q = queryFor('meta');
    const a = s.live.subscribe(ctx(principal('acme', ['metrics:read'])), q);
    const a0 = await a.next();
    const pending = a.next();
    // Rows for another platform change the cube but not this query's numbers.
    await s.ingest.ingest(
      principal('acme'),
      'ad_performance',
      ndjson([adRow({ ad_id: 'change-4', platform: 'tiktok', clicks: 1, impressions: 10, conversions: 0 })]),
      'change-4',
    );
    await s.ingest.ingest(
      principal('acme'),
      'ad_performance',
      ndjson([adRow({ ad_id: 'change-5', platform: 'meta', clicks: 2, impressions: 10, conversions: 0 })]),
      'change-5',
    );
    const a1 = await pending;
    expect(clicks(a1.value as QueryResult)).toBe(clicks(a0.value as QueryResult) + 2);
    await a.return!();
  });

  it('refuses a subscription without the scope when it starts', () => {
    expect(() => s.live.subscribe(ctx(principal('acme', ['ingest:write'])), queryFor('meta'))).toThrowError(/metrics:read/);
    let err: unknown;
    try {
      s.live.subscribe(ctx(principal('acme', ['metrics:read'])), { measures: ['ad_performance.cost'] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'FORBIDDEN' });
    expect((err as Error).message).toMatch(/finance:read/);
    expect(s.live.stats().subscriptions).toBe(0);
  });

  it("a refresh-key SQL notices rows written behind Strata's back", async () => {
    const q = { measures: ['ad_delivery_checked.impressions'] };
    const a = s.live.subscribe(ctx(principal('acme', ['metrics:read'])), q);
    const a0 = (await a.next()).value as QueryResult;
    const base = Number(a0.rows[0]['ad_delivery_checked.impressions']);
    // Wait until the scheduler has recorded the baseline refresh-key value, then write directly.
    await new Promise<void>((resolve) => {
      let done = false;
      s.engine.onQuery((e) => {
        if (!done && e.ok && /count\(\)/.test(e.sql)) {
          done = true;
          resolve();
        }
      });
    });
    await s.engine.insert('ad_performance', [{ tenant_id: 'acme', ...adRow({ ad_id: 'outside-0', impressions: 12345, clicks: 0, conversions: 0 }) }]);
    const a1 = (await a.next()).value as QueryResult;
    expect(Number(a1.rows[0]['ad_delivery_checked.impressions'])).toBe(base + 12345);
    await a.return!();
  });

  it('a write right after a subscription starts is pushed (the baseline is taken at subscribe, not by the first check)', async () => {
    const q = { measures: ['ad_delivery_checked.impressions'] };
    // Its own live service: the first refresh-key round comes a full second after it starts.
    const live = createLiveService({
      query: s.query,
      model: s.model,
      config: { live: { maxPerConnection: 100, maxPerTenant: 100, refreshCheckIntervalMs: 1_000 } },
      logger: createLogger('silent'),
      metrics: s.metrics,
      signals: createInProcessSignals(),
    });
    const a = live.subscribe(ctx(principal('globex', ['metrics:read'])), q);
    const a0 = (await a.next()).value as QueryResult;
    const base = Number(a0.rows[0]['ad_delivery_checked.impressions']);
    // No waiting for any check: the write lands before the scheduler's first round.
    await s.engine.insert('ad_performance', [{ tenant_id: 'globex', ...adRow({ ad_id: 'outside-1', impressions: 777, clicks: 0, conversions: 0 }) }]);
    const a1 = (await a.next()).value as QueryResult;
    expect(Number(a1.rows[0]['ad_delivery_checked.impressions'])).toBe(base + 777);
    await a.return!();
    await live.close();
  });
});
