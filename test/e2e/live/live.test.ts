/**
 * Live subscriptions end to end: `strata serve` as a child process, a real graphql-ws client
 * over a real socket, ingestion over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintDevToken } from '../../../src/auth/jwt.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECRET = 'e2e-live-secret-0123456789abcdef';
let child: ChildProcess;
let base: string;
let dataDir: string;
const clients: Client[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(`${tmpdir()}/strata-`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Embedded engines only: drop any server URLs from the environment.
  const { CLICKHOUSE_URL: _c, DATABASE_URL: _d, ...env } = process.env;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...env,
      STRATA_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      MODELS_DIR: 'test/e2e/live/models',
      SEED_DEMO: 'false',
      // No seed registers acme and globex: the registry creates them on first sight.
      TENANT_AUTO_PROVISION: 'true',
      SQL_PROXY_ENABLED: 'false',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 250));
  }
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const token = (tenantId: string, scopes: string[], expiresIn: number | string = '1h') => mintDevToken(SECRET, { tenantId, scopes, expiresIn });

function client(authorization: string, onClosed?: (e: { code: number; reason: string }) => void): Client {
  const c = createClient({
    url: `${base.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${authorization}` },
    retryAttempts: 0,
    lazy: true,
    on: onClosed ? { closed: (e) => onClosed(e as { code: number; reason: string }) } : undefined,
  });
  clients.push(c);
  return c;
}

async function ingest(tenantId: string, rows: Record<string, unknown>[], batchId: string) {
  const res = await fetch(`${base}/v1/ingest/ad_performance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token(tenantId, ['ingest:write'])}`, 'content-type': 'application/x-ndjson', 'idempotency-key': batchId },
    body: rows.map((r) => JSON.stringify(r)).join('\n'),
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ inserted: number; duplicate: boolean }>;
}

const row = (platform: string, clicks: number) => ({
  date: '2024-05-01',
  platform,
  account_id: 'acc',
  campaign_id: 'cmp',
  ad_group_id: 'ag',
  ad_id: `ad-${platform}-${clicks}`,
  country: 'DE',
  device: 'desktop',
  impressions: clicks * 10,
  clicks,
  cost: 1,
  conversions: 0,
  conversion_value: 0,
  video_views: 0,
  engagements: 0,
});

type Next = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };

describe('live subscriptions over graphql-ws', () => {
  it('pushes new, correct numbers to the tenant whose data changed, and only to it', async () => {
    await ingest('acme', [row('google_ads', 10), row('meta', 5)], 'acme-seed');
    await ingest('globex', [row('google_ads', 1000)], 'globex-seed');

    const acme = client(await token('acme', ['metrics:read'])).iterate({
      query: 'subscription { adPerformance(where: { platform: { equals: "google_ads" } }) { clicks } }',
    });
    const globex = client(await token('globex', ['metrics:read'])).iterate({
      query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }',
    });

    expect(((await acme.next()).value as Next).data).toEqual({ adPerformance: [{ clicks: 10 }] });
    expect(((await globex.next()).value as Next).data).toEqual({ live: { data: [{ 'ad_performance.clicks': 1000 }] } });
    const globexNext = globex.next();

    await ingest('acme', [row('google_ads', 7)], 'acme-1');
    expect(((await acme.next()).value as Next).data).toEqual({ adPerformance: [{ clicks: 17 }] });
    // A retried batch changes nothing and pushes nothing; the next push is the next real change.
    expect(await ingest('acme', [row('google_ads', 7)], 'acme-1')).toMatchObject({ duplicate: true });
    await ingest('acme', [row('google_ads', 3)], 'acme-2');
    expect(((await acme.next()).value as Next).data).toEqual({ adPerformance: [{ clicks: 20 }] });

    // globex's first push comes with its own change and carries only its own rows.
    await ingest('globex', [row('meta', 1)], 'globex-1');
    expect(((await globexNext).value as Next).data).toEqual({ live: { data: [{ 'ad_performance.clicks': 1001 }] } });
    await acme.return?.();
    await globex.return?.();
  });

  it('refuses a subscriber without the needed scope when it subscribes', async () => {
    const noRead = client(await token('acme', ['ingest:write'])).iterate({
      query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }',
    });
    const first = (await noRead.next()).value as Next;
    expect(first.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(first.errors?.[0].message).toMatch(/metrics:read/);

    const noFinance = client(await token('acme', ['metrics:read'])).iterate({
      query: 'subscription { live(query: {measures: ["ad_performance.cost"]}) { data } }',
    });
    const denied = (await noFinance.next()).value as Next;
    expect(denied.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(denied.errors?.[0].message).toMatch(/finance:read/);
  });

  it('caps subscriptions per connection and reports live metrics', async () => {
    const c = client(await token('acme', ['metrics:read']));
    const its = [0, 1, 2, 3].map((i) => c.iterate({ query: `subscription { live(query: {measures: ["ad_performance.clicks"], limit: ${10 + i}}) { data } }` }));
    // Ask all four at once: graphql-ws' iterate() drops an error that arrives before next() is called.
    const [r0, r1, r2, r3] = its.map((i) => i.next());
    const refusal = r3.then(
      () => undefined,
      (e: unknown) => e,
    );
    const firsts = (await Promise.all([r0, r1, r2])).map((r) => r.value as Next);
    expect(firsts.map((f) => f.data)).toEqual([0, 1, 2].map(() => ({ live: { data: [{ 'ad_performance.clicks': 25 }] } })));
    // The fourth is refused with a graphql-ws "error" message (the client rejects with its errors).
    const refused = await refusal;
    expect(refused).toEqual([{ message: 'too many subscriptions on this connection (limit 3)', extensions: { code: 'RATE_LIMITED', limit: 3 } }]);
    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${await token('acme', ['platform:metrics'])}` } })).text();
    // No tenant label on /metrics (bounded cardinality, no tenant names): the gauge counts all tenants.
    expect(metrics).toMatch(/strata_active_subscriptions 3/);
    expect(metrics).not.toMatch(/tenant="/);
    expect(metrics).toMatch(/strata_live_pushes_total [1-9]/);
    expect(metrics).toMatch(/strata_live_evaluations_total [1-9]/);
    await Promise.all(its.map((i) => i.return?.()));
  });

  it('closes the socket with 4401 when the token expires', async () => {
    let closed: { code: number; reason: string } | undefined;
    const c = client(await token('acme', ['metrics:read'], 3), (e) => (closed = e));
    const it = c.iterate({ query: 'subscription { adPerformance { clicks } }' });
    expect(((await it.next()).value as Next).data).toEqual({ adPerformance: [{ clicks: 25 }] }); // 10 + 5 + 7 + 3
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 4401, reason: 'Unauthorized: token expired' });
    expect(closed).toMatchObject({ code: 4401, reason: 'Unauthorized: token expired' });
  });

  it('refuses a connection without a valid token', async () => {
    let closed: { code: number; reason: string } | undefined;
    const c = client('not-a-jwt', (e) => (closed = e));
    const err = await c
      .iterate({ query: 'subscription { adPerformance { clicks } }' })
      .next()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 4401 });
    expect(closed?.reason).toMatch(/^Unauthorized: /);
  });
});
