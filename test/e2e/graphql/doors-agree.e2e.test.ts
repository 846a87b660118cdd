/**
 * The same semantic question through three doors of one running server — GraphQL, Cube REST
 * and the SQL proxy (pg client, extended protocol with parameters) — gives the same numbers.
 */
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;
let token: string;

beforeAll(async () => {
  server = await startServerProcess();
  token = await new SignJWT({ tenant_id: 'globex', scope: 'metrics:read finance:read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(server.jwtSecret));
}, 180_000);
afterAll(async () => server?.stop());

const QUERY = {
  measures: ['ad_performance.clicks', 'ad_performance.ctr', 'ad_performance.cpa'],
  dimensions: ['ad_performance.platform'],
  timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'month', dateRange: ['2026-07-01', '2026-09-30'] }],
};

type Row = { platform: string; month: string; clicks: number; ctr: number; cpa: number };
const key = (r: Row) => `${r.platform}|${r.month.slice(0, 7)}`;

it('GraphQL, REST and the SQL proxy return the same numbers for the same question', async () => {
  const gql = await (
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($q: JSON!) { query(query: $q) { data } }', variables: { q: QUERY } }),
    })
  ).json();
  const fromGraphQL: Row[] = gql.data.query.data.map((d: Record<string, never>) => ({
    platform: d['ad_performance.platform'],
    month: d['ad_performance.date.month'],
    clicks: d['ad_performance.clicks'],
    ctr: d['ad_performance.ctr'],
    cpa: d['ad_performance.cpa'],
  }));
  expect(fromGraphQL.length).toBeGreaterThan(6);

  const rest = await (
    await fetch(`${server.url}/cubejs-api/v1/load?query=${encodeURIComponent(JSON.stringify(QUERY))}`, { headers: { authorization: token } })
  ).json();
  const fromRest: Row[] = rest.data.map((d: Record<string, never>) => ({
    platform: d['ad_performance.platform'],
    month: d['ad_performance.date.month'],
    clicks: Number(d['ad_performance.clicks']),
    ctr: Number(d['ad_performance.ctr']),
    cpa: Number(d['ad_performance.cpa']),
  }));

  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.sqlProxyPort,
    user: 'e2e',
    password: token,
    database: 'strata',
    types: { getTypeParser: () => (v: string) => v },
  });
  await client.connect();
  const sql = await client.query(
    `SELECT platform, date_trunc('month', date) AS month, SUM(clicks) AS clicks, MEASURE(ctr) AS ctr, MEASURE(cpa) AS cpa
       FROM ad_performance WHERE date BETWEEN $1 AND $2 GROUP BY 1, 2`,
    ['2026-07-01', '2026-09-30'],
  );
  await client.end();
  const fromSql: Row[] = sql.rows.map((r) => ({
    platform: r.platform,
    month: String(r.month),
    clicks: Number(r.clicks),
    ctr: Number(r.ctr),
    cpa: Number(r.cpa),
  }));

  for (const other of [fromRest, fromSql]) {
    expect(other.length).toBe(fromGraphQL.length);
    const byKey = new Map(other.map((r) => [key(r), r]));
    for (const g of fromGraphQL) {
      const o = byKey.get(key(g))!;
      expect(o, key(g)).toBeDefined();
      expect(o.clicks).toBe(g.clicks);
      expect(o.ctr).toBeCloseTo(g.ctr, 9);
      expect(o.cpa).toBeCloseTo(g.cpa, 9);
    }
  }
});
