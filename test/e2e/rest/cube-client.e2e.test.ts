/**
 * The Cube REST door over the REAL server (createServices + startServer: chDB on a temp dir,
 * PGlite, demo data at scale 0.05, JWT auth), driven by the REAL @cubejs-client/core over HTTP.
 * Numbers are checked against plain ClickHouse SQL with an explicit tenant filter, and against
 * the GraphQL generic query.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import cube, { type CubeApi, type Query, RequestError } from '@cubejs-client/core';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';

// A model of our own over the demo warehouse tables, so the numbers below do not depend on how
// cube-models/ evolves. The demo seed fills these tables for acme, globex and initech.
const MODEL = `
cubes:
  - name: ad_performance
    sql_table: ad_performance
    tenant_column: tenant_id
    measures:
      - name: clicks
        type: sum
        sql: clicks
      - name: impressions
        type: sum
        sql: impressions
      - name: cost
        type: sum
        sql: cost
        format: currency
        scopes: [finance:read]
      - name: count
        type: count
    dimensions:
      - name: date
        type: time
        sql: date
      - name: platform
        type: string
        sql: platform
      - name: campaign_id
        type: string
        sql: campaign_id
`;

let dir: string;
let server: RunningServer;
let apiUrl: string;
const tokens: Record<string, string> = {};

async function mint(tenant: string, scope: string, secret: string): Promise<string> {
  return new SignJWT({ tenant_id: tenant, scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`e2e-${tenant}`)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-`);
  mkdirSync(`${dir}/models`);
  writeFileSync(`${dir}/models/ad_performance.yml`, MODEL);
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    MODELS_DIR: `${dir}/models`,
  });
  server = await startServer(await createServices(config));
  apiUrl = `${server.url}/cubejs-api/v1`;
  const secret = config.auth.jwtSecret!;
  tokens.acme = await mint('acme', 'metrics:read finance:read', secret);
  tokens.globex = await mint('globex', 'metrics:read finance:read', secret);
  tokens.viewer = await mint('acme', 'metrics:read', secret);
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = (token: string): CubeApi => cube(token, { apiUrl });

/** The independent computation: plain SQL, explicit tenant filter. */
async function sql<T>(text: string, params: Record<string, unknown>): Promise<T[]> {
  return (await server.services.engine.query<T>(text, params)).rows;
}

async function graphqlData(token: string, query: Query): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'query($q: JSON!){ query(query: $q) { data } }', variables: { q: query } }),
  });
  const body = (await res.json()) as { data?: { query: { data: Record<string, unknown>[] } }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!.query.data;
}

const RANGE: [string, string] = ['2025-03-01', '2025-03-31'];

describe('@cubejs-client/core against Strata', () => {
  it('load -> tablePivot / chartPivot / seriesNames, numbers equal plain SQL and GraphQL', async () => {
    const query: Query = {
      measures: ['ad_performance.clicks', 'ad_performance.cost'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: RANGE }],
    };
    const rs = await api(tokens.acme).load(query);
    const want = await sql<{ d: string; clicks: string; cost: number }>(
      'SELECT toString(date) AS d, toString(sum(clicks)) AS clicks, sum(cost) AS cost FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} GROUP BY d ORDER BY d',
      { t: 'acme', a: RANGE[0], b: RANGE[1] },
    );
    expect(want.length).toBeGreaterThan(20);

    const table = rs.tablePivot();
    expect(table.map((r) => r['ad_performance.date.day'])).toEqual(want.map((w) => `${w.d}T00:00:00.000`));
    expect(table.map((r) => r['ad_performance.clicks'])).toEqual(want.map((w) => Number(w.clicks)));
    table.forEach((r, i) => {
      expect(r['ad_performance.cost'] as number).toBeCloseTo(want[i].cost, 6);
    });

    // chartPivot fills every day of the range (31), zero where a day had no rows.
    const chart = rs.chartPivot();
    expect(chart).toHaveLength(31);
    const byDay = new Map(want.map((w) => [`${w.d}T00:00:00.000`, Number(w.clicks)]));
    for (const point of chart) expect(point['ad_performance.clicks']).toBe(byDay.get(point.x) ?? 0);
    expect(rs.seriesNames().map((s) => s.key)).toEqual(['ad_performance.clicks', 'ad_performance.cost']);

    // The raw data also carries the bare time key, like Cube.
    expect(rs.rawData()[0]['ad_performance.date']).toBe(rs.rawData()[0]['ad_performance.date.day']);

    const gql = await graphqlData(tokens.acme, query);
    expect(gql.map((r) => r['ad_performance.clicks'])).toEqual(rs.rawData().map((r) => r['ad_performance.clicks']));
    expect(gql.map((r) => r['ad_performance.cost'])).toEqual(rs.rawData().map((r) => r['ad_performance.cost']));
  });

  it('meta lists what the token may see', async () => {
    const meta = await api(tokens.acme).meta();
    const perf = meta.cubes.find((c) => c.name === 'ad_performance')!;
    expect(perf.type).toBe('cube');
    expect(perf.measures.map((m) => m.name).sort()).toEqual([
      'ad_performance.clicks',
      'ad_performance.cost',
      'ad_performance.count',
      'ad_performance.impressions',
    ]);
    expect(perf.measures.find((m) => m.name === 'ad_performance.clicks')).toMatchObject({ aggType: 'sum', type: 'number' });
    const viewerMeta = await api(tokens.viewer).meta();
    expect(viewerMeta.cubes.flatMap((c) => c.measures.map((m) => m.name))).not.toContain('ad_performance.cost');
  });

  it('compareDateRange returns one result per range, each equal to plain SQL', async () => {
    const ranges: [string, string][] = [
      ['2025-01-01', '2025-01-31'],
      ['2025-02-01', '2025-02-28'],
    ];
    const rs = await api(tokens.acme).load({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', compareDateRange: ranges }],
    });
    const parts = rs.decompose();
    expect(parts).toHaveLength(2);
    for (const [i, [a, b]] of ranges.entries()) {
      const want = await sql<{ p: string; c: string }>(
        'SELECT platform AS p, toString(sum(clicks)) AS c FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} GROUP BY p',
        { t: 'acme', a, b },
      );
      const got = Object.fromEntries(parts[i].rawData().map((r) => [r['ad_performance.platform'], r['ad_performance.clicks']]));
      expect(got).toEqual(Object.fromEntries(want.map((w) => [w.p, Number(w.c)])));
      expect(parts[i].rawData()[0].compareDateRange).toBe(`${a}T00:00:00.000 - ${b}T23:59:59.999`);
    }
    // One series per compared range when the ranges go on the y axis.
    const pivot = { x: ['ad_performance.platform'], y: ['compareDateRange', 'measures'] };
    expect(rs.seriesNames(pivot).map((s) => s.key)).toEqual(ranges.map(([a, b]) => `${a}T00:00:00.000 - ${b}T23:59:59.999,ad_performance.clicks`));
    const first = parts[0].rawData()[0];
    const row = rs.chartPivot(pivot).find((r) => r.x === first['ad_performance.platform'])!;
    expect(row[`${ranges[0][0]}T00:00:00.000 - ${ranges[0][1]}T23:59:59.999,ad_performance.clicks`]).toBe(first['ad_performance.clicks']);
  });

  it('a query too long for a URL goes by POST and still answers', async () => {
    const methods: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
      methods.push(init?.method ?? 'GET');
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const decoys = Array.from({ length: 150 }, (_, i) => `no-such-platform-${i}`);
      const rs = await api(tokens.acme).load({
        measures: ['ad_performance.clicks'],
        filters: [{ member: 'ad_performance.platform', operator: 'notEquals', values: decoys }],
        timeDimensions: [{ dimension: 'ad_performance.date', dateRange: RANGE }],
      });
      expect(methods).toEqual(['POST']);
      const [want] = await sql<{ c: string }>(
        'SELECT toString(sum(clicks)) AS c FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date}',
        {
          t: 'acme',
          a: RANGE[0],
          b: RANGE[1],
        },
      );
      expect(rs.rawData()).toEqual([{ 'ad_performance.clicks': Number(want.c) }]);
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('tenant isolation: globex never sees an acme campaign id', async () => {
    const rs = await api(tokens.globex).load({ measures: ['ad_performance.count'], dimensions: ['ad_performance.campaign_id'], limit: 5000 });
    const seen = new Set(rs.rawData().map((r) => r['ad_performance.campaign_id']));
    const acme = new Set(
      (await sql<{ id: string }>('SELECT DISTINCT campaign_id AS id FROM ad_performance WHERE tenant_id = {t:String}', { t: 'acme' })).map((r) => r.id),
    );
    const globex = new Set(
      (await sql<{ id: string }>('SELECT DISTINCT campaign_id AS id FROM ad_performance WHERE tenant_id = {t:String}', { t: 'globex' })).map((r) => r.id),
    );
    expect(acme.size).toBeGreaterThan(0);
    expect(seen).toEqual(globex);
    for (const id of seen) expect(acme.has(id as string)).toBe(false);
  });

  it('a viewer without finance:read asking for cost gets 403 with a clear message', async () => {
    const err = await api(tokens.viewer)
      .load({ measures: ['ad_performance.cost'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).status).toBe(403);
    expect((err as RequestError).message).toBe('member "ad_performance.cost" requires scope "finance:read"');
    expect((err as RequestError).response).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a forged token is refused with 403', async () => {
    const err = await api('not-a-token')
      .meta()
      .catch((e: unknown) => e);
    expect((err as RequestError).status).toBe(403);
    expect((err as RequestError).response).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it("sql() and dryRun() answer in Cube's shape", async () => {
    const q: Query = { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'] };
    const s = await api(tokens.globex).sql(q);
    const text = (s as unknown as { sql(): string }).sql();
    expect(text).toContain('{tenant:String}');
    expect(text).not.toContain('globex');
    const dry = await api(tokens.acme).dryRun(q);
    expect(dry.queryType).toBe('regularQuery');
    expect(dry.pivotQuery).toMatchObject({ measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'], queryType: 'regularQuery' });
  });
});
