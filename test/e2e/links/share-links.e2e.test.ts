/**
 * Read-only dashboard share links over the REAL server (chDB, PGlite, demo warehouse at scale 0.05):
 * made and revoked through GraphQL, opened with plain fetch and no JWT. Numbers are checked against
 * plain ClickHouse SQL with an explicit tenant filter; the audit trail is read from the store.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

let app: InProcessServer;
let server: RunningServer;
let secret: string;
const T: Record<string, string> = {};
const SEP: [string, string] = ['2026-09-01', '2026-09-30'];

async function token(tenant: string, sub: string, roles: string[], scope = ''): Promise<string> {
  return new SignJWT({ tenant_id: tenant, roles, scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(secret));
}

beforeAll(async () => {
  app = await startInProcessServer('links');
  server = app.server;
  secret = app.jwtSecret;
  T.alice = await token('acme', 'alice', ['analyst']);
  T.bob = await token('acme', 'bob', ['analyst']);
  // A tenant admin (keys:admin) who may manage every dashboard but cannot read finance members.
  T.keeper = await token('acme', 'keeper', [], 'metrics:read dashboards:write keys:admin');
  T.globex = await token('globex', 'gina', ['tenant_admin']);
}, 180_000);

afterAll(async () => {
  await app?.close();
});

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

async function clicksByPlatform(tenant: string, [a, b]: [string, string], platform?: string): Promise<Record<string, number>> {
  const rows = (
    await server.services.engine.query<{ p: string; c: string }>(
      `SELECT platform AS p, toString(sum(clicks)) AS c FROM ad_performance
        WHERE tenant_id = {t:String} AND date BETWEEN {a:Date} AND {b:Date} ${platform ? 'AND platform = {pl:String}' : ''} GROUP BY p`,
      { t: tenant, a, b, pl: platform ?? '' },
    )
  ).rows;
  return Object.fromEntries(rows.map((r) => [r.p, Number(r.c)]));
}

const CREATE_LINK = `mutation($id: ID!, $scopes: [String!]) { createDashboardLink(dashboardId: $id, scopes: $scopes) { token path link { id scopes active } } }`;
const open = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

let dashboardId: string;

describe('dashboard share links', () => {
  beforeAll(async () => {
    const d = await ok(T.alice, `mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id } }`, {
      input: {
        name: 'Shared board',
        visibility: 'PRIVATE',
        widgets: [
          {
            id: 'clicks',
            title: 'Clicks',
            query: {
              measures: ['ad_performance.clicks'],
              dimensions: ['ad_performance.platform'],
              timeDimensions: [{ dimension: 'ad_performance.date', dateRange: SEP }],
            },
          },
          { id: 'budget', title: 'Budget', query: { measures: ['campaigns.daily_budget'] } },
        ],
      },
    });
    dashboardId = d.createDashboard.id;
  });

  it('opens without a JWT, shows that dashboard with its numbers, and audits create and open', async () => {
    const made = (await ok(T.alice, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    expect(made.path).toBe(`/v1/shared/dashboards/${made.token}`);
    expect(made.link.scopes.sort()).toEqual(['clients:read', 'finance:read', 'metrics:read']);
    const res = await open(made.path);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.dashboard).toMatchObject({ id: dashboardId, name: 'Shared board' });
    const clicks = body.widgets.find((w: any) => w.id === 'clicks');
    const got = Object.fromEntries(clicks.data.map((r: any) => [r['ad_performance.platform'], r['ad_performance.clicks']]));
    expect(got).toEqual(await clicksByPlatform('acme', SEP));
    expect(body.widgets.find((w: any) => w.id === 'budget').error).toBeNull();
    // The link's audit trail: made (change) and opened (read), never the token.
    await server.services.store.audit.flush();
    const trail = await server.services.store.audit.list('acme', { limit: 200 });
    const mine = trail.filter((r) => r.target === made.link.id);
    expect(mine.map((r) => r.action).sort()).toEqual(['dashboard_link.create', 'dashboard_link.open']);
    expect(mine.find((r) => r.action === 'dashboard_link.open')?.subject).toBe(`link:${made.link.id}`);
    expect(JSON.stringify(mine)).not.toContain(made.token);
  });

  it('takes a view (platform = meta) and still equals plain SQL', async () => {
    const made = (await ok(T.alice, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    const res = await open(made.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ view: { filters: [{ member: 'ad_performance.platform', operator: 'equals', values: ['meta'] }] } }),
    });
    expect(res.status).toBe(200);
    const clicks = (await res.json()).widgets.find((w: any) => w.id === 'clicks');
    expect(clicks.data).toEqual([{ 'ad_performance.platform': 'meta', 'ad_performance.clicks': (await clicksByPlatform('acme', SEP, 'meta')).meta }]);
  });

  it("never reveals members its creator could not read; carries only the creator's read scopes", async () => {
    const made = (await ok(T.keeper, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    expect(made.link.scopes).toEqual(['metrics:read']);
    const text = await (await open(made.path)).text();
    const body = JSON.parse(text);
    const budget = body.widgets.find((w: any) => w.id === 'budget');
    expect(budget.data).toBeNull();
    expect(budget.error.code).toBe('FORBIDDEN');
    expect(text).not.toContain('daily_budget');
    expect(body.widgets.find((w: any) => w.id === 'clicks').error).toBeNull();
    // Narrowing: alice's link without finance:read behaves the same.
    const narrow = (await ok(T.alice, CREATE_LINK, { id: dashboardId, scopes: ['metrics:read'] })).createDashboardLink;
    expect(narrow.link.scopes).toEqual(['metrics:read']);
    const nb = await (await open(narrow.path)).json();
    expect(nb.widgets.find((w: any) => w.id === 'budget').error.code).toBe('FORBIDDEN');
    // A scope the creator lacks, or a write scope, is refused with a code.
    const bad = await gql(T.keeper, CREATE_LINK, { id: dashboardId, scopes: ['finance:read'] });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a revoked link, an expired link and an unknown token answer 404', async () => {
    const made = (await ok(T.alice, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    expect((await open(made.path)).status).toBe(200);
    expect((await ok(T.alice, `mutation($id: ID!) { revokeDashboardLink(id: $id) }`, { id: made.link.id })).revokeDashboardLink).toBe(true);
    const gone = await open(made.path);
    expect(gone.status).toBe(404);
    expect((await gone.json()).code).toBe('NOT_FOUND');
    const listed = (await ok(T.alice, `query($id: ID!) { dashboardLinks(dashboardId: $id) { id active revokedBy } }`, { id: dashboardId })).dashboardLinks;
    expect(listed.find((l: any) => l.id === made.link.id)).toEqual({ id: made.link.id, active: false, revokedBy: 'alice' });
    await server.services.store.audit.flush();
    const trail = await server.services.store.audit.list('acme', { limit: 200 });
    expect(trail.some((r) => r.target === made.link.id && r.action === 'dashboard_link.revoke')).toBe(true);

    const expired = await server.services.store.dashboardLinks.create({ tenantId: 'acme', subject: 'alice', admin: false }, dashboardId, {
      scopes: ['metrics:read'],
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await open(`/v1/shared/dashboards/${expired.token}`)).status).toBe(404);
    expect((await open(`/v1/shared/dashboards/dl_${'x'.repeat(43)}`)).status).toBe(404);
  });

  it('only its managers make links; another tenant sees and revokes nothing', async () => {
    // bob cannot see alice's private dashboard: NOT_FOUND; after sharing it for viewing: FORBIDDEN.
    expect((await gql(T.bob, CREATE_LINK, { id: dashboardId })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await ok(T.alice, `mutation($id: ID!) { shareDashboard(id: $id, input: { shares: [{ subject: "bob", access: VIEW }] }) { id } }`, { id: dashboardId });
    expect((await gql(T.bob, CREATE_LINK, { id: dashboardId })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const made = (await ok(T.alice, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    expect((await gql(T.globex, CREATE_LINK, { id: dashboardId })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(T.globex, `query($id: ID!) { dashboardLinks(dashboardId: $id) { id } }`, { id: dashboardId })).errors?.[0]?.extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect((await ok(T.globex, `mutation($id: ID!) { revokeDashboardLink(id: $id) }`, { id: made.link.id })).revokeDashboardLink).toBe(false);
    expect((await open(made.path)).status).toBe(200);
  });

  it("a suspended tenant's links stop answering (the tenant gate)", async () => {
    const made = (await ok(T.alice, CREATE_LINK, { id: dashboardId })).createDashboardLink;
    expect((await open(made.path)).status).toBe(200);
    const { store, tenants } = server.services;
    await store.tenants.update('acme', { status: 'suspended' });
    tenants.invalidate('acme');
    try {
      const res = await open(made.path);
      expect((await res.json()).code).toBe('TENANT_SUSPENDED');
    } finally {
      await store.tenants.update('acme', { status: 'active' });
      tenants.invalidate('acme');
    }
    expect((await open(made.path)).status).toBe(200);
  });
});
