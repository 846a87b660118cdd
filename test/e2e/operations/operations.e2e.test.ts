/**
 * Operating Strata, on one server process (`strata serve`) the way an operator meets it:
 * - identity-provider outage at start and mid-run (a local JWKS server with jose keys): JWTs get
 *   AUTH_UNAVAILABLE (503 REST/GraphQL, 57P03 SQL proxy, 1013 WebSocket), a log line, a metric,
 *   /ready 503; HS tokens keep working; recovery without a restart;
 * - JWKS rotation: a new key verifies at its first token, a removed key is refused within
 *   JWT_JWKS_MAX_AGE_MS (polled up to a bound, never timed);
 * - the README's CLI examples beside the running server (they go through its HTTP API);
 * - SIGTERM drain: an HTTP request in flight is answered, a request pipelined behind it sees /ready
 *   "draining"; a psql session gets 57P01 "terminating connection due to administrator command"; a pg
 *   query in flight is answered (then 57P01) or refused with 57P01; a graphql-ws subscription closes
 *   1001; the process exits 0.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { startServerProcess, TEST_JWT_SECRET, type ServerProcess } from '../../helpers/server-process.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const README_QUERY =
  '{"measures":["ad_performance.cpa","ad_performance.ctr"],"dimensions":["ad_performance.platform"],"timeDimensions":[{"dimension":"ad_performance.date","dateRange":"last month"}]}';

const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};
let published: string[] = ['k1'];
let idp: 'up' | 'down' = 'down';
let jwks: Server;
let server: ServerProcess;

const sign = (kid: string) =>
  new SignJWT({ tenant_id: 'acme', roles: ['analyst'] })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(keys[kid].privateKey);

async function load(
  token: string,
  query = '{"measures":["ad_performance.clicks"]}',
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${server.url}/cubejs-api/v1/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: JSON.parse(query) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Polls until `check` holds, up to `boundMs` (a failure bound, not a measurement). */
async function eventually(check: () => Promise<boolean>, boundMs = 20_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached within its bound');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ready = async () => {
  const res = await fetch(`${server.url}/ready`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

function strata(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      `${ROOT}node_modules/.bin/tsx`,
      ['src/main.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: server.dataDir, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn' },
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  for (const kid of ['k1', 'k2']) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  }
  jwks = createServer((_req, res) => {
    if (idp === 'down') return void res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published.map((k) => keys[k].jwk) }));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  server = await startServerProcess(
    {
      JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      JWT_JWKS_MAX_AGE_MS: '1000',
      JWT_JWKS_COOLDOWN_MS: '100',
      JWT_JWKS_GRACE_MS: '1000',
      DRAIN_TIMEOUT_MS: '10000',
      // The data ends yesterday, so the README's "last month" example has rows.
      DEMO_END_DATE: '',
    },
    // Started = the warehouse is ready and only the identity provider's keys are missing.
    { started: async (url) => /identity provider/.test(String(((await (await fetch(`${url}/ready`)).json()) as { reason?: string }).reason)) },
  );
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await new Promise<void>((r) => jwks.close(() => r()));
});

describe('identity provider outage and key rotation', () => {
  it('at start: JWTs get AUTH_UNAVAILABLE on every door, logged and counted, /ready 503; HS tokens still work', async () => {
    const r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'unavailable', identityKeys: 'unavailable' });

    const token = await sign('k1');
    const rest = await load(token);
    expect(rest.status).toBe(503);
    expect(rest.body.code).toBe('AUTH_UNAVAILABLE');
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);

    const gql = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(gql.status).toBe(503);
    expect(((await gql.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('AUTH_UNAVAILABLE');

    const sql = new pg.Client({ host: '127.0.0.1', port: server.sqlProxyPort, user: 'acme', database: 'strata', password: token });
    const refused = await sql.connect().then(
      () => null,
      (e: { code?: string }) => e,
    );
    expect(refused?.code).toBe('57P03');
    await sql.end().catch(() => undefined);

    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = createClient({
        url: `${server.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {}, // the close code is what we check
        on: { closed: (e) => resolve(e as { code: number; reason: string }) },
      });
      void ws;
    });
    expect(closed.code).toBe(1013);

    // Credentials that need no identity provider keep working.
    expect((await load(await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['analyst'] }))).status).toBe(200);

    expect(server.output()).toMatch(/identity provider keys \(JWKS\) unavailable/);
    expect(server.output()).toMatch(/JWTs refused with AUTH_UNAVAILABLE/);
    const operator = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', scopes: ['platform:metrics'] });
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${operator}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/strata_auth_unavailable_total [1-9]/);
  });

  it('recovers without a restart once the keys can be fetched', async () => {
    idp = 'up';
    await eventually(async () => (await ready()).status === 200);
    expect((await ready()).body).toMatchObject({ identityKeys: 'fresh' });
    expect((await load(await sign('k1'))).status).toBe(200);
  });

  it('rotation: a new key verifies at its first token; a removed key is refused once the keys are refetched', async () => {
    published = ['k1', 'k2'];
    expect((await load(await sign('k2'))).status).toBe(200);
    published = ['k2'];
    const old = await sign('k1');
    await eventually(async () => (await load(old)).status === 403); // REST answers 403 for UNAUTHENTICATED
    expect((await load(old)).body.error).toMatch(/no key in the JWKS matches/);
  });

  it('mid-run: refused with AUTH_UNAVAILABLE once the last keys are past the grace; /ready 503; then recovery', async () => {
    idp = 'down';
    const token = await sign('k2');
    await eventually(async () => (await load(token)).body.code === 'AUTH_UNAVAILABLE');
    expect((await ready()).status).toBe(503);
    idp = 'up';
    await eventually(async () => (await load(token)).status === 200);
  });
});

describe('the CLI beside the running server', () => {
  it("runs the README's examples through the server, with the same numbers as its REST API", async () => {
    const q = await strata(['query', '--tenant', 'acme', README_QUERY]);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    const viaRest = await load(
      await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', scopes: ['metrics:read', 'finance:read', 'clients:read'] }),
      README_QUERY,
    );
    const rows = viaRest.body.data as Record<string, string>[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(q.stdout).toContain(String(row['ad_performance.platform']));

    const s = await strata(['sql', '--tenant', 'acme', '{"measures":["ad_performance.ctr"]}']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/SELECT[\s\S]*tenant_id/);
  });

  it('refuses a malformed --tenant and an unknown role in one line (exit 2)', async () => {
    const badTenant = await strata(['query', '--tenant', 'Acme!', '{"measures":["ad_performance.clicks"]}']);
    expect(badTenant.code).toBe(2);
    expect(badTenant.stderr.trim().split('\n')).toHaveLength(1);
    expect(badTenant.stderr).toMatch(/--tenant "Acme!" is not a tenant id/);
    const badRole = await strata(['sql', '--tenant', 'acme', '--roles', 'wizard', '{"measures":["ad_performance.clicks"]}']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/unknown role "wizard"/);
  });
});

describe('SIGTERM drain', () => {
  it('answers what is in flight, ends sessions with their documented codes, and exits 0', async () => {
    const hs = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['analyst'] });

    // psql, an idle interactive session.
    const psql = spawn('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.sqlProxyPort), '-U', 'acme', '-d', 'strata'], {
      env: { PATH: process.env.PATH ?? '', PGPASSWORD: hs, PGCONNECT_TIMEOUT: '10' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let psqlOut = '';
    psql.stdout.on('data', (d) => (psqlOut += d));
    psql.stderr.on('data', (d) => (psqlOut += d));
    psql.stdin.write('SELECT 1 AS one;\n');
    await eventually(async () => /\(1 row\)/.test(psqlOut));

    // A pg session with a query sent just before the signal.
    const client = new pg.Client({ host: '127.0.0.1', port: server.sqlProxyPort, user: 'acme', database: 'strata', password: hs });
    await client.connect();
    const sessionError = new Promise<{ code?: string }>((resolve) => client.on('error', (e) => resolve(e as { code?: string })));
    const ended = new Promise<void>((resolve) => client.on('end', () => resolve()));

    // A live subscription.
    const wsClosed = new Promise<number>((resolve) => {
      const ws = createClient({
        url: `${server.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${hs}` },
        retryAttempts: 0,
        on: { closed: (e) => resolve((e as { code: number }).code) },
      });
      ws.subscribe(
        { query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }' },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
    });
    await new Promise((r) => setTimeout(r, 500)); // let the subscription start

    // An HTTP request in flight: headers and half the body sent; /ready pipelined behind it.
    const body = JSON.stringify({ query: { measures: ['ad_performance.clicks'] } });
    const raw = connect(Number(new URL(server.url).port), '127.0.0.1');
    let http = '';
    raw.on('data', (d) => (http += d));
    const httpDone = new Promise<void>((resolve) => raw.on('close', () => resolve()));
    await new Promise<void>((r) => raw.once('connect', () => r()));
    raw.write(
      `POST /cubejs-api/v1/load HTTP/1.1\r\nHost: strata\r\nAuthorization: Bearer ${hs}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );

    const query = client.query('SELECT platform, MEASURE(clicks) FROM ad_performance GROUP BY 1').then(
      (r) => ({ rows: r.rows.length }),
      (e: { code?: string }) => ({ code: e.code }),
    );
    server.signal('SIGTERM');

    // The drain has begun once new connections are refused; then the request in flight completes.
    await eventually(
      async () =>
        !(await fetch(`${server.url}/health`).then(
          () => true,
          () => false,
        )),
    );
    raw.write(`${body.slice(10)}GET /ready HTTP/1.1\r\nHost: strata\r\n\r\n`);
    await httpDone;
    expect(http).toMatch(/^HTTP\/1\.1 200/);
    expect(http).toContain('"ad_performance.clicks"');
    expect(http).toMatch(/HTTP\/1\.1 503[\s\S]*"status":"draining"/);

    const outcome = await query;
    // Documented: a statement received before the drain is answered, then the session ends with
    // 57P01; one that arrives after it is refused with 57P01. Never a bare dropped connection.
    if ('rows' in outcome) {
      expect(outcome.rows).toBeGreaterThan(0);
      expect((await sessionError).code).toBe('57P01');
    } else expect(outcome.code).toBe('57P01');
    await ended;

    expect(await wsClosed).toBe(1001);
    expect(await server.exited).toBe(0);

    psql.stdin.end('SELECT 2;\n');
    await new Promise((r) => psql.once('close', r));
    expect(psqlOut).toContain('terminating connection due to administrator command');
  }, 60_000);
});
