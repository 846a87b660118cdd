/**
 * The MCP door over the REAL server (createServices + startServer: chDB on a temp dir, PGlite, demo
 * data at scale 0.05 ending 2026-10-31, JWT auth), driven by the SDK's own client over Streamable
 * HTTP and over stdio (`strata mcp` as a child process). Marketing questions go search -> describe
 * -> query, and the numbers are checked against plain ClickHouse SQL with an explicit tenant filter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';

let server: RunningServer;
let dir: string;
let secret: string;
const tokens: Record<string, string> = {};
const clients: Client[] = [];

async function mint(tenant: string, scope: string): Promise<string> {
  return new SignJWT({ tenant_id: tenant, scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`e2e-${tenant}`)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

async function httpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', server.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

type Json = Record<string, any>;
async function call(client: Client, name: string, args: Json): Promise<{ body: Json; isError: boolean; raw: string }> {
  const r = (await client.callTool({ name, arguments: args })) as { content: { type: string; text: string }[]; isError?: boolean };
  const raw = r.content[0].text;
  return { body: JSON.parse(raw), isError: Boolean(r.isError), raw };
}

/** The independent computation: plain SQL, explicit tenant filter. */
async function sql<T>(text: string, params: Record<string, unknown>): Promise<T[]> {
  return (await server.services.engine.query<T>(text, params)).rows;
}

const OCT: [string, string] = ['2026-10-01', '2026-10-31'];

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-mcp-`);
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
  });
  server = await startServer(await createServices(config));
  secret = config.auth.jwtSecret!;
  tokens.acme = await mint('acme', 'metrics:read finance:read clients:read');
  tokens.globex = await mint('globex', 'metrics:read finance:read clients:read');
  tokens.viewer = await mint('acme', 'metrics:read');
  tokens.admin = await mint('acme', 'metrics:read finance:read tenant:admin');
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('MCP over Streamable HTTP', () => {
  it('answers 401 without a credential or with a bad one', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body });
    expect(none.status).toBe(401);
    expect(((await none.json()) as Json).code).toBe('UNAUTHENTICATED');
    const bad = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: 'Bearer nope' }, body });
    expect(bad.status).toBe(401);
  });

  it('lists the tools, with a query schema that documents operators, dates and comparisons', async () => {
    const client = await httpClient(tokens.acme);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['describe', 'explain_query', 'get_catalog', 'list_saved', 'run_query', 'run_saved', 'search_catalog']);
    const schema = JSON.stringify(tools.find((t) => t.name === 'run_query')!.inputSchema);
    for (const word of ['notStartsWith', 'inDateRange', 'last N <units>', 'Monday', 'previousPeriod', 'quarter']) expect(schema).toContain(word);
  });

  it('ad spend by platform: search -> describe -> query equals plain SQL', async () => {
    const client = await httpClient(tokens.acme);
    const search = await call(client, 'search_catalog', { words: 'ad spend' });
    expect(search.body.hits[0].path).toBe('ad_performance.cost');
    const cost = await call(client, 'describe', { name: 'ad_performance.cost' });
    expect(cost.body).toMatchObject({ currency: 'USD', format: 'currency', coverage: { lastDate: FIXED_DEMO_END_DATE, timeDimension: 'ad_performance.date' } });
    expect(cost.body.coverage.approxRows).toBeGreaterThan(1000);
    const platform = await call(client, 'describe', { name: 'ad_performance.platform' });
    const result = await call(client, 'run_query', {
      query: {
        measures: ['ad_performance.cost'],
        dimensions: ['ad_performance.platform'],
        timeDimensions: [{ dimension: 'ad_performance.date', dateRange: OCT }],
        order: { 'ad_performance.platform': 'asc' },
      },
    });
    expect(result.isError).toBe(false);
    const want = await sql<{ platform: string; cost: number }>(
      'SELECT platform, sum(cost) AS cost FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} GROUP BY platform ORDER BY platform',
      { t: 'acme', a: OCT[0], b: OCT[1] },
    );
    expect(result.body.columns).toEqual(['ad_performance.platform', 'ad_performance.cost']);
    expect(result.body.rows.map((r: unknown[]) => r[0])).toEqual(want.map((w) => w.platform));
    result.body.rows.forEach((r: number[], i: number) => {
      expect(r[1]).toBeCloseTo(want[i].cost, 6);
    });
    // The values describe lists are exactly the platforms the tenant has.
    const all = await sql<{ platform: string }>('SELECT DISTINCT platform FROM ad_performance WHERE tenant_id = {t:String} ORDER BY platform', { t: 'acme' });
    expect(platform.body.values).toEqual(all.map((r) => r.platform));
  });

  it('engagements per impression and conversions by type equal plain SQL', async () => {
    const client = await httpClient(tokens.acme);
    const hit = await call(client, 'search_catalog', { words: 'engagements per impression' });
    expect(hit.body.hits[0].path).toBe('ad_performance.engagement_rate');
    const rate = await call(client, 'run_query', {
      query: { measures: ['ad_performance.engagement_rate'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: OCT }] },
    });
    const [w] = await sql<{ r: number }>(
      'SELECT 100 * sum(engagements) / sum(impressions) AS r FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date}',
      { t: 'acme', a: OCT[0], b: OCT[1] },
    );
    expect(rate.body.rows[0][0]).toBeCloseTo(w.r, 9);

    const conv = await call(client, 'search_catalog', { words: 'tracked conversions' });
    expect(conv.body.hits.map((h: Json) => h.path)).toContain('conversions.count');
    const byType = await call(client, 'run_query', {
      query: {
        measures: ['conversions.count'],
        dimensions: ['conversions.conversion_type'],
        timeDimensions: [{ dimension: 'conversions.occurred_at', dateRange: OCT }],
        order: { 'conversions.conversion_type': 'asc' },
      },
    });
    const want = await sql<{ t: string; n: string }>(
      "SELECT conversion_type AS t, toString(count()) AS n FROM conversions WHERE tenant_id = {t:String} AND occurred_at >= toDateTime64({a:String}, 3, 'UTC') AND occurred_at < toDateTime64({b:String}, 3, 'UTC') GROUP BY t ORDER BY t",
      { t: 'acme', a: '2026-10-01 00:00:00', b: '2026-11-01 00:00:00' },
    );
    expect(byType.body.rows).toEqual(want.map((r) => [r.t, Number(r.n)]));
  });

  it('a range after the data: no rows, and a note with the last date', async () => {
    const client = await httpClient(tokens.acme);
    const r = await call(client, 'run_query', {
      query: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-11-10', '2026-11-20'] }] },
    });
    expect(r.body).toMatchObject({ rows: [], rowCount: 0, empty: true });
    expect(r.body.notes[0]).toMatchObject({ code: 'RANGE_OUTSIDE_DATA', lastDate: FIXED_DEMO_END_DATE });
    expect(r.body.notes[0].message).toContain(FIXED_DEMO_END_DATE);
    const v = await call(client, 'run_query', {
      query: { measures: ['ad_performance.clicks'], filters: [{ member: 'ad_performance.platform', operator: 'equals', values: ['myspace'] }] },
    });
    expect(v.body).toMatchObject({ rows: [], empty: true });
    expect(v.body.notes[0]).toMatchObject({ code: 'VALUE_NOT_PRESENT', member: 'ad_performance.platform' });
  });

  it('a viewer never sees finance members; explain shows SQL to tenant admins only', async () => {
    const finance = Object.values(server.services.model.cubes).flatMap((c) =>
      [...Object.values(c.measures), ...Object.values(c.dimensions)].filter((m) => m.scopes.includes('finance:read')).map((m) => m.path),
    );
    expect(finance).toContain('ad_performance.cost');
    const viewer = await httpClient(tokens.viewer);
    const seen = [
      (await call(viewer, 'get_catalog', {})).raw,
      (await call(viewer, 'search_catalog', { words: 'spend cost revenue budget roas cpa' })).raw,
      (await call(viewer, 'describe', { name: 'ad_performance' })).raw,
      (await call(viewer, 'describe', { name: 'campaign_performance' })).raw,
    ].join('\n');
    for (const m of finance) expect(seen).not.toMatch(new RegExp(`"${m.replace('.', '\\.')}"|\\b${m.split('.')[1]}\\b \\[currency`));
    const denied = await call(viewer, 'run_query', { query: { measures: ['ad_performance.cost'] } });
    expect(denied).toMatchObject({ isError: true, body: { code: 'FORBIDDEN' } });
    expect((await call(viewer, 'describe', { name: 'ad_performance.cost' })).body.code).toBe('NOT_FOUND');

    const q = { measures: ['ad_performance.clicks'], filters: [{ member: 'ad_performance.country', operator: 'startsWith', values: ['U'] }] };
    const plain = await call(await httpClient(tokens.acme), 'explain_query', { query: q });
    expect(plain.body).toMatchObject({ valid: true, cubes: ['ad_performance'] });
    expect(plain.body.sql).toBeUndefined();
    expect(plain.body.filters[0]).toContain('starts with');
    const admin = await call(await httpClient(tokens.admin), 'explain_query', { query: q });
    expect(admin.body.sql).toContain('tenant_id');
  });

  it("another tenant's data never appears", async () => {
    const globex = await httpClient(tokens.globex);
    const r = await call(globex, 'run_query', {
      query: {
        measures: ['ad_performance.clicks'],
        dimensions: ['ad_performance.account_id'],
        timeDimensions: [{ dimension: 'ad_performance.date', dateRange: OCT }],
      },
    });
    expect(r.body.rows.length).toBeGreaterThan(0);
    for (const [account] of r.body.rows) expect(account).toMatch(/^globex-/);
    const want = await sql<{ n: string }>(
      'SELECT toString(sum(clicks)) AS n FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date}',
      {
        t: 'globex',
        a: OCT[0],
        b: OCT[1],
      },
    );
    expect(r.body.rows.reduce((s: number, row: number[]) => s + row[1], 0)).toBe(Number(want[0].n));
    const cov = await call(globex, 'describe', { name: 'ad_performance' });
    const [rows] = await sql<{ n: string }>('SELECT toString(count()) AS n FROM ad_performance WHERE tenant_id = {t:String}', { t: 'globex' });
    expect(cov.body.coverage.approxRows).toBe(Number(rows.n));
    expect(cov.body.coverage.lastIngestedAt).toMatch(/^20\d\d-\d\d-\d\dT.*Z$/);
  });
});

describe('the same catalog and notes in GraphQL and REST /meta', () => {
  async function graphql(query: string, variables: Json = {}): Promise<Json> {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.acme}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Json;
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  }

  it('GraphQL: coverage, values, synonyms, compact form, and the empty shape with notes', async () => {
    const data = await graphql(
      '{ catalog { compact grammar cubes { name coverage { lastDate approxRows } dimensions { path values } measures { path synonyms currency } } } }',
    );
    const ad = data.catalog.cubes.find((c: Json) => c.name === 'ad_performance');
    expect(ad.coverage.lastDate).toBe(FIXED_DEMO_END_DATE);
    expect(ad.measures.find((m: Json) => m.path === 'ad_performance.cost')).toMatchObject({ currency: 'USD', synonyms: expect.arrayContaining(['spend']) });
    expect(ad.dimensions.find((d: Json) => d.path === 'ad_performance.platform').values.length).toBeGreaterThan(0);
    expect(data.catalog.grammar.weekStart).toBe('Monday');
    const q = { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-11-10', '2026-11-20'] }] };
    const r = await graphql('query($q: JSON!) { query(query: $q) { data notes { code lastDate message } } }', { q });
    expect(r.query.data).toEqual([]);
    expect(r.query.notes).toEqual([expect.objectContaining({ code: 'RANGE_OUTSIDE_DATA', lastDate: FIXED_DEMO_END_DATE })]);
  });

  it('REST /meta carries coverage and the grammar as extra fields', async () => {
    const res = await fetch(`${server.url}/cubejs-api/v1/meta`, { headers: { authorization: tokens.acme } });
    const meta = (await res.json()) as Json;
    const ad = meta.cubes.find((c: Json) => c.name === 'ad_performance');
    expect(ad.coverage.lastDate).toBe(FIXED_DEMO_END_DATE);
    expect(ad.measures.find((m: Json) => m.name === 'ad_performance.cost_7d').rollingWindow).toBe('trailing 7 day');
    expect(meta.grammar.weekStart).toBe('Monday');
  });
});

describe('MCP over stdio (`strata mcp`)', () => {
  it('relays to the running server with the token from the environment', async () => {
    const client = new Client({ name: 'e2e-stdio', version: '1.0.0' });
    clients.push(client);
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', 'src/main.ts', 'mcp'],
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          STRATA_URL: server.url,
          STRATA_TOKEN: tokens.acme,
          STRATA_ENV: 'test',
          LOG_LEVEL: 'warn',
        },
        stderr: 'pipe',
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('run_query');
    const r = await call(client, 'run_query', {
      query: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: OCT }] },
    });
    const [w] = await sql<{ n: string }>(
      'SELECT toString(sum(clicks)) AS n FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date}',
      { t: 'acme', a: OCT[0], b: OCT[1] },
    );
    expect(r.body.rows[0][0]).toBe(Number(w.n));
  }, 60_000);
});
