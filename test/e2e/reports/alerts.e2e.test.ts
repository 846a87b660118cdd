/**
 * Metric alerts over the REAL server (chDB, PGlite, demo warehouse at scale 0.05): a rule on ROAS
 * per campaign, driven by real ingests through /v1/ingest, notifying a real HTTP receiver that
 * checks the signature. Every value is checked against plain SQL with an explicit tenant filter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { verifySignature } from '../../../src/reports/destinations/webhook.js';
import { type RunningServer, startServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';

const DAY = '2026-10-06';
const CAMPAIGNS = ['acme-alrt-1', 'acme-alrt-2'];
const QUERY = {
  measures: ['ad_performance.roas'],
  dimensions: ['ad_performance.campaign_id'],
  filters: [{ member: 'ad_performance.campaign_id', operator: 'equals', values: CAMPAIGNS }],
  timeDimensions: [{ dimension: 'ad_performance.date', dateRange: [DAY, DAY] }],
};

let dir: string;
let server: RunningServer;
let hooks: Server;
const calls: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const T: Record<string, string> = {};
let seq = 0;

async function token(tenant: string, sub: string, roles: string[], secret: string) {
  return new SignJWT({ tenant_id: tenant, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

async function gql(tok: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function ok(tok: string, query: string, variables: Record<string, unknown> = {}) {
  const body = await gql(tok, query, variables);
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

async function ingest(tok: string, cube: string, row: Record<string, unknown>) {
  const res = await fetch(`${server.url}/v1/ingest/${cube}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'idempotency-key': `alerts-test-${++seq}` },
    body: JSON.stringify(row),
  });
  const body = await res.json();
  expect(body.inserted, JSON.stringify(body)).toBe(1);
}

const campaign = (id: string) => ({
  campaign_id: id,
  platform: 'google_ads',
  account_id: 'alrt-acc',
  name: id,
  type: 'search',
  status: 'active',
  objective: 'sales',
  budget: 1,
  budget_type: 'daily',
  start_date: '2026-01-01',
});

/** One fact row; `ad` keeps rows distinct so each ingest adds to the day's sums. */
const fact = (id: string, cost: number, value: number) => ({
  date: DAY,
  platform: 'google_ads',
  account_id: 'alrt-acc',
  campaign_id: id,
  ad_group_id: 'alrt-ag',
  ad_id: `alrt-ad-${++seq}`,
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

/** Independent: ROAS per campaign of one tenant, straight from ClickHouse. */
async function roas(tenant: string): Promise<Record<string, number>> {
  const { rows } = await server.services.engine.query<{ c: string; r: number }>(
    `SELECT campaign_id AS c, sum(conversion_value) / sum(cost) AS r FROM ad_performance
      WHERE tenant_id = {t:String} AND date = {d:Date} AND campaign_id IN ({ids:Array(String)}) GROUP BY c`,
    { t: tenant, d: DAY, ids: CAMPAIGNS },
  );
  return Object.fromEntries(rows.map((r) => [r.c, Number(r.r)]));
}

const STATES = 'query($id: ID!) { alertStates(ruleId: $id) { key dimensions status streak value evaluatedAt } }';
const HISTORY = 'query($id: ID!) { alertHistory(ruleId: $id) { id event dimensions value deliveries } }';
const CREATE = 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { id name consecutive } }';

const statesOf = async (tok: string, id: string) => (await ok(tok, STATES, { id })).alertStates as any[];
const historyOf = async (tok: string, id: string) => (await ok(tok, HISTORY, { id })).alertHistory as any[];
const byCampaign = (states: any[]) => Object.fromEntries(states.map((s) => [s.dimensions['ad_performance.campaign_id'], s]));

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-alerts-`);
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const { CLICKHOUSE_URL: _c, DATABASE_URL: _d, ...env } = process.env;
  const config = loadConfig({
    ...env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'error',
    JOBS_POLL_MS: '100',
    SCHEDULE_MIN_INTERVAL_SECONDS: '0',
    WEBHOOK_RETRY_BASE_MS: '10',
    // The test's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  server = await startServer(await createServices(config));
  await server.services.warehouse.done;
  const secret = config.auth.jwtSecret as string;
  T.alice = await token('acme', 'alice', ['analyst'], secret);
  T.viewer = await token('acme', 'victor', ['viewer'], secret);
  T.acmeAdmin = await token('acme', 'adam', ['tenant_admin'], secret);
  T.globex = await token('globex', 'gina', ['analyst'], secret);
  T.globexAdmin = await token('globex', 'gus', ['tenant_admin'], secret);
  for (const id of CAMPAIGNS) await ingest(T.acmeAdmin, 'campaigns', campaign(id));
  await ingest(T.globexAdmin, 'campaigns', campaign('acme-alrt-2'));
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-1', 100, 300)); // ROAS 3
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-2', 100, 500)); // ROAS 5
}, 180_000);

afterAll(async () => {
  await server?.close();
  hooks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('ROAS < 2 per campaign: fires after the ingest that makes it true, once, only for that campaign, and resolves after one that makes it false', async () => {
  const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
  const created = await ok(T.alice, CREATE, {
    i: {
      name: 'ROAS under 2',
      source: { kind: 'query', query: QUERY },
      condition: { kind: 'threshold', measure: 'ad_performance.roas', op: '<', value: 2 },
      intervalSeconds: 3600, // the fallback never runs during the test: changes drive every evaluation
      destinations: [{ kind: 'webhook', url: hookUrl }],
    },
  });
  const id = created.createAlertRule.id;
  // The first evaluation: both campaigns above 2, nothing fires.
  let states = await until(async () => {
    const s = await statesOf(T.alice, id);
    return s.length === 2 ? s : undefined;
  }, 'the first evaluation');
  let want = await roas('acme');
  expect(want['acme-alrt-1']).toBeCloseTo(3, 9);
  for (const s of states) {
    expect(s.status).toBe('resolved');
    expect(s.value).toBeCloseTo(want[s.dimensions['ad_performance.campaign_id']], 9);
  }

  // Another tenant's bad ROAS for a campaign with the same id: never seen by acme's rule.
  await ingest(T.globexAdmin, 'ad_performance', fact('acme-alrt-2', 100, 10));
  expect((await roas('globex'))['acme-alrt-2']).toBeCloseTo(0.1, 9);

  // acme's campaign 1 drops to ROAS 1.
  const before = byCampaign(states)['acme-alrt-1'].evaluatedAt;
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-1', 200, 0));
  const fired = await until(async () => {
    const h = await historyOf(T.alice, id);
    return h.length > 0 && h[0].deliveries ? h : undefined;
  }, 'the firing event');
  want = await roas('acme');
  expect(want['acme-alrt-1']).toBeCloseTo(1, 9);
  expect(fired).toHaveLength(1);
  expect(fired[0]).toMatchObject({ event: 'firing', dimensions: { 'ad_performance.campaign_id': 'acme-alrt-1' } });
  expect(fired[0].value).toBeCloseTo(want['acme-alrt-1'], 9);
  expect(fired[0].deliveries).toEqual([expect.objectContaining({ kind: 'webhook', status: 'delivered' })]);
  states = await statesOf(T.alice, id);
  const s1 = byCampaign(states);
  expect(s1['acme-alrt-1'].evaluatedAt > before).toBe(true);
  expect(s1['acme-alrt-1'].status).toBe('firing');
  expect(s1['acme-alrt-2'].status).toBe('resolved'); // globex's 0.1 is not acme's
  expect(s1['acme-alrt-2'].value).toBeCloseTo(want['acme-alrt-2'], 9);
  expect(s1['acme-alrt-2'].value).toBeCloseTo(5, 9);

  // The receiver got one signed notification.
  await until(async () => (calls.length >= 1 ? true : undefined), 'the webhook');
  const secret = (await ok(T.acmeAdmin, '{ webhookSigningSecret }')).webhookSigningSecret;
  expect(calls).toHaveLength(1);
  expect(verifySignature(secret, String(calls[0].headers['x-strata-signature']), calls[0].body, Math.floor(Date.now() / 1000))).toBe(true);
  expect(calls[0].headers['x-strata-delivery']).toBe(fired[0].id);
  expect(JSON.parse(calls[0].body)).toMatchObject({ event: 'alert.firing', rule: { id }, dimensions: { 'ad_performance.campaign_id': 'acme-alrt-1' } });

  // A change that keeps it true: evaluated again, not notified again.
  const seen = s1['acme-alrt-1'].evaluatedAt;
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-2', 10, 50));
  await until(async () => {
    const s = byCampaign(await statesOf(T.alice, id));
    return s['acme-alrt-1'].evaluatedAt > seen ? s : undefined;
  }, 'the next evaluation');
  expect(await historyOf(T.alice, id)).toHaveLength(1);
  expect(calls).toHaveLength(1);

  // Campaign 1 back to ROAS > 2: resolved, notified once.
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-1', 10, 1000));
  const resolved = await until(async () => {
    const h = await historyOf(T.alice, id);
    return h.length === 2 && h[0].deliveries ? h : undefined;
  }, 'the resolved event');
  want = await roas('acme');
  expect(want['acme-alrt-1']).toBeGreaterThan(2);
  expect(resolved[0]).toMatchObject({ event: 'resolved', dimensions: { 'ad_performance.campaign_id': 'acme-alrt-1' } });
  expect(resolved[0].value).toBeCloseTo(want['acme-alrt-1'], 9);
  await until(async () => (calls.length >= 2 ? true : undefined), 'the second webhook');
  expect(calls).toHaveLength(2);
  expect(JSON.parse(calls[1].body).event).toBe('alert.resolved');
  expect(byCampaign(await statesOf(T.alice, id))['acme-alrt-1'].status).toBe('resolved');

  // Another tenant sees neither the rule nor its states or history.
  expect((await ok(T.globex, '{ alertRules { id } }')).alertRules).toEqual([]);
  expect(await statesOf(T.globex, id)).toEqual([]);
  expect(await historyOf(T.globex, id)).toEqual([]);
  // The change is audited, as the caller, in acme's trail only.
  await ok(T.alice, 'mutation($id: ID!, $i: AlertRuleInput!) { updateAlertRule(id: $id, input: $i) { id } }', { id, i: { consecutive: 2 } });
  expect(await ok(T.alice, 'mutation($id: ID!) { deleteAlertRule(id: $id) }', { id })).toEqual({ deleteAlertRule: true });
  await server.services.store.audit.flush();
  const trail = (await server.services.store.audit.list('acme', { limit: 500, kind: 'change' })).filter((e) => e.target === id);
  expect(trail.map((e) => e.action).sort()).toEqual(['alert.create', 'alert.delete', 'alert.update']);
  expect(trail.every((e) => e.subject === 'alice')).toBe(true);
  expect((await server.services.store.audit.list('globex', { limit: 500 })).some((e) => e.target === id)).toBe(false);
}, 120_000);

it('cost +50 % day over day (the query service comparison): fires for the campaign whose cost rose, as computed by ClickHouse', async () => {
  const PREV = '2026-10-05';
  await ingest(T.acmeAdmin, 'ad_performance', { ...fact('acme-alrt-2', 100, 0), date: PREV });
  const { alertRules: before } = await ok(T.alice, '{ alertRules { id } }');
  const created = await ok(T.alice, CREATE, {
    i: {
      name: 'Cost jump',
      source: { kind: 'query', query: { ...QUERY, measures: ['ad_performance.cost'] } },
      condition: { kind: 'change', measure: 'ad_performance.cost', op: '>=', value: 50, compareTo: { period: 'previousPeriod' } },
      intervalSeconds: 3600,
      destinations: [{ kind: 'webhook', url: `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook` }],
    },
  });
  const id = created.createAlertRule.id;
  expect(before).toHaveLength(0);
  await until(async () => ((await statesOf(T.alice, id)).length === 2 ? true : undefined), 'the first evaluation');
  expect(await historyOf(T.alice, id)).toEqual([]); // alrt-2: 110 vs 100 (+10 %); alrt-1: nothing the day before
  await ingest(T.acmeAdmin, 'ad_performance', fact('acme-alrt-2', 100, 0));
  const [e] = await until(async () => {
    const h = await historyOf(T.alice, id);
    return h.length > 0 ? h : undefined;
  }, 'the firing event');
  const { rows } = await server.services.engine.query<{ d: string; c: number }>(
    `SELECT toString(date) AS d, sum(cost) AS c FROM ad_performance
      WHERE tenant_id = {t:String} AND campaign_id = 'acme-alrt-2' AND date IN ({a:Date}, {b:Date}) GROUP BY d`,
    { t: 'acme', a: PREV, b: DAY },
  );
  const cost = Object.fromEntries(rows.map((r) => [r.d, Number(r.c)]));
  expect(e).toMatchObject({ event: 'firing', dimensions: { 'ad_performance.campaign_id': 'acme-alrt-2' } });
  expect(e.value).toBeCloseTo((100 * (cost[DAY] - cost[PREV])) / cost[PREV], 9);
  const states = byCampaign(await statesOf(T.alice, id));
  expect(states['acme-alrt-1'].status).toBe('resolved');
  expect(states['acme-alrt-1'].value).toBeNull(); // no previous period: no percent change
  await ok(T.alice, 'mutation($id: ID!) { deleteAlertRule(id: $id) }', { id });
}, 120_000);

it('bad input gets coded errors; without alerts:write the fields are refused', async () => {
  const create = (i: Record<string, unknown>, tok = T.alice) =>
    gql(tok, CREATE, {
      i: {
        source: { kind: 'query', query: QUERY },
        condition: { kind: 'threshold', measure: 'ad_performance.roas', op: '<', value: 2 },
        destinations: [{ kind: 'webhook', url: 'http://127.0.0.1:1/x' }],
        ...i,
      },
    });
  const code = (b: Awaited<ReturnType<typeof gql>>) => b.errors?.[0]?.extensions?.code;
  const unknown = await create({ source: { kind: 'query', query: { ...QUERY, measures: ['ad_performance.nope'] } } });
  expect(unknown.errors?.[0]?.message).toContain('nope');
  expect(code(unknown)).toMatch(/^[A-Z_]+$/);
  expect(code(await create({ condition: { kind: 'threshold', measure: 'ad_performance.cost', op: '<', value: 2 } }))).toBe('BAD_USER_INPUT');
  expect(code(await create({ condition: { kind: 'threshold', measure: 'ad_performance.roas', op: '~', value: 2 } }))).toBe('BAD_USER_INPUT');
  expect(code(await create({ condition: { kind: 'sometimes', op: '<', value: 2 } }))).toBe('BAD_USER_INPUT');
  expect(code(await create({ condition: { kind: 'rowCount', op: '>', value: 'zero' } }))).toBe('BAD_USER_INPUT');
  expect(code(await create({ consecutive: 0 }))).toBe('BAD_USER_INPUT');
  // A change condition needs a date range to compare.
  const { timeDimensions: _t, ...noRange } = QUERY;
  expect(
    code(await create({ source: { kind: 'query', query: noRange }, condition: { kind: 'change', measure: 'ad_performance.roas', op: '>', value: 50 } })),
  ).toBe('BAD_USER_INPUT');
  const badPeriod = await create({ condition: { kind: 'change', measure: 'ad_performance.roas', op: '>', value: 50, compareTo: { period: 'lastWeek' } } });
  expect(code(badPeriod)).toBe('BAD_USER_INPUT');
  expect((await ok(T.alice, '{ alertRules { id } }')).alertRules).toEqual([]); // nothing was saved
  expect(code(await create({}, T.viewer))).toBe('FORBIDDEN');
  expect((await gql(T.viewer, '{ alertRules { id } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});
