/** Dashboards and saved queries through GraphQL over a real PGlite store and the real query service. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminHarness, type AdminHarness } from './harness.js';

let h: AdminHarness;
let admin: string;
let viewer: string;
let globex: string;

const CREATE = `mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id name version widgets { id title query display } } }`;
const READ = `query($id: ID!, $version: Int) {
  dashboard(id: $id, version: $version) {
    id name description version versions { version createdBy widgetCount }
    widgets { id result { data annotation { member } } }
  }
}`;

const clicksByPlatform = { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'] };
const impressionsByPlatform = { measures: ['ad_performance.impressions'], dimensions: ['ad_performance.platform'] };
const campaignCount = { measures: ['campaigns.count'], dimensions: ['campaigns.name'] };
const spendByPlatform = { measures: ['ad_performance.spend'], dimensions: ['ad_performance.platform'] };

beforeAll(async () => {
  h = await createAdminHarness();
  admin = await h.token('acme', { roles: ['tenant_admin'], subject: 'alice@acme' });
  viewer = await h.token('acme', { roles: ['viewer'] });
  globex = await h.token('globex', { roles: ['tenant_admin'] });
});
afterAll(() => h.close());

describe('dashboards', () => {
  it('reads every widget result in one request with one SQL per distinct mergeable query', async () => {
    const widgets = [
      { id: 'w1', title: 'Clicks', query: clicksByPlatform, display: { chart: 'bar' } },
      { id: 'w2', title: 'Impressions', query: impressionsByPlatform },
      { id: 'w3', title: 'Clicks again', query: clicksByPlatform },
      { id: 'w4', title: 'Campaigns', query: campaignCount },
    ];
    const created = await h.gql(admin, CREATE, { input: { name: 'Overview', widgets } });
    expect(created.errors).toBeUndefined();
    expect(created.data.createDashboard).toMatchObject({ name: 'Overview', version: 1 });
    expect(created.data.createDashboard.widgets[0]).toEqual({ id: 'w1', title: 'Clicks', query: clicksByPlatform, display: { chart: 'bar' } });

    const before = h.engine.statements.length;
    const res = await h.gql(admin, READ, { id: created.data.createDashboard.id });
    expect(res.errors).toBeUndefined();
    const statements = h.engine.statements.slice(before);
    // w1, w2, w3 share cube, dimensions and filters: one SQL; w4 reads another cube: one more.
    expect(statements).toHaveLength(2);
    expect(statements.every((s) => s.params.tenant === 'acme')).toBe(true);
    const byId = Object.fromEntries(res.data.dashboard.widgets.map((w: { id: string; result: unknown }) => [w.id, w.result]));
    expect(byId.w1.data).toEqual([{ 'ad_performance.platform': '7', 'ad_performance.clicks': 7 }]);
    expect(byId.w2.data).toEqual([{ 'ad_performance.platform': '7', 'ad_performance.impressions': 7 }]);
    expect(byId.w3).toEqual(byId.w1);
    expect(byId.w4.annotation.map((a: { member: string }) => a.member)).toEqual(['campaigns.count', 'campaigns.name']);
  });

  it('a widget the caller may not read fails alone: its result is null with FORBIDDEN, the others answer', async () => {
    const { data } = await h.gql(admin, CREATE, {
      input: {
        name: 'Finance',
        widgets: [
          { id: 'spend', query: spendByPlatform },
          { id: 'clicks', query: clicksByPlatform },
        ],
      },
    });
    const res = await h.gql(viewer, READ, { id: data.createDashboard.id });
    expect(res.data.dashboard.widgets[0]).toEqual({ id: 'spend', result: null });
    expect(res.data.dashboard.widgets[1].result.data).toHaveLength(1);
    expect(res.errors).toEqual([
      expect.objectContaining({
        path: ['dashboard', 'widgets', 0, 'result'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN', member: 'ad_performance.spend' }),
      }),
    ]);
  });

  it('refuses to save a widget whose query would not run, naming the widget, the member and a suggestion', async () => {
    const typo = await h.gql(admin, CREATE, {
      input: {
        name: 'Broken',
        widgets: [
          { id: 'ok', query: clicksByPlatform },
          { id: 'bad', query: { measures: ['ad_performance.clik'] } },
        ],
      },
    });
    expect(typo.data).toEqual({ createDashboard: null });
    expect(typo.errors?.[0].message).toMatch(/^widget "bad" \(widgets\[1\]\): .*"ad_performance\.clik".*did you mean "ad_performance\.clicks"\?/);
    expect(typo.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', member: 'ad_performance.clik', suggestion: 'ad_performance.clicks' });

    const unknownKey = await h.gql(admin, CREATE, {
      input: { name: 'Broken', widgets: [{ id: 'x', query: { measures: ['ad_performance.clicks'], tenant: 'globex' } }] },
    });
    expect(unknownKey.errors?.[0]).toMatchObject({
      message: 'widget "x" (widgets[0]): unknown query key "tenant"',
      extensions: { code: 'BAD_USER_INPUT', key: 'tenant' },
    });

    const forbidden = await h.gql(await h.token('acme', { roles: ['viewer'], scopes: ['dashboards:write'] }), CREATE, {
      input: { name: 'Sneaky', widgets: [{ id: 's', query: spendByPlatform }] },
    });
    expect(forbidden.errors?.[0].message).toMatch(/^widget "s" \(widgets\[0\]\): .*ad_performance\.spend.*finance:read/);
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const viewerWrite = await h.gql(viewer, CREATE, { input: { name: 'No', widgets: [] } });
    expect(viewerWrite.errors?.[0]).toMatchObject({
      message: 'field "Mutation.createDashboard" requires scope "dashboards:write"',
      extensions: { code: 'FORBIDDEN' },
    });
    const names = (await h.gql(admin, '{ dashboards { name } }')).data.dashboards.map((d: { name: string }) => d.name);
    expect(names).not.toContain('Broken');
    expect(names).not.toContain('Sneaky');
  });

  it('updates make versions; a stale expectedVersion is CONFLICT; other tenants see nothing and change nothing', async () => {
    const { data } = await h.gql(admin, CREATE, { input: { name: 'Versioned', description: 'v1', widgets: [{ id: 'a', query: clicksByPlatform }] } });
    const id = data.createDashboard.id;
    const UPDATE = `mutation($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { version name description widgets { id } } }`;
    const v2 = await h.gql(admin, UPDATE, {
      id,
      input: {
        name: 'Versioned 2',
        widgets: [
          { id: 'a', query: clicksByPlatform },
          { id: 'b', query: campaignCount },
        ],
        expectedVersion: 1,
      },
    });
    expect(v2.data.updateDashboard).toEqual({ version: 2, name: 'Versioned 2', description: 'v1', widgets: [{ id: 'a' }, { id: 'b' }] });

    const stale = await h.gql(admin, UPDATE, { id, input: { name: 'lost update', expectedVersion: 1 } });
    expect(stale.errors?.[0]).toMatchObject({
      message: `dashboard "${id}" is at version 2, not 1; reload and retry`,
      extensions: { code: 'CONFLICT', currentVersion: 2 },
    });

    const current = await h.gql(admin, READ, { id });
    expect(current.data.dashboard).toMatchObject({
      version: 2,
      versions: [
        { version: 1, createdBy: 'alice@acme', widgetCount: 1 },
        { version: 2, createdBy: 'alice@acme', widgetCount: 2 },
      ],
    });
    const old = await h.gql(admin, `query($id: ID!) { dashboard(id: $id, version: 1) { version widgets { id } } }`, { id });
    expect(old.data.dashboard).toEqual({ version: 1, widgets: [{ id: 'a' }] });

    // Listing returns summaries; their widgets are read on demand.
    const listed = await h.gql(admin, '{ dashboards { id version widgets { id } } }');
    expect(listed.data.dashboards.find((d: { id: string }) => d.id === id)).toEqual({ id, version: 2, widgets: [{ id: 'a' }, { id: 'b' }] });

    expect((await h.gql(globex, READ, { id })).data).toEqual({ dashboard: null });
    expect((await h.gql(globex, '{ dashboards { id } }')).data).toEqual({ dashboards: [] });
    const foreignUpdate = await h.gql(globex, UPDATE, { id, input: { name: 'hijack' } });
    expect(foreignUpdate.errors?.[0]).toMatchObject({ message: `dashboard "${id}" not found`, extensions: { code: 'NOT_FOUND' } });
    expect((await h.gql(globex, 'mutation($id: ID!) { deleteDashboard(id: $id) }', { id })).data).toEqual({ deleteDashboard: false });
    expect((await h.gql(admin, 'mutation($id: ID!) { deleteDashboard(id: $id) }', { id })).data).toEqual({ deleteDashboard: true });
    expect((await h.gql(admin, READ, { id })).data).toEqual({ dashboard: null });
  });
});

describe('saved queries', () => {
  it('create, list, run (same shape as `query`), refuse duplicates and broken queries, delete; tenant-scoped', async () => {
    const CREATE_SQ = `mutation($input: CreateSavedQueryInput!) { createSavedQuery(input: $input) { id name query createdBy } }`;
    const created = await h.gql(admin, CREATE_SQ, { input: { name: 'clicks by platform', query: clicksByPlatform } });
    expect(created.data.createSavedQuery).toMatchObject({ name: 'clicks by platform', query: clicksByPlatform, createdBy: 'alice@acme' });
    const id = created.data.createSavedQuery.id;

    const dup = await h.gql(admin, CREATE_SQ, { input: { name: 'clicks by platform', query: campaignCount } });
    expect(dup.errors?.[0]).toMatchObject({ message: 'a saved query named "clicks by platform" already exists', extensions: { code: 'CONFLICT' } });
    const broken = await h.gql(admin, CREATE_SQ, { input: { name: 'broken', query: { dimensions: ['campaigns.nam'] } } });
    expect(broken.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', member: 'campaigns.nam', suggestion: 'campaigns.name' });
    expect(broken.errors?.[0].message).toMatch(/^saved query "broken": /);

    const RUN = `query($id: ID!, $q: JSON!) { runSavedQuery(id: $id) { data annotation { member kind } fromCache } query(query: $q) { data annotation { member kind } fromCache } }`;
    const run = await h.gql(viewer, RUN, { id, q: clicksByPlatform });
    expect(run.errors).toBeUndefined();
    expect(run.data.runSavedQuery).toEqual(run.data.query);
    expect(run.data.runSavedQuery.data).toEqual([{ 'ad_performance.platform': '7', 'ad_performance.clicks': 7 }]);

    const listed = await h.gql(viewer, '{ savedQueries { id name } }');
    expect(listed.data.savedQueries).toEqual([{ id, name: 'clicks by platform' }]);
    expect((await h.gql(globex, '{ savedQueries { id } }')).data).toEqual({ savedQueries: [] });
    const foreign = await h.gql(globex, RUN, { id, q: clicksByPlatform });
    expect(foreign.errors?.[0]).toMatchObject({ message: `saved query "${id}" not found`, path: ['runSavedQuery'], extensions: { code: 'NOT_FOUND' } });

    const renamed = await h.gql(admin, `mutation($id: ID!) { updateSavedQuery(id: $id, input: { name: "clicks" }) { name query } }`, { id });
    expect(renamed.data.updateSavedQuery).toEqual({ name: 'clicks', query: clicksByPlatform });
    expect((await h.gql(globex, 'mutation($id: ID!) { deleteSavedQuery(id: $id) }', { id })).data).toEqual({ deleteSavedQuery: false });
    expect((await h.gql(admin, 'mutation($id: ID!) { deleteSavedQuery(id: $id) }', { id })).data).toEqual({ deleteSavedQuery: true });
    expect((await h.gql(admin, '{ savedQueries { id } }')).data).toEqual({ savedQueries: [] });
  });
});
