/**
 * Period comparison and dashboards over the REAL server (createServices + startServer: chDB, PGlite,
 * the demo warehouse at scale 0.05, the real cube-models/), with real clients: @cubejs-client/core,
 * fetch for GraphQL, graphql-ws for live dashboards. Every number is checked against plain
 * ClickHouse SQL with an explicit tenant filter; statement counts come from the engine's query listener.
 */
import cube from '@cubejs-client/core';
import { type Client, createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../src/server.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

let app: InProcessServer;
let server: RunningServer;
let secret: string;
const clients: Client[] = [];

const SEP: [string, string] = ['2026-09-01', '2026-09-30'];
const AUG: [string, string] = ['2026-08-01', '2026-08-31'];

async function token(tenant: string, sub: string, roles: string[], scope = ''): Promise<string> {
  return new SignJWT({ tenant_id: tenant, roles, scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

const T: Record<string, string> = {};

beforeAll(async () => {
  app = await startInProcessServer('compare');
  server = app.server;
  server.services.engine.onQuery((e) => sqls.push(e.sql));
  secret = app.jwtSecret;
  T.alice = await token('acme', 'alice', ['analyst']);
  T.bob = await token('acme', 'bob', ['analyst']);
  T.admin = await token('acme', 'carol', ['tenant_admin']);
  T.globex = await token('globex', 'gina', ['tenant_admin']);
  T.ingest = await token('acme', 'loader', [], 'ingest:write');
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await app?.close();
});

/**
 * Statements that read the widgets' fact tables. Background work of the running server (the audit
 * mirror, refresh-key reads of max(ingested_at)) also uses the engine and is left out.
 */
const sqls: string[] = [];
const statements = () => sqls.filter((q) => /`(ad_performance|email_activity)`\./.test(q) && !/ingested_at/.test(q)).length;

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
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** Independent side: clicks and cost per platform of a tenant over [a, b], plain SQL. */
async function byPlatform(tenant: string, [a, b]: [string, string], platform?: string): Promise<Map<string, { clicks: number; cost: number }>> {
  const rows = (
    await server.services.engine.query<{ p: string; c: string; k: number }>(
      `SELECT platform AS p, toString(sum(clicks)) AS c, sum(cost) AS k FROM ad_performance
        WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} ${platform ? 'AND platform = {pl:String}' : ''} GROUP BY p`,
      { t: tenant, a, b, pl: platform ?? '' },
    )
  ).rows;
  return new Map(rows.map((r) => [r.p, { clicks: Number(r.c), cost: Number(r.k) }]));
}

const pct = (cur: number, prev: number) => (prev === 0 ? null : ((cur - prev) / Math.abs(prev)) * 100);

describe('comparison in every door', () => {
  it('REST: @cubejs-client/core compareDateRange answers per range like Cube, both ranges in ONE statement', async () => {
    const before = statements();
    const rs = await cube(T.alice, { apiUrl: `${server.url}/cubejs-api/v1` }).load({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', compareDateRange: [SEP, AUG] }],
    });
    expect(statements() - before).toBe(1);
    const parts = rs.decompose();
    for (const [i, range] of [SEP, AUG].entries()) {
      const want = await byPlatform('acme', range);
      expect(Object.fromEntries(parts[i].rawData().map((r) => [r['ad_performance.platform'], r['ad_performance.clicks']]))).toEqual(
        Object.fromEntries([...want].map(([p, v]) => [p, v.clicks])),
      );
    }
  });

  it('GraphQL generic query: current, previous, change, % change per platform equal SQL; one statement', async () => {
    const before = statements();
    const data = await ok(
      T.alice,
      `query($q: JSON!) { query(query: $q, compareTo: {period: PREVIOUS_PERIOD}) {
        comparison { timeDimension dateRange compareDateRange rows { dimensions measures { member current previous change percentChange direction } } } } }`,
      {
        q: {
          measures: ['ad_performance.clicks', 'ad_performance.cost'],
          dimensions: ['ad_performance.platform'],
          timeDimensions: [{ dimension: 'ad_performance.date', dateRange: SEP }],
        },
      },
    );
    expect(statements() - before).toBe(1);
    const c = data.query.comparison;
    expect(c.dateRange).toEqual(['2026-09-01T00:00:00.000', '2026-09-30T23:59:59.999']);
    // The previous period of a whole month is the whole previous month.
    expect(c.compareDateRange).toEqual(['2026-08-01T00:00:00.000', '2026-08-31T23:59:59.999']);
    const cur = await byPlatform('acme', SEP);
    const prev = await byPlatform('acme', AUG);
    expect(c.rows.length).toBe(new Set([...cur.keys(), ...prev.keys()]).size);
    for (const row of c.rows) {
      const p = row.dimensions['ad_performance.platform'];
      const clicks = row.measures.find((m: { member: string }) => m.member === 'ad_performance.clicks');
      const want = { cur: cur.get(p)?.clicks ?? 0, prev: prev.get(p)?.clicks ?? 0 };
      expect(clicks).toMatchObject({ current: want.cur, previous: want.prev, change: want.cur - want.prev });
      expect(clicks.percentChange).toBeCloseTo(pct(want.cur, want.prev)!, 9);
      expect(clicks.direction).toBe(want.cur > want.prev ? 'UP' : want.cur < want.prev ? 'DOWN' : 'FLAT');
      const cost = row.measures.find((m: { member: string }) => m.member === 'ad_performance.cost');
      expect(cost.current).toBeCloseTo(cur.get(p)?.cost ?? 0, 6);
      expect(cost.previous).toBeCloseTo(prev.get(p)?.cost ?? 0, 6);
    }
  });

  it('a two-range compareDateRange in GraphQL is the same comparison; a base of zero gives null % change', async () => {
    const q = (ranges: [string, string][]) => ({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', compareDateRange: ranges }],
    });
    const data = await ok(
      T.alice,
      'query($q: JSON!) { query(query: $q) { comparison { compareDateRange rows { dimensions compareDimensions measures { current previous change percentChange direction } } } } }',
      { q: q([SEP, ['2020-01-01', '2020-01-30']]) },
    );
    const cur = await byPlatform('acme', SEP);
    // No rows in 2020: every row exists in the current period only; counts and sums are 0 there.
    for (const row of data.query.comparison.rows) {
      const want = cur.get(row.dimensions['ad_performance.platform'])!.clicks;
      expect(row.compareDimensions).toBeNull();
      expect(row.measures[0]).toEqual({ current: want, previous: 0, change: want, percentChange: null, direction: want > 0 ? 'UP' : 'FLAT' });
    }
    // The other way round: rows only the comparison period has are kept, current 0.
    const back = await ok(T.alice, 'query($q: JSON!) { query(query: $q) { comparison { rows { dimensions measures { current previous percentChange } } } } }', {
      q: q([['2020-01-01', '2020-01-30'], SEP]),
    });
    expect(back.query.comparison.rows.length).toBe(cur.size);
    for (const row of back.query.comparison.rows) {
      expect(row.measures[0]).toMatchObject({ current: 0, previous: cur.get(row.dimensions['ad_performance.platform'])!.clicks });
      expect(row.measures[0].percentChange).toBeCloseTo(-100, 9);
    }
  });

  it('typed root field: rows matched day 1 vs day 1, numbers equal SQL', async () => {
    const data = await ok(
      T.alice,
      `{ adPerformance(where: {date: {inDateRange: ["2026-09-01", "2026-09-30"]}}, compareTo: {period: PREVIOUS_PERIOD}) {
          date(granularity: DAY) clicks compare { clicks { current previous change } } } }`,
    );
    const rows = data.adPerformance as { date: string; clicks: number; compare: { clicks: { current: number; previous: number; change: number } } }[];
    expect(rows).toHaveLength(30);
    const daily = async (a: string, b: string) =>
      new Map(
        (
          await server.services.engine.query<{ d: string; c: string }>(
            'SELECT toString(date) AS d, toString(sum(clicks)) AS c FROM ad_performance WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} GROUP BY d',
            { t: 'acme', a, b },
          )
        ).rows.map((r) => [r.d, Number(r.c)]),
      );
    const sep = await daily(...SEP);
    const aug = await daily(...AUG);
    for (const r of rows) {
      const day = r.date.slice(0, 10);
      const prevDay = `2026-08-${day.slice(8)}`;
      expect(r.clicks).toBe(sep.get(day) ?? 0);
      expect(r.compare.clicks).toEqual({ current: sep.get(day) ?? 0, previous: aug.get(prevDay) ?? 0, change: (sep.get(day) ?? 0) - (aug.get(prevDay) ?? 0) });
    }
  });

  it('saved queries keep a comparison and answer the same numbers', async () => {
    const saved = await ok(T.alice, 'mutation($q: JSON!) { createSavedQuery(input: {name: "clicks vs last month", query: $q}) { id } }', {
      q: {
        measures: ['ad_performance.clicks'],
        dimensions: ['ad_performance.platform'],
        timeDimensions: [{ dimension: 'ad_performance.date', dateRange: SEP }],
        compareTo: { period: 'previousPeriod' },
      },
    });
    const run = await ok(T.alice, 'query($id: ID!) { runSavedQuery(id: $id) { comparison { rows { dimensions measures { current previous } } } } }', {
      id: saved.createSavedQuery.id,
    });
    const cur = await byPlatform('acme', SEP);
    const prev = await byPlatform('acme', AUG);
    for (const row of run.runSavedQuery.comparison.rows) {
      const p = row.dimensions['ad_performance.platform'];
      expect(row.measures[0]).toEqual({ current: cur.get(p)?.clicks ?? 0, previous: prev.get(p)?.clicks ?? 0 });
    }
  });

  it('bad comparisons are coded errors naming the problem', async () => {
    const noRange = await gql(T.alice, 'query($q: JSON!) { query(query: $q, compareTo: {period: PREVIOUS_PERIOD}) { data } }', {
      q: { measures: ['ad_performance.clicks'] },
    });
    expect(noRange.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(noRange.errors?.[0].message).toMatch(/needs a time dimension with a dateRange/);
    const three = await gql(T.alice, 'query($q: JSON!) { query(query: $q) { data } }', {
      q: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', compareDateRange: [SEP, AUG, SEP] }] },
    });
    expect(three.errors?.[0].message).toMatch(/exactly two ranges/);
    const inverted = await gql(T.alice, 'query($q: JSON!) { query(query: $q, compareTo: {dateRange: ["2026-08-31", "2026-08-01"]}) { data } }', {
      q: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: SEP }] },
    });
    expect(inverted.errors?.[0].message).toMatch(/start .* is after end/);
  });
});

const WIDGETS = [
  {
    id: 'by-platform',
    title: 'Clicks by platform',
    query: {
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last year' }],
    },
  },
  { id: 'cost', title: 'Cost', query: { measures: ['ad_performance.cost'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: 'last year' }] } },
  {
    id: 'emails',
    title: 'Emails',
    query: { measures: ['email_activity.sent'], timeDimensions: [{ dimension: 'email_activity.date', dateRange: 'last year' }] },
  },
];

const OPEN = `query($id: ID!, $view: DashboardViewInput) { dashboard(id: $id, view: $view) {
  version widgets { id query appliedQuery skipped { parameter reason } result { data comparison { rows { dimensions measures { member current previous } } } } } } }`;

describe('dashboards with view-time parameters', () => {
  it('platform = meta, a range and the previous period: every widget filtered and compared, K statements, stored dashboard unchanged', async () => {
    const created = await ok(T.alice, 'mutation($w: [DashboardWidgetInput!]) { createDashboard(input: {name: "Overview", widgets: $w}) { id } }', {
      w: WIDGETS,
    });
    const id = created.createDashboard.id;
    const view = {
      dateRange: SEP,
      filters: [{ member: 'ad_performance.platform', operator: 'equals', values: ['meta'] }],
      compareTo: { period: 'PREVIOUS_PERIOD' },
    };
    const before = statements();
    const d = (await ok(T.alice, OPEN, { id, view })).dashboard;
    // Two row sets (ad_performance filtered to meta, email_activity), each period pair in one statement.
    expect(statements() - before).toBe(2);
    const [byPlat, cost, emails] = d.widgets;
    const cur = await byPlatform('acme', SEP, 'meta');
    const prev = await byPlatform('acme', AUG, 'meta');
    expect(byPlat.skipped).toEqual([]);
    expect(byPlat.result.comparison.rows).toEqual([
      {
        dimensions: { 'ad_performance.platform': 'meta' },
        measures: [{ member: 'ad_performance.clicks', current: cur.get('meta')!.clicks, previous: prev.get('meta')!.clicks }],
      },
    ]);
    expect(cost.result.comparison.rows[0].measures[0].current).toBeCloseTo(cur.get('meta')!.cost, 6);
    expect(cost.result.comparison.rows[0].measures[0].previous).toBeCloseTo(prev.get('meta')!.cost, 6);
    // The email widget cannot filter on the platform: it says so, and runs with the range and comparison only.
    expect(emails.skipped).toHaveLength(1);
    expect(emails.skipped[0].parameter).toBe('ad_performance.platform');
    const sent = await server.services.engine.query<{ s: string }>(
      'SELECT toString(sum(sent)) AS s FROM email_activity WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date}',
      { t: 'acme', a: SEP[0], b: SEP[1] },
    );
    expect(emails.result.comparison.rows[0].measures[0].current).toBe(Number(sent.rows[0].s));
    expect(emails.appliedQuery.filters ?? []).toEqual([]);

    const stored = (await ok(T.alice, OPEN, { id })).dashboard;
    expect(stored.version).toBe(1);
    expect(stored.widgets.map((w: { query: unknown }) => w.query)).toEqual(WIDGETS.map((w) => w.query));
  });

  it('an unknown view filter member is one coded error naming it', async () => {
    const created = await ok(T.alice, 'mutation($w: [DashboardWidgetInput!]) { createDashboard(input: {name: "Bad view", widgets: $w}) { id } }', {
      w: WIDGETS,
    });
    const body = await gql(T.alice, OPEN, {
      id: created.createDashboard.id,
      view: { filters: [{ member: 'ad_performance.platfrom', operator: 'equals', values: ['meta'] }] },
    });
    expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0].message).toMatch(/platfrom/);
  });
});

describe('ownership and sharing', () => {
  const GET = 'query($id: ID!) { dashboard(id: $id) { id owner visibility canEdit canManage } }';
  const LIST = '{ dashboards { id } }';
  const RENAME = 'mutation($id: ID!) { updateDashboard(id: $id, input: {name: "renamed"}) { version } }';
  const DELETE = 'mutation($id: ID!) { deleteDashboard(id: $id) }';
  const SHARE = 'mutation($id: ID!, $in: ShareChangeInput!) { shareDashboard(id: $id, input: $in) { visibility } }';
  const code = (b: { errors?: { extensions?: { code?: string } }[] }) => b.errors?.[0]?.extensions?.code;

  it('private: owner, other user, admin, other tenant', async () => {
    const id = (await ok(T.alice, 'mutation { createDashboard(input: {name: "Mine", visibility: PRIVATE}) { id } }')).createDashboard.id;
    expect((await ok(T.alice, GET, { id })).dashboard).toMatchObject({ owner: 'alice', visibility: 'PRIVATE', canEdit: true, canManage: true });
    // bob (same tenant): does not see it, cannot change it
    expect((await ok(T.bob, GET, { id })).dashboard).toBeNull();
    expect((await ok(T.bob, LIST)).dashboards.map((d: { id: string }) => d.id)).not.toContain(id);
    expect(code(await gql(T.bob, RENAME, { id }))).toBe('NOT_FOUND');
    expect((await ok(T.bob, DELETE, { id })).deleteDashboard).toBe(false);
    // another tenant: nothing at all
    expect((await ok(T.globex, GET, { id })).dashboard).toBeNull();
    expect((await ok(T.globex, LIST)).dashboards.map((d: { id: string }) => d.id)).not.toContain(id);
    expect(code(await gql(T.globex, RENAME, { id }))).toBe('NOT_FOUND');
    // shared with bob for viewing: he sees it, may not edit, share or delete
    await ok(T.alice, SHARE, { id, in: { shares: [{ subject: 'bob', access: 'VIEW' }] } });
    expect((await ok(T.bob, GET, { id })).dashboard).toMatchObject({ canEdit: false, canManage: false });
    expect(code(await gql(T.bob, RENAME, { id }))).toBe('FORBIDDEN');
    expect(code(await gql(T.bob, DELETE, { id }))).toBe('FORBIDDEN');
    expect(code(await gql(T.bob, SHARE, { id, in: { visibility: 'TENANT' } }))).toBe('FORBIDDEN');
    // for editing: he saves a version, still may not delete
    await ok(T.alice, SHARE, { id, in: { shares: [{ subject: 'bob', access: 'EDIT' }] } });
    expect((await ok(T.bob, RENAME, { id })).updateDashboard.version).toBe(2);
    expect(code(await gql(T.bob, DELETE, { id }))).toBe('FORBIDDEN');
    // a tenant admin sees and manages everything of the tenant; the other tenant's admin nothing
    expect((await ok(T.admin, GET, { id })).dashboard).toMatchObject({ canEdit: true, canManage: true });
    expect((await ok(T.globex, DELETE, { id })).deleteDashboard).toBe(false);
    expect((await ok(T.admin, DELETE, { id })).deleteDashboard).toBe(true);
    expect((await ok(T.alice, GET, { id })).dashboard).toBeNull();
  });

  it('tenant visibility: everyone of the tenant views, only owner and admin change; saved queries follow the same rules', async () => {
    const id = (await ok(T.alice, 'mutation { createDashboard(input: {name: "Team", visibility: TENANT}) { id } }')).createDashboard.id;
    expect((await ok(T.bob, GET, { id })).dashboard).toMatchObject({ canEdit: false });
    expect(code(await gql(T.bob, RENAME, { id }))).toBe('FORBIDDEN');
    expect((await ok(T.globex, GET, { id })).dashboard).toBeNull();

    const q = { measures: ['ad_performance.clicks'] };
    const sq = (await ok(T.alice, 'mutation($q: JSON!) { createSavedQuery(input: {name: "private clicks", query: $q, visibility: PRIVATE}) { id } }', { q }))
      .createSavedQuery.id;
    expect((await ok(T.bob, 'query($id: ID!) { savedQuery(id: $id) { id } }', { id: sq })).savedQuery).toBeNull();
    expect(code(await gql(T.bob, 'query($id: ID!) { runSavedQuery(id: $id) { data } }', { id: sq }))).toBe('NOT_FOUND');
    expect((await ok(T.admin, 'query($id: ID!) { savedQuery(id: $id) { owner } }', { id: sq })).savedQuery.owner).toBe('alice');
    expect((await ok(T.globex, '{ savedQueries { id } }')).savedQueries).toEqual([]);
  });
});

describe('live dashboards', () => {
  it('one subscription pushes exactly the changed widgets after an ingest, once', async () => {
    const widgets = [WIDGETS[0], WIDGETS[2]];
    const id = (await ok(T.alice, 'mutation($w: [DashboardWidgetInput!]) { createDashboard(input: {name: "Live", widgets: $w}) { id } }', { w: widgets }))
      .createDashboard.id;
    const c = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${T.alice}` },
      retryAttempts: 0,
    });
    clients.push(c);
    const it = c
      .iterate<{ dashboardLive: { initial: boolean; widgets: { id: string; error: unknown; result: { data: Record<string, number>[] } }[] } }>({
        query: `subscription($id: ID!, $view: DashboardViewInput) { dashboardLive(id: $id, view: $view) { dashboardId initial widgets { id error { code } result { data } } } }`,
        variables: { id, view: { dateRange: SEP, filters: [{ member: 'ad_performance.platform', operator: 'equals', values: ['meta'] }] } },
      })
      [Symbol.asyncIterator]();
    const first = (await it.next()).value!.data!.dashboardLive;
    expect(first.initial).toBe(true);
    expect(first.widgets.map((w: { id: string }) => w.id)).toEqual(['by-platform', 'emails']);
    const before = first.widgets[0].result.data[0]['ad_performance.clicks'];
    expect(before).toBe((await byPlatform('acme', SEP, 'meta')).get('meta')!.clicks);

    // A copy of one of acme's meta rows (so every data-quality rule holds), on a new ad, with 70 clicks.
    const [existing] = (
      await server.services.engine.query<Record<string, unknown>>(
        "SELECT * EXCEPT (tenant_id) FROM ad_performance WHERE tenant_id = 'acme' AND platform = 'meta' AND date = '2026-09-15' LIMIT 1",
      )
    ).rows;
    const row = { ...existing, ad_id: 'ad-compare-live-1', clicks: 70 };
    const res = await fetch(`${server.url}/v1/ingest/ad_performance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${T.ingest}`, 'content-type': 'application/x-ndjson', 'idempotency-key': 'compare-live-1' },
      body: JSON.stringify(row),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ inserted: 1 });

    const next = (await it.next()).value!.data!.dashboardLive;
    expect(next.initial).toBe(false);
    // Only the ad_performance widget changed; the email widget is not sent again.
    expect(next.widgets.map((w: { id: string }) => w.id)).toEqual(['by-platform']);
    expect(next.widgets[0].result.data[0]['ad_performance.clicks']).toBe(before + 70);
    expect(next.widgets[0].result.data[0]['ad_performance.clicks']).toBe((await byPlatform('acme', SEP, 'meta')).get('meta')!.clicks);
    await it.return?.();
  });
});
