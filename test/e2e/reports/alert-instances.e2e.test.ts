/**
 * Two `strata serve` processes on one Postgres server (a fresh database) and one warehouse (the
 * ClickHouse-HTTP adapter over one chDB directory). An ingest through one instance makes an alert's
 * condition true: both instances hear the change (LISTEN/NOTIFY), both poll the shared queue, and
 * the transition is notified exactly once — one webhook delivery and one email, counted in this
 * process. Then an ingest through the other instance makes it false: resolved, once.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import type { Db } from '../../../src/store/db.js';
import { type ClickhouseHttp, startClickhouseHttp } from '../../helpers/clickhouse-http.js';
import { freePort, type ServerProcess, startServerProcess, TEST_JWT_SECRET } from '../../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../../integration/store/backends.js';

const DAY = '2026-10-07';
const CAMPAIGN = 'acme-2inst-1';
const QUERY = {
  measures: ['ad_performance.roas'],
  dimensions: ['ad_performance.campaign_id'],
  filters: [{ member: 'ad_performance.campaign_id', operator: 'equals', values: [CAMPAIGN] }],
  timeDimensions: [{ dimension: 'ad_performance.date', dateRange: [DAY, DAY] }],
};

let clickhouse: ClickhouseHttp;
let pg: TestDatabase;
let db: Db;
let smtp: SMTPServer;
let hooks: Server;
let servers: ServerProcess[] = [];
let analyst: string;
let admin: string;
let seq = 0;
const mails: string[] = [];
const deliveries: { headers: IncomingHttpHeaders; body: Record<string, any> }[] = [];

async function ok(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function ingest(url: string, cube: string, row: Record<string, unknown>) {
  const res = await fetch(`${url}/v1/ingest/${cube}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'idempotency-key': `two-instances-${++seq}` },
    body: JSON.stringify(row),
  });
  const body = await res.json();
  expect(body.inserted, JSON.stringify(body)).toBe(1);
}

const fact = (cost: number, value: number) => ({
  date: DAY,
  platform: 'google_ads',
  account_id: '2inst-acc',
  campaign_id: CAMPAIGN,
  ad_group_id: '2inst-ag',
  ad_id: `2inst-ad-${++seq}`,
  country: 'US',
  device: 'mobile',
  impressions: 1000,
  clicks: 10,
  cost,
  conversions: 1,
  conversion_value: value,
  video_views: 0,
  engagements: 0,
});

const HISTORY = 'query($id: ID!) { alertHistory(ruleId: $id) { id event value deliveries } }';
const STATES = 'query($id: ID!) { alertStates(ruleId: $id) { status value } }';

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        mails.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));

  [clickhouse, pg] = await Promise.all([startClickhouseHttp(), createTestDatabase('postgres')]);
  db = await pg.open();
  analyst = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['analyst'], expiresIn: '1h', subject: 'e2e' });
  admin = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['tenant_admin'], expiresIn: '1h', subject: 'e2e-admin' });
  const env = (name: string) => ({
    DATABASE_URL: pg.options.url as string,
    CLICKHOUSE_URL: clickhouse.url,
    CLICKHOUSE_DATABASE: 'strata',
    SQL_PROXY_ENABLED: 'false',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    // The test's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    JOBS_POLL_MS: '100',
    JOBS_WORKER_ID: name,
    LOG_LEVEL: 'warn',
  });
  servers = await Promise.all([startServerProcess(env('a')), startServerProcess(env('b'))]);
}, 240_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await db?.close();
  await pg?.drop();
  await clickhouse?.stop();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  hooks?.close();
});

describe('two instances, one alert', () => {
  it('an ingest that makes ROAS < 2 true notifies once; one that makes it false resolves once', async () => {
    const [a, b] = servers;
    await ingest(a.url, 'campaigns', {
      campaign_id: CAMPAIGN,
      platform: 'google_ads',
      account_id: '2inst-acc',
      name: CAMPAIGN,
      type: 'search',
      status: 'active',
      objective: 'sales',
      budget: 1,
      budget_type: 'daily',
      start_date: '2026-01-01',
    });
    await ingest(a.url, 'ad_performance', fact(100, 300)); // ROAS 3
    const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
    const created = await ok(b.url, 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id } }', {
      i: {
        name: 'ROAS under 2 (two instances)',
        source: { kind: 'query', query: QUERY },
        condition: { kind: 'threshold', measure: 'ad_performance.roas', op: '<', value: 2 },
        intervalSeconds: 3600, // only the ingests' change signals drive evaluations
        destinations: [
          { kind: 'webhook', url: hookUrl },
          { kind: 'email', to: ['roas@example.com'] },
        ],
      },
    });
    const id = created.createAlertRule.id as string;
    const [first] = await until(async () => {
      const s = (await ok(a.url, STATES, { id })).alertStates;
      return s.length === 1 ? s : undefined;
    }, 'the first evaluation');
    expect(first.status).toBe('resolved');
    expect(first.value).toBeCloseTo(3, 9);

    // Through instance a: cost 100 + 200, value 300 + 0 → ROAS 1.
    await ingest(a.url, 'ad_performance', fact(200, 0));
    const fired = await until(async () => {
      const h = (await ok(b.url, HISTORY, { id })).alertHistory;
      return h.length > 0 && h[0].deliveries ? h : undefined;
    }, 'the firing event');
    expect(fired).toHaveLength(1);
    expect(fired[0].event).toBe('firing');
    expect(fired[0].value).toBeCloseTo(300 / 300, 9);
    expect(fired[0].deliveries).toEqual([
      expect.objectContaining({ kind: 'webhook', status: 'delivered' }),
      expect.objectContaining({ kind: 'email', status: 'delivered' }),
    ]);
    // Both instances heard the change and polled meanwhile; let any duplicate show up before counting.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0].headers['x-strata-delivery']).toBe(fired[0].id);
    expect(deliveries[0].body).toMatchObject({ event: 'alert.firing', rule: { id }, dimensions: { 'ad_performance.campaign_id': CAMPAIGN } });
    expect(mails.filter((m) => m === 'roas@example.com')).toHaveLength(1);

    // Through instance b: value + 900 → ROAS 1200 / 400 = 3: resolved, once.
    await ingest(b.url, 'ad_performance', fact(100, 900));
    const resolved = await until(async () => {
      const h = (await ok(a.url, HISTORY, { id })).alertHistory;
      return h.length === 2 && h[0].deliveries ? h : undefined;
    }, 'the resolved event');
    expect(resolved[0].event).toBe('resolved');
    expect(resolved[0].value).toBeCloseTo(1200 / 400, 9);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(deliveries.map((d) => d.body.event)).toEqual(['alert.firing', 'alert.resolved']);
    expect(mails.filter((m) => m === 'roas@example.com')).toHaveLength(2);

    // Each due time became one evaluation job and each event one notification job, over both instances.
    const jobs = await db.query<{ kind: string; dedupe_key: string; status: string }>(
      "SELECT kind, dedupe_key, status FROM jobs WHERE (kind = 'alert.evaluate' AND payload->>'ruleId' = $1) OR kind = 'alert.notify'",
      [id],
    );
    const notify = jobs.filter((j) => j.kind === 'alert.notify');
    expect(notify.map((j) => j.dedupe_key).sort()).toEqual(resolved.map((e: { id: string }) => `alert-notify:${e.id}`).sort());
    const evaluations = jobs.filter((j) => j.kind === 'alert.evaluate');
    expect(evaluations.length).toBeGreaterThanOrEqual(3); // the first one and one per ingest at least
    expect(new Set(evaluations.map((j) => j.dedupe_key)).size).toBe(evaluations.length);
    expect(jobs.every((j) => j.status === 'done')).toBe(true);
  }, 120_000);
});
