/**
 * A dashboard exported (or scheduled) is what the dashboard shows with the same parameters: its
 * declared filters apply with their defaults, or with the values the source's view gives. Over the
 * real server (chDB, PGlite, demo warehouse); every number also from plain SQL with an explicit tenant.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

const WIDGET = {
  id: 'by-platform',
  title: 'By platform',
  query: {
    measures: ['ad_performance.clicks', 'ad_performance.cost'],
    dimensions: ['ad_performance.platform'],
    timeDimensions: [{ dimension: 'ad_performance.date', dateRange: ['2026-09-01', '2026-09-30'] }],
    order: { 'ad_performance.platform': 'asc' },
  },
};
const DEFAULT_RANGE = ['2026-09-01', '2026-09-15'];

let app: InProcessServer;
let tok: string;
let dashboardId: string;
let platforms: string[];

async function ok(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${app.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

/** Independent: clicks and cost per platform of acme in [from, to], optionally only these platforms. */
async function expected(from: string, to: string, only?: readonly string[]): Promise<[string, number, number][]> {
  const { rows } = await app.server.services.engine.query<{ p: string; c: number; k: number }>(
    `SELECT platform AS p, toFloat64(sum(clicks)) AS c, toFloat64(sum(cost)) AS k FROM ad_performance
      WHERE tenant_id = 'acme' AND date BETWEEN {a:Date} AND {b:Date} ${only ? 'AND platform IN {ps:Array(String)}' : ''}
      GROUP BY p ORDER BY p`,
    { a: from, b: to, ...(only ? { ps: only } : {}) },
  );
  return rows.map((r) => [r.p, Number(r.c), Number(r.k)]);
}

/** Exports the widget as CSV through the real job and download link; rows as [platform, clicks, cost]. */
async function exported(view?: Record<string, unknown>): Promise<[string, number, number][]> {
  const source = { kind: 'dashboard', id: dashboardId, widgetId: WIDGET.id, ...(view ? { view } : {}) };
  const data = await ok('mutation($s: JSON!) { createExport(source: $s, format: "csv") { status downloadUrl error } }', { s: source });
  expect(data.createExport.status, data.createExport.error).toBe('ready');
  const csv = await (await fetch(data.createExport.downloadUrl, { headers: { authorization: `Bearer ${tok}` } })).text();
  const [header, ...lines] = csv.trim().split('\n');
  expect(header).toBe('"ad_performance.platform","ad_performance.clicks","ad_performance.cost"');
  return lines.map((l) => {
    const [p, c, k] = l.split(',');
    return [p.replace(/"/g, ''), Number(c), Number(k)];
  });
}

/** What the dashboard door shows for the same view. */
async function shown(view?: Record<string, unknown>): Promise<[string, number, number][]> {
  const data = await ok('query($id: ID!, $v: DashboardViewInput) { dashboard(id: $id, view: $v) { widgets { result { data } } } }', {
    id: dashboardId,
    v: view ?? null,
  });
  return data.dashboard.widgets[0].result.data.map((r: Record<string, unknown>) => [
    r['ad_performance.platform'],
    Number(r['ad_performance.clicks']),
    Number(r['ad_performance.cost']),
  ]);
}

function expectSame(got: [string, number, number][], want: [string, number, number][]) {
  expect(got.map(([p, c]) => [p, c])).toEqual(want.map(([p, c]) => [p, c]));
  for (const [i, r] of got.entries()) expect(r[2]).toBeCloseTo(want[i][2], 6);
}

beforeAll(async () => {
  app = await startInProcessServer('dashboard-report', { JOBS_POLL_MS: '100', EXPORT_WAIT_MS: '30000' });
  tok = await new SignJWT({ tenant_id: 'acme', roles: ['analyst'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dana')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(app.jwtSecret));
  const all = await expected('2026-09-01', '2026-09-30');
  platforms = all.map(([p]) => p);
  expect(platforms.length).toBeGreaterThanOrEqual(3);
  const created = await ok('mutation($i: CreateDashboardInput!) { createDashboard(input: $i) { id } }', {
    i: {
      name: 'Platforms, first half',
      widgets: [WIDGET],
      filters: [
        { name: 'period', type: 'DATE_RANGE', default: DEFAULT_RANGE },
        { name: 'platform', type: 'MEMBER', member: 'ad_performance.platform', default: platforms.slice(0, 2) },
      ],
    },
  });
  dashboardId = created.createDashboard.id;
}, 180_000);

afterAll(async () => {
  await app?.close();
});

describe('dashboard exports apply the declared filters', () => {
  it('without a view: the defaults (first half of September, two platforms), as the dashboard shows', async () => {
    const want = await expected(DEFAULT_RANGE[0], DEFAULT_RANGE[1], platforms.slice(0, 2));
    expect(want).toHaveLength(2);
    // The widget's own range is the whole month: a report that ignored the defaults would differ.
    expect(want).not.toEqual((await expected('2026-09-01', '2026-09-30')).slice(0, 2));
    expectSame(await exported(), want);
    expectSame(await shown(), want);
  });

  it('with values: a given range, and a filter turned off (null), as GraphQL takes them', async () => {
    const values = [
      { name: 'period', values: ['2026-09-10', '2026-09-20'] },
      { name: 'platform', values: null },
    ];
    const want = await expected('2026-09-10', '2026-09-20');
    expect(want.map(([p]) => p)).toEqual(platforms);
    expectSame(await exported({ values }), want);
    expectSame(await shown({ values }), want);
    // The object form {name: values} is the same request.
    expectSame(await exported({ values: { period: ['2026-09-10', '2026-09-20'], platform: null } }), want);
  });

  it('a value for a filter the dashboard does not declare is refused with UNKNOWN_FILTER', async () => {
    const res = await fetch(`${app.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
      body: JSON.stringify({
        query: 'mutation($s: JSON!) { createExport(source: $s, format: "csv") { status } }',
        variables: { s: { kind: 'dashboard', id: dashboardId, widgetId: WIDGET.id, view: { values: { country: ['US'] } } } },
      }),
    });
    const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(body.errors?.[0].extensions?.code).toBe('UNKNOWN_FILTER');
    expect(body.errors?.[0].message).toBe('the dashboard declares no filter "country" (it has: period, platform)');
  });
});
