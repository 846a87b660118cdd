/**
 * Declared dashboard filters over the REAL server (chDB, PGlite, demo warehouse at scale 0.05, real
 * cube-models/), opened through GraphQL `dashboard`, `dashboardLive` (graphql-ws) and the share-link
 * REST door (fetch). Numbers are checked against plain ClickHouse SQL; statements by the engine's query listener (onQuery).
 */
import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../../src/server.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

let app: InProcessServer;
let server: RunningServer;
let alice: string;
let dashboardId: string;

const SEP: [string, string] = ['2026-09-01', '2026-09-30'];
const AUG: [string, string] = ['2026-08-01', '2026-08-31'];
const H1: [string, string] = ['2026-01-01', '2026-06-30'];

beforeAll(async () => {
  app = await startInProcessServer('dfilters');
  server = app.server;
  server.services.engine.onQuery((e) => sqls.push(e.sql));
  alice = await new SignJWT({ tenant_id: 'acme', roles: ['analyst'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(app.jwtSecret));
  dashboardId = (await ok(CREATE, { input: { name: 'Filtered', widgets: WIDGETS, filters: FILTERS } })).createDashboard.id;
}, 180_000);

afterAll(async () => {
  await app?.close();
});

const sqls: string[] = [];
/** Statements reading the widgets' tables since `mark` (background refresh-key reads of max(ingested_at) left out). */
const dataStatements = (mark: number) => sqls.slice(mark).filter((q) => /`(ad_performance|email_activity)`\./.test(q) && !/ingested_at/.test(q)).length;

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function ok(query: string, variables: Record<string, unknown> = {}) {
  const body = await gql(query, variables);
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** Independent side: clicks, cost per platform (one platform or all) over [a, b]. */
async function adTotals([a, b]: [string, string], platform?: string) {
  const r = await server.services.engine.query<{ c: string; k: number }>(
    `SELECT toString(sum(clicks)) AS c, sum(cost) AS k FROM ad_performance
      WHERE tenant_id = 'acme' AND date BETWEEN {a:Date} AND {b:Date} ${platform ? 'AND platform = {p:String}' : ''}`,
    { a, b, p: platform ?? '' },
  );
  return { clicks: Number(r.rows[0].c), cost: Number(r.rows[0].k) };
}

async function sent([a, b]: [string, string]) {
  const r = await server.services.engine.query<{ s: string }>(
    "SELECT toString(sum(sent)) AS s FROM email_activity WHERE tenant_id = 'acme' AND date BETWEEN {a:Date} AND {b:Date}",
    { a, b },
  );
  return Number(r.rows[0].s);
}

const td = (dimension: string) => [{ dimension, dateRange: 'last year' }];
const WIDGETS = [
  { id: 'clicks', title: 'Clicks', query: { measures: ['ad_performance.clicks'], timeDimensions: td('ad_performance.date') } },
  { id: 'cost', title: 'Cost', query: { measures: ['ad_performance.cost'], timeDimensions: td('ad_performance.date') } },
  { id: 'emails', title: 'Emails', query: { measures: ['email_activity.sent'], timeDimensions: td('email_activity.date') } },
  // Ignores the period: always the first half of 2026.
  { id: 'h1', title: 'H1', query: { measures: ['ad_performance.clicks'], timeDimensions: [{ dimension: 'ad_performance.date', dateRange: H1 }] } },
];
const FILTERS = [
  { name: 'period', type: 'DATE_RANGE', default: AUG, bindings: [{ widget: 'h1', member: null }] },
  { name: 'platform', type: 'MEMBER', member: 'ad_performance.platform', bindings: [{ widget: 'emails', member: null }] },
];

const CREATE = 'mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }';
const OPEN = `query($id: ID!, $view: DashboardViewInput) { dashboard(id: $id, view: $view) {
  version filters { name type member default bindings { widget member } }
  widgets { id query skipped { parameter } result { data comparison { rows { measures { member current previous } } } } } } }`;

const first = (w: { result: { data: Record<string, number>[] } }, m: string) => Number(w.result.data[0][m]);

describe('declared dashboard filters', () => {
  it('values by name: every bound widget filtered, ignoring widgets unchanged, K statements, stored dashboard unchanged', async () => {
    const mark = sqls.length;
    const d = (
      await ok(OPEN, {
        id: dashboardId,
        view: {
          values: [
            { name: 'platform', values: ['meta'] },
            { name: 'period', values: SEP },
          ],
          compareTo: { period: 'PREVIOUS_PERIOD' },
        },
      })
    ).dashboard;
    // Two row sets: ad_performance filtered to meta (clicks, cost, and h1's ranges: the range split reads
    // every range of one row set in one statement) and email_activity.
    expect(dataStatements(mark)).toBe(2);
    const [clicks, cost, emails, h1] = d.widgets;
    const meta = await adTotals(SEP, 'meta');
    const metaAug = await adTotals(AUG, 'meta');
    expect(clicks.result.comparison.rows[0].measures[0]).toMatchObject({ current: meta.clicks, previous: metaAug.clicks });
    expect(cost.result.comparison.rows[0].measures[0].current).toBeCloseTo(meta.cost, 6);
    expect(emails.result.comparison.rows[0].measures[0]).toMatchObject({ current: await sent(SEP), previous: await sent(AUG) });
    expect(emails.skipped).toEqual([]);
    // The period filter is bound to none in `h1`: its own range stays (the platform still applies).
    expect(h1.result.comparison.rows[0].measures[0].current).toBe((await adTotals(H1, 'meta')).clicks);

    const stored = (await ok('query($id: ID!) { dashboard(id: $id) { version filters { name } widgets { query } } }', { id: dashboardId })).dashboard;
    expect(stored.version).toBe(1);
    expect(stored.widgets.map((w: { query: unknown }) => w.query)).toEqual(WIDGETS.map((w) => w.query));
    expect(stored.filters.map((f: { name: string }) => f.name)).toEqual(['period', 'platform']);
  });

  it('no values: defaults apply (period = August, no platform filter); null turns a default off', async () => {
    const d = (await ok(OPEN, { id: dashboardId })).dashboard;
    expect(first(d.widgets[0], 'ad_performance.clicks')).toBe((await adTotals(AUG)).clicks);
    expect(first(d.widgets[2], 'email_activity.sent')).toBe(await sent(AUG));
    const off = (await ok(OPEN, { id: dashboardId, view: { values: [{ name: 'period', values: null }] } })).dashboard;
    expect(off.widgets[0].query).toEqual(WIDGETS[0].query);
    // Without the period, the widget's own range ("last year") holds.
    const lastYear = await server.services.engine.query<{ c: string }>(
      "SELECT toString(sum(clicks)) AS c FROM ad_performance WHERE tenant_id = 'acme' AND toYear(date) = toYear(today()) - 1",
    );
    expect(Number(off.widgets[0].result.data[0]?.['ad_performance.clicks'] ?? 0)).toBe(Number(lastYear.rows[0].c));
  });

  it('the share-link REST door takes the same values', async () => {
    const made = (await ok('mutation($id: ID!) { createDashboardLink(dashboardId: $id) { path } }', { id: dashboardId })).createDashboardLink;
    const res = await fetch(`${server.url}${made.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ view: { values: { platform: ['google_ads'], period: SEP } } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { widgets: { id: string; data: Record<string, unknown>[] }[] };
    expect(Number(body.widgets[0].data[0]['ad_performance.clicks'])).toBe((await adTotals(SEP, 'google_ads')).clicks);
    expect(Number(body.widgets[2].data[0]['email_activity.sent'])).toBe(await sent(SEP));
    const bad = await fetch(`${server.url}${made.path}`, { method: 'POST', body: JSON.stringify({ view: { values: { region: ['x'] } } }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'UNKNOWN_FILTER' });
  });

  it('dashboardLive takes the same values', async () => {
    const c = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${alice}` },
      retryAttempts: 0,
    });
    try {
      const sub = c
        .iterate<{ dashboardLive: { widgets: { id: string; result: { data: Record<string, number>[] } }[] } }>({
          query: 'subscription($id: ID!, $view: DashboardViewInput) { dashboardLive(id: $id, view: $view) { widgets { id result { data } } } }',
          variables: {
            id: dashboardId,
            view: {
              values: [
                { name: 'platform', values: ['meta'] },
                { name: 'period', values: SEP },
              ],
            },
          },
        })
        [Symbol.asyncIterator]();
      const msg = (await sub.next()).value!.data!.dashboardLive;
      expect(first(msg.widgets[0], 'ad_performance.clicks')).toBe((await adTotals(SEP, 'meta')).clicks);
      await sub.return?.();
    } finally {
      await c.dispose();
    }
  });

  it('updates: new filters make a version; new widgets are checked against the current filters', async () => {
    const id = (await ok(CREATE, { input: { name: 'Editable', widgets: WIDGETS.slice(0, 2) } })).createDashboard.id;
    const UPDATE = 'mutation($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { version filters { name } } }';
    const updated = (await ok(UPDATE, { id, input: { filters: [{ name: 'platform', type: 'MEMBER', member: 'ad_performance.platform', default: ['meta'] }] } }))
      .updateDashboard;
    expect(updated).toEqual({ version: 2, filters: [{ name: 'platform' }] });
    // The default applies with no view at all.
    const d = (await ok('query($id: ID!) { dashboard(id: $id) { widgets { appliedQuery result { data } } } }', { id })).dashboard;
    expect(d.widgets[0].appliedQuery.filters).toEqual([{ member: 'ad_performance.platform', operator: 'equals', values: ['meta'] }]);
    // An email widget cannot take the platform filter: refused, and the dashboard stays at version 2.
    const refused = await gql(UPDATE, { id, input: { widgets: WIDGETS.slice(0, 3) } });
    expect(refused.errors?.[0].extensions?.code).toBe('INVALID_FILTER_BINDING');
    expect(refused.errors?.[0].message).toMatch(/widget "emails"/);
    expect((await ok('query($id: ID!) { dashboard(id: $id) { version } }', { id })).dashboard.version).toBe(2);
  });

  it('bad input: unknown filter, binding to a missing member or widget, a widget that cannot take it, an inverted range', async () => {
    const unknown = await gql(OPEN, { id: dashboardId, view: { values: [{ name: 'region', values: ['x'] }] } });
    expect(unknown.errors?.[0].extensions?.code).toBe('UNKNOWN_FILTER');
    expect(unknown.errors?.[0].message).toMatch(/"region".*period, platform/);

    const inverted = await gql(OPEN, { id: dashboardId, view: { values: [{ name: 'period', values: ['2026-09-30', '2026-09-01'] }] } });
    expect(inverted.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(inverted.errors?.[0].message).toMatch(/filter "period".*start .* is after end/);

    const missing = await gql(CREATE, {
      input: {
        name: 'x',
        widgets: WIDGETS,
        filters: [{ name: 'client', type: 'MEMBER', member: 'ad_performance.clientt', bindings: [{ widget: 'emails', member: null }] }],
      },
    });
    expect(missing.errors?.[0].extensions?.code).toBe('INVALID_FILTER_BINDING');
    expect(missing.errors?.[0].message).toMatch(/ad_performance\.clientt/);

    const unbound = await gql(CREATE, {
      input: { name: 'x', widgets: WIDGETS, filters: [{ name: 'platform', type: 'MEMBER', member: 'ad_performance.platform' }] },
    });
    expect(unbound.errors?.[0].extensions?.code).toBe('INVALID_FILTER_BINDING');
    expect(unbound.errors?.[0].message).toMatch(/widget "emails"/);

    const noWidget = await gql(CREATE, {
      input: { name: 'x', widgets: WIDGETS, filters: [{ name: 'period', type: 'DATE_RANGE', bindings: [{ widget: 'nope', member: null }] }] },
    });
    expect(noWidget.errors?.[0].extensions?.code).toBe('INVALID_FILTER_BINDING');
  });
});

// The demo warehouse ends on 2026-10-31: the last days of this range have no rows at all.
const EDGE: [string, string] = ['2026-10-25', '2026-11-05'];
const EDGE_DAYS = Array.from({ length: 12 }, (_, i) => `2026-${i < 7 ? '10' : '11'}-${String(i < 7 ? 25 + i : i - 6).padStart(2, '0')}`);

/** Independent side: clicks per day (and platform) of acme over EDGE, plain SQL; only days with rows. */
async function clicksByDay(platform?: string) {
  const r = await server.services.engine.query<{ d: string; p: string; c: string }>(
    `SELECT toString(date) AS d, platform AS p, toString(sum(clicks)) AS c FROM ad_performance
      WHERE tenant_id = 'acme' AND date BETWEEN {a:Date} AND {b:Date} ${platform ? 'AND platform = {p:String}' : ''} GROUP BY d, p`,
    { a: EDGE[0], b: EDGE[1], p: platform ?? '' },
  );
  return r.rows;
}

describe('charts: zero-filled series', () => {
  const series = {
    measures: ['ad_performance.clicks', 'ad_performance.ctr'],
    timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: EDGE }],
  };

  it('GraphQL generic: every day of the range, empty days 0 for a sum and null for a ratio, one statement', async () => {
    const sql = new Map((await clicksByDay()).reduce((m, r) => m.set(r.d, (m.get(r.d) ?? 0) + Number(r.c)), new Map<string, number>()));
    expect(sql.size).toBeLessThan(EDGE_DAYS.length); // the range really has empty days
    const mark = sqls.length;
    const rows = (await ok('query($q: JSON!) { query(query: $q) { data } }', { q: { ...series, fill: 'zero' } })).query.data as Record<string, unknown>[];
    expect(dataStatements(mark)).toBe(1);
    expect(rows.map((r) => String(r['ad_performance.date.day']).slice(0, 10))).toEqual(EDGE_DAYS);
    for (const r of rows) {
      const day = String(r['ad_performance.date.day']).slice(0, 10);
      expect(Number(r['ad_performance.clicks'])).toBe(sql.get(day) ?? 0);
      if (!sql.has(day)) expect(r['ad_performance.ctr']).toBeNull();
    }
    // Without fill only the days with rows come back.
    const plain = (await ok('query($q: JSON!) { query(query: $q) { data } }', { q: series })).query.data;
    expect(plain).toHaveLength(sql.size);
  });

  it('REST (/cubejs-api/v1/load) and the typed field: one full series per platform', async () => {
    const sql = await clicksByDay();
    const platforms = [...new Set(sql.map((r) => r.p))].sort();
    const res = await fetch(`${server.url}/cubejs-api/v1/load`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query: { ...series, dimensions: ['ad_performance.platform'], order: { 'ad_performance.platform': 'asc' }, fill: 'zero' } }),
    });
    expect(res.status).toBe(200);
    const data = ((await res.json()) as { data: Record<string, unknown>[] }).data;
    expect(data).toHaveLength(platforms.length * EDGE_DAYS.length);
    const want = (p: string, d: string) => Number(sql.find((r) => r.p === p && r.d === d)?.c ?? 0);
    for (const r of data)
      expect(Number(r['ad_performance.clicks'])).toBe(want(String(r['ad_performance.platform']), String(r['ad_performance.date.day']).slice(0, 10)));

    const typed = (
      await ok(
        `{ adPerformance(where: {platform: {equals: "meta"}, date: {inDateRange: ["${EDGE[0]}", "${EDGE[1]}"]}}, fill: ZERO) { date(granularity: DAY) clicks } }`,
      )
    ).adPerformance as { date: string; clicks: number }[];
    expect(typed.map((r) => r.date.slice(0, 10))).toEqual(EDGE_DAYS);
    for (const r of typed) expect(r.clicks).toBe(want('meta', r.date.slice(0, 10)));
  });

  it('fill needs one granular, ranged time dimension (a coded error otherwise)', async () => {
    const body = await gql('query($q: JSON!) { query(query: $q) { data } }', { q: { measures: ['ad_performance.clicks'], fill: 'zero' } });
    expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0].message).toMatch(/fill "zero" needs exactly one time dimension with a granularity and a dateRange/);
    const badMode = await gql('query($q: JSON!) { query(query: $q) { data } }', { q: { ...series, fill: 'linear' } });
    expect(badMode.errors?.[0].message).toMatch(/fill must be "zero"/);
  });

  it('hour of day x day of week (web sessions: hour-level time) equals SQL', async () => {
    const q = {
      measures: ['web_sessions.sessions'],
      dimensions: ['web_sessions.day_of_week', 'web_sessions.hour_of_day'],
      timeDimensions: [{ dimension: 'web_sessions.started_at', dateRange: SEP }],
      limit: 500,
    };
    const rows = (await ok('query($q: JSON!) { query(query: $q) { data } }', { q })).query.data as Record<string, unknown>[];
    const sql = await server.services.engine.query<{ w: number; h: number; c: string }>(
      `SELECT toDayOfWeek(started_at) AS w, toHour(started_at) AS h, toString(count()) AS c FROM web_sessions
        WHERE tenant_id = 'acme' AND started_at >= toDateTime({a:String}, 'UTC') AND started_at < toDateTime({b:String}, 'UTC') + INTERVAL 1 DAY GROUP BY w, h`,
      { a: SEP[0], b: SEP[1] },
    );
    expect(new Set(sql.rows.map((r) => r.h)).size).toBeGreaterThan(12); // sessions really spread over the day
    const got = new Map(rows.map((r) => [`${r['web_sessions.day_of_week']}/${r['web_sessions.hour_of_day']}`, Number(r['web_sessions.sessions'])]));
    expect(got).toEqual(new Map(sql.rows.map((r) => [`${r.w}/${r.h}`, Number(r.c)])));
  });
});
