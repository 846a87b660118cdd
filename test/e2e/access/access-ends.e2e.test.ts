/**
 * The tenant registry and the end of access, through the real doors of two `strata serve` processes
 * on one Postgres database (each with its own chDB directory): a token for an unregistered tenant is
 * refused by every door; suspending a tenant, revoking an API key or a token expiring ends the open
 * graphql-ws and SQL proxy sessions that used it, on both instances, within 5 s. The periodic
 * re-check is set to a minute here, so what ends the sessions is the LISTEN/NOTIFY signal.
 */
import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

const ADMIN_URL = process.env.STRATA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `strata_access_${process.pid}_${randomBytes(3).toString('hex')}`;
const WITHIN_MS = 5_000;

let a: ServerProcess;
let b: ServerProcess;
const open: { dispose(): unknown }[] = [];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE "${DB}"`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB}`;
  const env = { DATABASE_URL: url.toString(), ACCESS_RECHECK_INTERVAL_MS: '60000' };
  a = await startServerProcess(env);
  b = await startServerProcess(env);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await Promise.all([a?.stop(), b?.stop()]);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`));
});

const token = (tenantId: string, scopes: string[], expiresIn: number | string = '1h') => mintDevToken(a.jwtSecret, { tenantId, scopes, expiresIn });

async function gql(server: ServerProcess, credential: string, query: string, variables?: object) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, any>; errors?: { message: string; extensions?: { code?: string } }[] } };
}

/** Resolves with the close event of a graphql-ws connection whose subscription got its first result. */
async function subscribed(server: ServerProcess, credential: string): Promise<{ closed: Promise<{ code: number; reason: string }> }> {
  let onClosed!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClosed = r));
  const client: Client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${credential}` },
    retryAttempts: 0,
    on: { closed: (e) => onClosed(e as { code: number; reason: string }) },
  });
  open.push(client);
  const it = client.iterate({ query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }' });
  const first = await it.next();
  expect(first.value).toHaveProperty('data.live');
  // Keep reading so pushes do not pile up; the end comes as a close.
  void (async () => {
    try {
      for (;;) if ((await it.next()).done) break;
    } catch {
      /* closed */
    }
  })();
  return { closed };
}

/** An open SQL proxy session that answered a query; `ended` resolves with the FATAL it receives. */
async function sqlSession(server: ServerProcess, credential: string): Promise<{ client: pg.Client; ended: Promise<{ code?: string; message: string }> }> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.sqlProxyPort, user: 'bi', database: 'strata', password: credential });
  const ended = new Promise<{ code?: string; message: string }>((resolve) => client.on('error', (e) => resolve(e as { code?: string; message: string })));
  await client.connect();
  open.push({ dispose: () => client.end().catch(() => undefined) });
  const res = await client.query('SELECT SUM(clicks) AS clicks FROM ad_performance');
  expect(res.rows).toHaveLength(1);
  return { client, ended };
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${WITHIN_MS} ms`)), WITHIN_MS))]);
}

const platform = () => token('acme', ['platform:admin']);

describe('tenant registry at every door', () => {
  it('refuses a validly signed token for an unregistered tenant on GraphQL, REST, ingestion, WebSocket and SQL', async () => {
    const hooli = await token('hooli', ['metrics:read', 'ingest:write']);
    const graphql = await gql(a, hooli, '{ __typename }');
    expect(graphql.status).toBe(403);
    expect(graphql.body.errors?.[0].extensions?.code).toBe('TENANT_UNKNOWN');

    const rest = await fetch(`${a.url}/cubejs-api/v1/load?query=${encodeURIComponent('{"measures":["ad_performance.clicks"]}')}`, {
      headers: { authorization: hooli },
    });
    expect(rest.status).toBe(403);
    expect(await rest.json()).toMatchObject({ code: 'TENANT_UNKNOWN' });

    const ingest = await fetch(`${b.url}/v1/ingest/ad_performance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hooli}`, 'content-type': 'application/x-ndjson' },
      body: '{}\n',
    });
    expect(ingest.status).toBe(403);
    expect(await ingest.json()).toMatchObject({ code: 'TENANT_UNKNOWN' });

    const ws = await new Promise<{ code: number; reason: string }>((resolve) => {
      const c = createClient({
        url: `${b.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${hooli}` },
        retryAttempts: 0,
        on: { closed: (e) => resolve(e as { code: number; reason: string }) },
      });
      open.push(c);
      c.subscribe({ query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }' }, { next() {}, error() {}, complete() {} });
    });
    expect(ws.code).toBe(4403);
    expect(ws.reason).toMatch(/not registered/);

    const sql = new pg.Client({ host: '127.0.0.1', port: a.sqlProxyPort, user: 'bi', database: 'strata', password: hooli });
    await expect(sql.connect()).rejects.toMatchObject({ code: '28000', message: 'tenant "hooli" is not registered' });
  });

  it('lets a platform operator register, list and re-plan tenants, and a tenant admin read and update its own settings', async () => {
    const created = await gql(a, await platform(), 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id status plan } }', {
      i: { id: 'umbrella', name: 'Umbrella Corp', plan: 'free', status: 'trial' },
    });
    expect(created.body.data?.createTenant).toEqual({ id: 'umbrella', status: 'trial', plan: 'free' });
    // Registered on A, served on B from the next request.
    const mine = await gql(b, await token('umbrella', ['tenant:admin']), '{ myTenant { id name status plan } }');
    expect(mine.body.data?.myTenant).toEqual({ id: 'umbrella', name: 'Umbrella Corp', status: 'trial', plan: 'free' });

    const replanned = await gql(b, await platform(), 'mutation { updateTenant(id: "umbrella", input: {plan: "pro"}) { plan } }');
    expect(replanned.body.data?.updateTenant).toEqual({ plan: 'pro' });
    const list = await gql(a, await platform(), '{ tenants { id } }');
    expect((list.body.data!.tenants as { id: string }[]).map((t: { id: string }) => t.id)).toEqual(['acme', 'globex', 'initech', 'umbrella']);

    const own = await gql(a, await token('umbrella', ['tenant:admin']), 'mutation { updateMyTenant(input: {settings: {currency: "EUR"}}) { settings } }');
    expect(own.body.data?.updateMyTenant).toEqual({ settings: { currency: 'EUR' } });
    const raise = await gql(
      a,
      await token('umbrella', ['tenant:admin']),
      'mutation { updateMyTenant(input: {settings: {rateLimit: {perSecond: 1000, burst: 1000}}}) { id } }',
    );
    expect(raise.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    // Operator fields are not a tenant's: a tenant admin without platform:admin is refused.
    const tenantAdmin = await gql(a, await token('acme', ['tenant:admin', 'keys:admin', 'metrics:read']), '{ tenants { id } }');
    expect(tenantAdmin.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('access that ends', () => {
  it('suspending a tenant ends its WebSocket and SQL sessions on both instances within 5 s; resuming serves it again', async () => {
    const cred = await token('umbrella', ['metrics:read']);
    const [wsA, wsB, sqlA, sqlB] = await Promise.all([subscribed(a, cred), subscribed(b, cred), sqlSession(a, cred), sqlSession(b, cred)]);
    const other = await subscribed(b, await token('acme', ['metrics:read']));

    const suspended = await gql(a, await platform(), 'mutation { suspendTenant(id: "umbrella") { status } }');
    expect(suspended.body.data?.suspendTenant).toEqual({ status: 'suspended' });

    for (const ws of await within(Promise.all([wsA.closed, wsB.closed]), 'WebSocket close')) {
      expect(ws.code).toBe(4403);
      expect(ws.reason).toMatch(/umbrella" is suspended/);
    }
    for (const fatal of await within(Promise.all([sqlA.ended, sqlB.ended]), 'SQL proxy FATAL')) {
      expect(fatal).toMatchObject({ code: '28000', message: 'terminating connection: tenant "umbrella" is suspended' });
    }
    // Another tenant's session is untouched; new requests of the suspended one are refused everywhere.
    expect(await Promise.race([other.closed, new Promise((r) => setTimeout(() => r('open'), 300))])).toBe('open');
    const refused = await gql(b, cred, '{ __typename }');
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0].extensions?.code).toBe('TENANT_SUSPENDED');

    await gql(b, await platform(), 'mutation { resumeTenant(id: "umbrella") { status } }');
    // The resume reaches instance a by the same signal as the suspension (asynchronously): within the same bound.
    const deadline = Date.now() + WITHIN_MS;
    let status = (await gql(a, cred, '{ __typename }')).status;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await gql(a, cred, '{ __typename }')).status;
    }
    expect(status).toBe(200);
  });

  it('revoking an API key ends the sessions that used it on both instances within 5 s', async () => {
    const created = await gql(
      a,
      await token('umbrella', ['keys:admin', 'metrics:read']),
      'mutation { createApiKey(input: {name: "bi", scopes: ["metrics:read"]}) { secret apiKey { id } } }',
    );
    const { secret, apiKey } = created.body.data!.createApiKey as { secret: string; apiKey: { id: string } };
    const [wsA, wsB, sqlA, sqlB] = await Promise.all([subscribed(a, secret), subscribed(b, secret), sqlSession(a, secret), sqlSession(b, secret)]);

    const revoked = await gql(b, await token('umbrella', ['keys:admin']), `mutation { revokeApiKey(id: "${apiKey.id}") }`);
    expect(revoked.body.data?.revokeApiKey).toBe(true);

    for (const ws of await within(Promise.all([wsA.closed, wsB.closed]), 'WebSocket close')) expect(ws.code).toBe(4401);
    for (const fatal of await within(Promise.all([sqlA.ended, sqlB.ended]), 'SQL proxy FATAL')) {
      expect(fatal).toMatchObject({ code: '28000', message: 'terminating connection: API key has been revoked or has expired' });
    }
  });

  it('an expiring token ends its sessions; a token without exp is refused', async () => {
    const short = await token('acme', ['metrics:read'], 3);
    const [ws, sql] = await Promise.all([subscribed(a, short), sqlSession(b, short)]);
    expect((await within(ws.closed, 'WebSocket close')).code).toBe(4401);
    expect(await within(sql.ended, 'SQL proxy FATAL')).toMatchObject({ code: '28000', message: 'terminating connection: token expired' });

    const { SignJWT } = await import('jose');
    const forever = await new SignJWT({ tenant_id: 'acme', scope: 'metrics:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .sign(new TextEncoder().encode(a.jwtSecret));
    const res = await gql(a, forever, '{ __typename }');
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].message).toMatch(/no expiry/);
  });
});
