/**
 * The admin GraphQL surface against the real running server (HTTP, chDB, PGlite, SQL proxy):
 * API keys as credentials, tenant isolation, dashboard batching counted on the engine, the audit
 * trail of every door, and the ingestion mutation. Members are picked from the live catalog, so
 * the test follows the models in cube-models/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createLogger } from '../../../src/logger.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';

interface Gql {
  status: number;
  data?: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

interface CatalogMember {
  path: string;
  name: string;
  type: string;
  aggType: string | null;
  requiredScopes: string[];
}
interface CatalogCube {
  name: string;
  kind: string;
  measures: CatalogMember[];
  dimensions: CatalogMember[];
}

let dir: string;
let config: Config;
let server: RunningServer;
const logs: string[] = [];
const token = (tenantId: string, roles: string[], subject: string) => mintDevToken(config.auth.jwtSecret!, { tenantId, roles, subject });

async function gql(credential: string, query: string, variables?: Record<string, unknown>): Promise<Gql> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** What the tests read, chosen from the catalog: two plain additive measures and a string dimension of one cube, an id dimension, another cube. */
let pick: {
  cube: string;
  m1: string;
  m2: string;
  dim: string;
  idDim: string;
  other: { measure: string; dim: string };
  restricted?: string;
};

const plain = (m: CatalogMember) => m.requiredScopes.every((s) => s === 'metrics:read');
const additive = (m: CatalogMember) => ['sum', 'count'].includes(m.aggType ?? '') && plain(m);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-'));
  config = loadConfig({
    ...process.env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'true',
    SQL_PROXY_PORT: '0',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    LOG_LEVEL: 'debug',
  });
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  server = await startServer(await createServices(config, { logger }));

  const admin = await token('acme', ['tenant_admin'], 'admin@acme');
  const { data } = await gql(
    admin,
    '{ catalog { cubes { name kind measures { path name type aggType requiredScopes } dimensions { path name type aggType requiredScopes } } } }',
  );
  const cubes = (data.catalog.cubes as CatalogCube[]).filter((c) => c.kind === 'cube');
  const isId = (d: CatalogMember) => d.type === 'string' && plain(d) && /(^|_)id$/.test(d.name);
  const main = cubes.find(
    (c) => c.measures.filter(additive).length >= 2 && c.dimensions.some(isId) && c.dimensions.some((d) => d.type === 'string' && plain(d) && !isId(d)),
  );
  if (!main) throw new Error('no cube with two additive measures, an id dimension and another string dimension in the catalog');
  const other = cubes.find((c) => c !== main && c.measures.some(additive) && c.dimensions.some((d) => d.type === 'string' && plain(d)));
  if (!other) throw new Error('no second cube with an additive measure and a string dimension');
  const [m1, m2] = main.measures.filter(additive);
  pick = {
    cube: main.name,
    m1: m1.path,
    m2: m2.path,
    dim: main.dimensions.find((d) => d.type === 'string' && plain(d) && !isId(d))!.path,
    idDim: main.dimensions.find(isId)!.path,
    other: { measure: other.measures.find(additive)!.path, dim: other.dimensions.find((d) => d.type === 'string' && plain(d))!.path },
    restricted: main.measures.find((m) => !plain(m) && m.requiredScopes.every((s) => ['metrics:read', 'finance:read', 'clients:read'].includes(s)))?.path,
  };
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('API keys on the running server', () => {
  it('a key created through GraphQL authenticates /graphql with its own scopes, sees only its tenant, and is refused at once when revoked', async () => {
    const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix scopes } } }';
    const acmeAdmin = await token('acme', ['tenant_admin'], 'admin@acme');
    const globexAdmin = await token('globex', ['tenant_admin'], 'admin@globex');
    const acme = (await gql(acmeAdmin, CREATE, { input: { name: 'e2e acme', scopes: ['metrics:read'] } })).data.createApiKey;
    const globex = (await gql(globexAdmin, CREATE, { input: { name: 'e2e globex', scopes: ['metrics:read'] } })).data.createApiKey;
    expect(acme.secret).toMatch(/^sk_live_/);
    expect(acme.apiKey.scopes).toEqual(['metrics:read']);

    const Q = 'query($q: JSON!) { query(query: $q) { data } }';
    const byId = { measures: [pick.m1], dimensions: [pick.idDim], limit: 500 };
    const acmeRows = (await gql(acme.secret, Q, { q: byId })).data.query.data as Record<string, string>[];
    const globexRows = (await gql(globex.secret, Q, { q: byId })).data.query.data as Record<string, string>[];
    expect(acmeRows.length).toBeGreaterThan(0);
    expect(globexRows.length).toBeGreaterThan(0);
    // Demo ids start with their tenant id: a row of another tenant would show.
    expect(acmeRows.every((r) => String(r[pick.idDim]).startsWith('acme'))).toBe(true);
    expect(globexRows.every((r) => String(r[pick.idDim]).startsWith('globex'))).toBe(true);

    // Its own scopes, not its creator's.
    const admin = await gql(acme.secret, '{ apiKeys { id } }');
    expect(admin.errors?.[0]).toMatchObject({ message: 'field "Query.apiKeys" requires scope "keys:admin"', extensions: { code: 'FORBIDDEN' } });
    if (pick.restricted) {
      const restricted = await gql(acme.secret, Q, { q: { measures: [pick.restricted] } });
      expect(restricted.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }

    expect((await gql(globexAdmin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: acme.apiKey.id })).data).toEqual({ revokeApiKey: false });
    expect((await gql(acmeAdmin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: acme.apiKey.id })).data).toEqual({ revokeApiKey: true });
    const refused = await gql(acme.secret, Q, { q: byId });
    expect(refused.status).toBe(401);
    expect(refused.errors).toEqual([{ message: 'API key has been revoked', extensions: { code: 'UNAUTHENTICATED' } }]);
    expect((await gql(globex.secret, Q, { q: byId })).status).toBe(200);

    // Secrets never reach the logs (the random part is what matters; the prefix is public).
    await server.services.store.apiKeys.settle();
    const text = logs.join('\n');
    for (const s of [acme.secret, globex.secret]) expect(text).not.toContain(s.slice(14));
  });
});

describe('dashboards on the running server', () => {
  it('N widgets over K distinct queries read in one request issue one SQL per mergeable group; a forbidden widget fails alone', async () => {
    const admin = await token('acme', ['tenant_admin'], 'admin@acme');
    // A filter used only here keeps the result cache out of the count.
    const filters = [{ member: pick.dim, operator: 'set' }];
    const q1 = { measures: [pick.m1], dimensions: [pick.dim], filters };
    const q2 = { measures: [pick.m2], dimensions: [pick.dim], filters };
    const q3 = { measures: [pick.other.measure], dimensions: [pick.other.dim], filters: [{ member: pick.other.dim, operator: 'set' }] };
    const widgets = [
      { id: 'a', title: 'first', query: q1 },
      { id: 'b', title: 'second', query: q2 },
      { id: 'c', title: 'first again', query: q1 },
      { id: 'd', title: 'other cube', query: q3 },
      ...(pick.restricted ? [{ id: 'r', title: 'restricted', query: { measures: [pick.restricted], dimensions: [pick.dim], filters } }] : []),
    ];
    const created = await gql(admin, 'mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id version } }', {
      input: { name: 'e2e', widgets },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data.createDashboard.id;

    // Statements reading the widgets' cubes: the running server's background work uses the engine too
    // and is left out: upkeep flagged internal (the audit mirror, the rollups' DESCRIBE of their
    // sources at start), and refresh-key reads of max(ingested_at).
    const cubes = [pick.dim, pick.other.dim].map((m) => m.split('.')[0]);
    const seen: string[] = [];
    server.services.engine.onQuery((e) => {
      if (!e.internal) seen.push(e.sql);
    });
    const res = await gql(admin, 'query($id: ID!) { dashboard(id: $id) { widgets { id result { data fromCache } } } }', { id });
    const statements = seen.filter((q) => cubes.some((c) => q.includes(`\`${c}\`.`)) && !/ingested_at/.test(q)).length;
    expect(res.errors).toBeUndefined();
    // Distinct queries: q1, q2, q3 (+ restricted). q1, q2 (+ restricted) share cube, dimensions and filters: one SQL; q3 another.
    expect(statements, seen.join('\n---\n')).toBe(2);
    const result = Object.fromEntries(res.data.dashboard.widgets.map((w: { id: string; result: { data: unknown[] } }) => [w.id, w.result]));
    expect(result.a.data.length).toBeGreaterThan(0);
    expect(result.c).toEqual(result.a);

    // The merged answer equals each query run alone (a different SQL, so not from the cache).
    const alone = async (q: unknown) => {
      const r = await fetch(`${server.url}/cubejs-api/v1/load`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: q }),
      });
      return ((await r.json()) as { data: Record<string, unknown>[] }).data;
    };
    const sortRows = (rows: Record<string, unknown>[]) => [...rows].sort((x, y) => String(x[pick.dim]).localeCompare(String(y[pick.dim])));
    expect(sortRows(result.b.data)).toEqual(sortRows(await alone(q2)));
    expect(sortRows(result.a.data)).toEqual(sortRows(await alone(q1)));

    if (pick.restricted) {
      const viewer = await token('acme', ['viewer'], 'viewer@acme');
      const partial = await gql(viewer, 'query($id: ID!) { dashboard(id: $id) { widgets { id result { data } } } }', { id });
      const widgetsOut = partial.data.dashboard.widgets as { id: string; result: unknown }[];
      expect(widgetsOut.find((w) => w.id === 'r')!.result).toBeNull();
      expect(widgetsOut.filter((w) => w.id !== 'r').every((w) => w.result !== null)).toBe(true);
      expect(partial.errors).toHaveLength(1);
      expect(partial.errors![0]).toMatchObject({
        path: ['dashboard', 'widgets', widgets.length - 1, 'result'],
        extensions: { code: 'FORBIDDEN', member: pick.restricted },
      });
    }

    // Without mergeable queries: one SQL per distinct query (K), however many widgets (N).
    const unmergeable = [
      { id: 'by-dim', query: { measures: [pick.m1], dimensions: [pick.dim], filters: [{ member: pick.dim, operator: 'notEquals', values: ['e2e'] }] } },
      { id: 'by-id', query: { measures: [pick.m1], dimensions: [pick.idDim], filters: [{ member: pick.idDim, operator: 'notEquals', values: ['e2e'] }] } },
      {
        id: 'by-id-again',
        query: { measures: [pick.m1], dimensions: [pick.idDim], filters: [{ member: pick.idDim, operator: 'notEquals', values: ['e2e'] }] },
      },
      {
        id: 'other',
        query: { measures: [pick.other.measure], dimensions: [pick.other.dim], filters: [{ member: pick.other.dim, operator: 'notEquals', values: ['e2e'] }] },
      },
    ];
    const second = await gql(admin, 'mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }', {
      input: { name: 'e2e 2', widgets: unmergeable },
    });
    const before2 = server.services.engine.stats().queries;
    const res2 = await gql(admin, 'query($id: ID!) { dashboard(id: $id) { widgets { id result { data } } } }', { id: second.data.createDashboard.id });
    expect(res2.errors).toBeUndefined();
    expect(server.services.engine.stats().queries - before2).toBe(3);
    expect(res2.data.dashboard.widgets.every((w: { result: { data: unknown[] } }) => w.result.data.length > 0)).toBe(true);

    const broken = await gql(admin, 'mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }', {
      input: { name: 'broken', widgets: [{ id: 'x', query: { measures: [`${pick.m1}x`] } }] },
    });
    expect(broken.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', member: `${pick.m1}x`, suggestion: pick.m1 });
  });
});

describe('audit trail on the running server', () => {
  it('records graphql, rest and sqlproxy reads; auditLog shows only the caller tenant', async () => {
    const acmeReader = await token('acme', ['analyst'], 'audit-reader@acme');
    const globexReader = await token('globex', ['analyst'], 'audit-reader@globex');
    const q = { measures: [pick.m1], dimensions: [pick.dim] };

    expect((await gql(acmeReader, 'query($q: JSON!) { query(query: $q) { data } }', { q })).errors).toBeUndefined();
    expect((await gql(globexReader, 'query($q: JSON!) { query(query: $q) { data } }', { q })).errors).toBeUndefined();
    const rest = await fetch(`${server.url}/cubejs-api/v1/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acmeReader}` },
      body: JSON.stringify({ query: q }),
    });
    expect(rest.status).toBe(200);
    const sqlClient = new pg.Client({ host: '127.0.0.1', port: server.sqlProxyPort, user: 'e2e', database: 'strata', password: acmeReader });
    await sqlClient.connect();
    try {
      const [cube, column] = pick.dim.split('.');
      const measure = pick.m1.split('.')[1];
      const r = await sqlClient.query(`SELECT ${column}, SUM(${measure}) AS total FROM ${cube} GROUP BY 1`);
      expect(r.rows.length).toBeGreaterThan(0);
    } finally {
      await sqlClient.end();
    }
    await server.services.store.audit.flush();

    const acmeAdmin = await token('acme', ['tenant_admin'], 'admin@acme');
    const globexAdmin = await token('globex', ['tenant_admin'], 'admin@globex');
    const FIELDS = '{ id at subject door queryFingerprint members rows durationMs status errorCode clientAddress requestId }';
    const acmeLog = (await gql(acmeAdmin, `{ auditLog(limit: 200) ${FIELDS} }`)).data.auditLog as Record<string, any>[];
    const mine = acmeLog.filter((e) => e.subject === 'audit-reader@acme');
    expect(new Set(mine.map((e) => e.door))).toEqual(new Set(['graphql', 'rest', 'sqlproxy']));
    for (const e of mine) {
      expect(e.status).toBe('ok');
      expect(e.rows).toBeGreaterThan(0);
      expect(e.members).toEqual(expect.arrayContaining([pick.m1, pick.dim]));
    }
    expect(mine.find((e) => e.door === 'graphql')!.queryFingerprint).toBe(mine.find((e) => e.door === 'rest')!.queryFingerprint);
    expect(acmeLog.some((e) => String(e.subject).endsWith('@globex'))).toBe(false);

    const globexLog = (await gql(globexAdmin, `{ auditLog(limit: 200) ${FIELDS} }`)).data.auditLog as Record<string, any>[];
    expect(globexLog.filter((e) => e.subject === 'audit-reader@globex').map((e) => e.door)).toEqual(['graphql']);
    expect(globexLog.some((e) => String(e.subject).endsWith('@acme'))).toBe(false);
  });
});

describe('ingest mutation on the running server', () => {
  it('inserts good rows for the credential tenant, quarantines bad ones, and a retry inserts nothing twice', async () => {
    const admin = await token('acme', ['tenant_admin'], 'admin@acme');
    const campaign = `acme-e2e-${Date.now()}`;
    const row = {
      date: '2026-01-01',
      platform: 'google_ads',
      account_id: 'acme-acct-e2e',
      campaign_id: campaign,
      ad_group_id: 'acme-adg-e2e',
      ad_id: 'acme-ad-e2e',
      country: 'US',
      device: 'mobile',
      impressions: 100,
      clicks: 10,
      cost: 5.5,
      conversions: 1,
      conversion_value: 20,
      video_views: 0,
      engagements: 0,
    };
    const rows = [row, { ...row, clicks: 500 }, { ...row, tenant_id: 'globex' }];
    // The model's campaign_exists rule: the campaign is loaded before its facts.
    const C = 'mutation($rows: [JSON!]!) { ingest(table: "campaigns", rows: $rows) { inserted } }';
    const campaignRow = {
      campaign_id: campaign,
      platform: 'google_ads',
      account_id: 'acme-acct-e2e',
      name: 'E2E',
      type: 'search',
      status: 'active',
      objective: 'sales',
      budget: 1,
      budget_type: 'daily',
      start_date: '2026-01-01',
    };
    expect((await gql(admin, C, { rows: [campaignRow] })).data.ingest.inserted).toBe(1);
    const M =
      'mutation($rows: [JSON!]!) { ingest(table: "ad_performance", rows: $rows, batchId: "e2e-batch-1") { batchId inserted quarantined { line reason } duplicate } }';
    const first = await gql(admin, M, { rows });
    expect(first.errors).toBeUndefined();
    expect(first.data.ingest).toMatchObject({ batchId: 'e2e-batch-1', inserted: 1, duplicate: false });
    expect(first.data.ingest.quarantined.map((q: { line: number }) => q.line)).toEqual([2, 3]);

    const count = async () =>
      (
        await server.services.engine.query<{ tenant_id: string; n: string | number }>(
          'SELECT tenant_id, count() AS n FROM ad_performance WHERE campaign_id = {c:String} GROUP BY tenant_id',
          { c: campaign },
        )
      ).rows.map((r) => [r.tenant_id, Number(r.n)]);
    expect(await count()).toEqual([['acme', 1]]);

    const retry = await gql(admin, M, { rows });
    expect(retry.data.ingest).toMatchObject({ inserted: 1, duplicate: true });
    expect(await count()).toEqual([['acme', 1]]);

    const analyst = await gql(await token('acme', ['analyst'], 'analyst@acme'), M, { rows });
    expect(analyst.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
