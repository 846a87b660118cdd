/**
 * Rollups over the REAL server (chDB, PGlite, demo data at test scale): built at start, answering the
 * queries they serve through GraphQL and Cube's REST API (which say so), and kept equal to the facts
 * by the ingestion door itself — a corrected row re-sent over HTTP and a deletion by campaign show up
 * at once (read from the facts while the rollups catch up) and then in the rollup's answer. Every expected number is computed in ClickHouse directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import type { RunningServer } from '../../../src/server.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

let app: InProcessServer;
let server: RunningServer;
let token: string;

const Q = {
  measures: ['ad_performance.clicks', 'ad_performance.impressions', 'ad_performance.ctr', 'ad_performance.active_campaigns'],
  dimensions: ['ad_performance.platform'],
};

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** The answer read straight from the fact table (FINAL: one row per natural key). */
async function independent(): Promise<Map<string, { clicks: number; impressions: number; campaigns: number }>> {
  const { rows } = await server.services.engine.query<{ p: string; c: string; i: string; k: string }>(
    "SELECT platform AS p, toString(sum(clicks)) AS c, toString(sum(impressions)) AS i, toString(uniqExactIf(campaign_id, impressions > 0)) AS k FROM ad_performance FINAL WHERE tenant_id = 'acme' GROUP BY platform",
  );
  return new Map(rows.map((r) => [r.p, { clicks: Number(r.c), impressions: Number(r.i), campaigns: Number(r.k) }]));
}

/**
 * The answer equals the fact table's. `rollup`: it must come from the rollup; 'caught-up': it may
 * first come from the facts (right after a write, while the rollups catch up), and then comes from
 * the rollup with the same numbers.
 */
async function expectRollupAnswer(label: string, from: 'rollup' | 'caught-up' = 'rollup') {
  const ask = async () => (await gql('query($q: JSON!){ query(query: $q) { data rollup } }', { q: Q })).query;
  let answer = await ask();
  if (from === 'caught-up') {
    // Read-your-writes at once, whichever table answers.
    await expectEqualsFacts(answer.data, `${label} (at once, ${answer.rollup ?? 'facts'})`);
    for (let i = 0; i < 200 && !answer.rollup; i++) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await ask();
    }
  }
  expect(answer.rollup, label).toBe('ad_performance.daily_by_platform');
  await expectEqualsFacts(answer.data, label);
  return answer.data as Record<string, unknown>[];
}

async function expectEqualsFacts(data: Record<string, unknown>[], label: string) {
  const want = await independent();
  expect(data.length, label).toBe(want.size);
  for (const row of data) {
    const w = want.get(row['ad_performance.platform'] as string)!;
    expect(w, `${label}: ${row['ad_performance.platform']}`).toBeDefined();
    expect(Number(row['ad_performance.clicks']), label).toBe(w.clicks);
    expect(Number(row['ad_performance.impressions']), label).toBe(w.impressions);
    expect(Number(row['ad_performance.active_campaigns']), label).toBe(w.campaigns);
    expect(Number(row['ad_performance.ctr'])).toBeCloseTo((100 * w.clicks) / w.impressions, 9);
  }
}

beforeAll(async () => {
  app = await startInProcessServer('rollups');
  server = app.server;
  await server.services.warehouse.rollupsDone;
  token = await mintDevToken(app.jwtSecret, { tenantId: 'acme', roles: ['tenant_admin'], expiresIn: '1h', subject: 'rollup-e2e' });
}, 240_000);

afterAll(async () => {
  await app?.close();
});

describe('rollups on the running server', () => {
  it('are built at start and answer what they serve; the catalog lists them', async () => {
    expect([...(server.services.rollups.availability()?.keys() ?? [])].sort()).toEqual([
      'ad_performance.daily',
      'ad_performance.daily_by_campaign',
      'ad_performance.daily_by_platform',
      'ad_performance.daily_by_platform_geo',
      'conversions.daily_by_type',
      'email_activity.daily_by_campaign',
      'web_sessions.daily_by_channel',
    ]);
    await expectRollupAnswer('at start');
    const catalog = await gql('{ catalog { cubes { name rollups { name measures dimensions granularity } } } }');
    const ad = catalog.catalog.cubes.find((c: { name: string }) => c.name === 'ad_performance');
    expect(ad.rollups.map((r: { name: string }) => r.name)).toEqual([
      'ad_performance.daily',
      'ad_performance.daily_by_platform',
      'ad_performance.daily_by_campaign',
      'ad_performance.daily_by_platform_geo',
    ]);
    expect(ad.rollups[1].measures).toContain('ad_performance.ctr');
    expect(ad.rollups[1].dimensions).toEqual(['ad_performance.platform']);
  });

  it("Cube's REST API names the pre-aggregation in /sql and /load", async () => {
    const headers = { authorization: token };
    const sql = await (await fetch(`${server.url}/cubejs-api/v1/sql?query=${encodeURIComponent(JSON.stringify(Q))}`, { headers })).json();
    expect(sql.sql.preAggregations[0].preAggregationId).toBe('ad_performance.daily_by_platform');
    expect(sql.sql.sql[0]).toContain(sql.sql.preAggregations[0].tableName);
    const load = await (await fetch(`${server.url}/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(Q))}`, { headers })).json();
    expect(Object.keys(load.usedPreAggregations)).toEqual(['ad_performance.daily_by_platform']);
  });

  it('a corrected row re-sent over the ingestion door replaces the old one in the rollup answer', async () => {
    const before = await expectRollupAnswer('before');
    const { rows } = await server.services.engine.query<Record<string, unknown>>(
      "SELECT * EXCEPT (tenant_id, ingested_at) FROM ad_performance FINAL WHERE tenant_id = 'acme' AND clicks > 10 ORDER BY date DESC, ad_id LIMIT 1",
    );
    const row = rows[0];
    const corrected = { ...row, clicks: Number(row.clicks) + 123 };
    const res = await fetch(`${server.url}/v1/ingest/ad_performance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'rollup-correction-1', 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(corrected)}\n`,
    });
    const report = await res.json();
    expect(report.inserted, JSON.stringify(report)).toBe(1);
    const after = await expectRollupAnswer('after the correction', 'caught-up');
    const clicks = (data: Record<string, unknown>[]) => Number(data.find((r) => r['ad_performance.platform'] === row.platform)?.['ad_performance.clicks']);
    expect(clicks(after) - clicks(before)).toBe(123);
  });

  it('a deletion by campaign leaves the rollup answer equal to the remaining rows', async () => {
    const { rows } = await server.services.engine.query<{ c: string }>(
      "SELECT campaign_id AS c FROM ad_performance WHERE tenant_id = 'acme' GROUP BY c ORDER BY count() DESC LIMIT 1",
    );
    const res = await fetch(`${server.url}/v1/ingest/rows?dimension=campaign&value=${encodeURIComponent(rows[0].c)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    await expectRollupAnswer('after the deletion', 'caught-up');
  });
});
