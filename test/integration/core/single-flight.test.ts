/**
 * Single-flight across requests on a real chDB warehouse with the real models and the result cache
 * off: identical queries from different requests in flight together share one statement; each still
 * gets the right rows (checked against independent SQL); another tenant never shares; a caller that
 * leaves does not cancel the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { type Core, expectClose, principalFor, startCore } from './harness.js';

let core: Core;
let statements = 0;

beforeAll(async () => {
  core = await startCore();
  core.wh.engine.onQuery((e) => {
    if (/`ad_performance`/.test(e.sql)) statements++;
  });
}, 240_000);

afterAll(async () => {
  await core?.close();
});

const QUERY: SemanticQuery = {
  measures: ['ad_performance.cost', 'ad_performance.clicks'],
  dimensions: ['ad_performance.platform'],
  timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-10-01', '2026-10-31'] }],
  order: { 'ad_performance.platform': 'asc' },
};

let n = 0;
const ctx = (tenant: string, signal?: AbortSignal, scopes?: string[]): RequestContext => ({
  requestId: `sf-${++n}`,
  door: 'graphql',
  principal: principalFor(tenant, scopes),
  signal,
});

async function oracle(tenant: string): Promise<Map<string, { cost: number; clicks: number }>> {
  const rows = await core.sql<{ platform: string; cost: number; clicks: number }>(
    `SELECT platform, sum(cost) AS cost, sum(clicks) AS clicks FROM ad_performance FINAL
     WHERE tenant_id = {t:String} AND date BETWEEN '2026-10-01' AND '2026-10-31' GROUP BY platform`,
    { t: tenant },
  );
  return new Map(rows.map((r) => [r.platform, { cost: Number(r.cost), clicks: Number(r.clicks) }]));
}

describe('single-flight across requests', () => {
  it('16 concurrent identical requests (two scope sets) share one statement, each with the right rows', async () => {
    const before = statements;
    const all = await Promise.all(
      Array.from({ length: 16 }, (_, i) => core.service.load(ctx('acme', undefined, i % 2 ? undefined : ['metrics:read', 'finance:read']), QUERY)),
    );
    expect(statements - before).toBe(1);
    const want = await oracle('acme');
    for (const r of all) {
      expect(r.rows).toHaveLength(want.size);
      for (const row of r.rows) {
        const o = want.get(String(row['ad_performance.platform']))!;
        expectClose(row['ad_performance.cost'], o.cost, 'cost');
        expectClose(row['ad_performance.clicks'], o.clicks, 'clicks');
      }
    }
    // Each caller got its own rows (not one array handed to all).
    expect(all[0]!.rows).not.toBe(all[1]!.rows);
  });

  it('another tenant never shares a statement', async () => {
    const before = statements;
    const [a, g] = await Promise.all([core.service.load(ctx('acme'), QUERY), core.service.load(ctx('globex'), QUERY)]);
    expect(statements - before).toBe(2);
    const want = await oracle('globex');
    for (const row of g.rows) expectClose(row['ad_performance.cost'], want.get(String(row['ad_performance.platform']))!.cost, 'globex cost');
    expect(a.rows).not.toEqual(g.rows);
  });

  it('a caller that leaves is cancelled alone; the others get their rows from the one statement', async () => {
    const before = statements;
    const leaving = new AbortController();
    const first = core.service.load(ctx('acme', leaving.signal), QUERY);
    const others = [core.service.load(ctx('acme'), QUERY), core.service.load(ctx('acme', new AbortController().signal), QUERY)];
    leaving.abort();
    await expect(first).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    const results = await Promise.all(others);
    expect(results[0]!.rows).toEqual(results[1]!.rows);
    expect(results[0]!.rows.length).toBeGreaterThan(0);
    expect(statements - before).toBe(1);
  });
});
