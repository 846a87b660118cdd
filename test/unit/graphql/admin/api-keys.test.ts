/** API keys, audit trail and the ingestion mutation through GraphQL over a real PGlite store. */
import { Kind, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printSchemaWithScopes } from '../../../../src/graphql/print.js';
import { createAdminHarness, type AdminHarness } from './harness.js';

let h: AdminHarness;
let acmeAdmin: string;
let globexAdmin: string;

const CREATE = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id name prefix scopes createdBy createdAt expiresAt lastUsedAt revokedAt } }
}`;

beforeAll(async () => {
  h = await createAdminHarness();
  acmeAdmin = await h.token('acme', { roles: ['tenant_admin'], subject: 'alice@acme' });
  globexAdmin = await h.token('globex', { roles: ['tenant_admin'], subject: 'bob@globex' });
});
afterAll(() => h.close());

describe('API keys', () => {
  it('creates a key whose secret is shown once, works as a Bearer credential with exactly its scopes, and is listed without the secret', async () => {
    const created = await h.gql(acmeAdmin, CREATE, { input: { name: 'looker export', scopes: ['metrics:read'], expiresAt: '2999-01-01T00:00:00Z' } });
    expect(created.errors).toBeUndefined();
    const { secret, apiKey } = created.data.createApiKey;
    expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{46}$/);
    expect(apiKey).toMatchObject({
      name: 'looker export',
      prefix: secret.slice(0, 14),
      scopes: ['metrics:read'],
      createdBy: 'alice@acme',
      expiresAt: '2999-01-01T00:00:00.000Z',
      revokedAt: null,
    });

    // The key reads data (metrics:read) but cannot administer keys (keys:admin is not its scope).
    const asKey = await h.gql(secret, '{ dashboards { id } apiKeys { id } }');
    expect(asKey.status).toBe(200);
    expect(asKey.data).toEqual({ dashboards: [], apiKeys: null });
    expect(asKey.errors).toEqual([
      expect.objectContaining({
        message: 'field "Query.apiKeys" requires scope "keys:admin"',
        path: ['apiKeys'],
        extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
      }),
    ]);

    const listed = await h.gql(acmeAdmin, '{ apiKeys { id prefix name } }');
    expect(listed.data.apiKeys).toContainEqual({ id: apiKey.id, prefix: apiKey.prefix, name: 'looker export' });
    expect(JSON.stringify(listed)).not.toContain(secret);
    // Nothing in the schema can return the secret or its hash again.
    const fields = await h.gql(acmeAdmin, '{ __type(name: "ApiKey") { fields { name } } }');
    expect(fields.data.__type.fields.map((f: { name: string }) => f.name)).toEqual([
      'id',
      'name',
      'prefix',
      'scopes',
      'createdBy',
      'createdAt',
      'expiresAt',
      'lastUsedAt',
      'revokedAt',
    ]);
    expect(h.logs.join('\n')).not.toContain(secret.slice(14));
  });

  it('refuses a scope the creator does not hold (FORBIDDEN), and an empty or malformed scope list (BAD_USER_INPUT)', async () => {
    const limitedAdmin = await h.token('acme', { scopes: ['keys:admin', 'metrics:read'] });
    const escalate = await h.gql(limitedAdmin, CREATE, { input: { name: 'sneaky', scopes: ['metrics:read', 'finance:read', 'audit:read'] } });
    expect(escalate.data).toEqual({ createApiKey: null });
    expect(escalate.errors).toEqual([
      expect.objectContaining({
        message: 'you cannot grant scope "finance:read", "audit:read": a key may only carry scopes you hold',
        extensions: { code: 'FORBIDDEN', scopes: ['finance:read', 'audit:read'] },
      }),
    ]);
    const empty = await h.gql(acmeAdmin, CREATE, { input: { name: 'empty', scopes: [] } });
    expect(empty.errors?.[0]).toMatchObject({ message: 'an API key needs at least one scope (e.g. "metrics:read")', extensions: { code: 'BAD_USER_INPUT' } });
    const past = await h.gql(acmeAdmin, CREATE, { input: { name: 'old', scopes: ['metrics:read'], expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.errors?.[0]).toMatchObject({ message: 'API key expiresAt must be in the future', extensions: { code: 'BAD_USER_INPUT' } });
    const badDate = await h.gql(acmeAdmin, CREATE, { input: { name: 'x', scopes: ['metrics:read'], expiresAt: 'tomorrow' } });
    expect(badDate.errors?.[0].message).toContain('DateTime must be an ISO-8601 string');
    const viewer = await h.gql(await h.token('acme', { roles: ['viewer'] }), CREATE, { input: { name: 'v', scopes: ['metrics:read'] } });
    expect(viewer.errors?.[0]).toMatchObject({ message: 'field "Mutation.createApiKey" requires scope "keys:admin"', extensions: { code: 'FORBIDDEN' } });
  });

  it('revocation is tenant-checked and takes effect on the next request (401)', async () => {
    const { data } = await h.gql(acmeAdmin, CREATE, { input: { name: 'to revoke', scopes: ['metrics:read'] } });
    const { secret, apiKey } = data.createApiKey;
    expect((await h.gql(secret, '{ dashboards { id } }')).status).toBe(200);

    // Another tenant's admin cannot revoke it (false, and the key keeps working); nor see it.
    expect((await h.gql(globexAdmin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: apiKey.id })).data).toEqual({ revokeApiKey: false });
    expect((await h.gql(globexAdmin, '{ apiKeys { id } }')).data.apiKeys.map((k: { id: string }) => k.id)).not.toContain(apiKey.id);
    expect((await h.gql(secret, '{ dashboards { id } }')).status).toBe(200);

    expect((await h.gql(acmeAdmin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: apiKey.id })).data).toEqual({ revokeApiKey: true });
    const refused = await h.gql(secret, '{ dashboards { id } }');
    expect(refused.status).toBe(401);
    expect(refused.errors).toEqual([{ message: 'API key has been revoked', extensions: { code: 'UNAUTHENTICATED' } }]);
    expect((await h.gql(acmeAdmin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: apiKey.id })).data).toEqual({ revokeApiKey: false });
    const listed = await h.gql(acmeAdmin, '{ apiKeys { id revokedAt } }');
    expect(listed.data.apiKeys.find((k: { id: string }) => k.id === apiKey.id).revokedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});

describe('audit log', () => {
  it("lists the caller's tenant only, newest first, with paging; needs audit:read", async () => {
    const acmeViewer = await h.token('acme', { roles: ['viewer'], subject: 'viewer@acme' });
    const globexViewer = await h.token('globex', { roles: ['viewer'], subject: 'viewer@globex' });
    await h.gql(acmeViewer, '{ campaigns { name } }');
    await h.gql(globexViewer, '{ adPerformance { clicks } }');
    await h.gql(acmeViewer, '{ adPerformance { platform clicks } }');
    await h.store.audit.flush();

    const acme = await h.gql(
      acmeAdmin,
      '{ auditLog(limit: 10, kind: "read") { id at subject door queryFingerprint members rows durationMs status errorCode clientAddress requestId } }',
    );
    expect(acme.errors).toBeUndefined();
    const entries = acme.data.auditLog;
    expect(entries.map((e: { subject: string }) => e.subject)).toEqual(['viewer@acme', 'viewer@acme']);
    expect(entries[0]).toMatchObject({
      door: 'graphql',
      members: ['ad_performance.clicks', 'ad_performance.platform'],
      rows: 1,
      status: 'ok',
      errorCode: null,
    });
    expect(entries[1].members).toEqual(['campaigns.name']);
    expect(Number(entries[0].id)).toBeGreaterThan(Number(entries[1].id));

    const page2 = await h.gql(acmeAdmin, `{ auditLog(limit: 1, kind: "read", before: "${entries[0].id}") { id } }`);
    expect(page2.data.auditLog).toEqual([{ id: entries[1].id }]);

    const globex = await h.gql(globexAdmin, '{ auditLog(kind: "read") { subject members } }');
    expect(globex.data.auditLog).toEqual([{ subject: 'viewer@globex', members: ['ad_performance.clicks'] }]);

    const forbidden = await h.gql(acmeViewer, '{ auditLog { id } }');
    expect(forbidden.errors?.[0]).toMatchObject({ message: 'field "Query.auditLog" requires scope "audit:read"', extensions: { code: 'FORBIDDEN' } });
    const tooMany = await h.gql(acmeAdmin, '{ auditLog(limit: 5000) { id } }');
    expect(tooMany.errors?.[0]).toMatchObject({ message: 'limit must be between 1 and 1000', extensions: { code: 'BAD_USER_INPUT' } });
    const badCursor = await h.gql(acmeAdmin, '{ auditLog(before: "abc") { id } }');
    expect(badCursor.errors?.[0]).toMatchObject({ message: '`before` must be the id of an audit entry', extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('ingest mutation', () => {
  it('passes the credential (never an argument) as the tenant and returns the report; needs ingest:write', async () => {
    const res = await h.gql(
      acmeAdmin,
      'mutation { ingest(table: "ad_performance", rows: [{clicks: 1}, {clicks: "x"}], batchId: "b-1") { batchId inserted quarantined { line reason } duplicate } }',
    );
    expect(res.data.ingest).toEqual({ batchId: 'b-1', inserted: 1, quarantined: [{ line: 2, reason: 'clicks must be a number' }], duplicate: false });
    expect(h.ingestCalls).toHaveLength(1);
    expect(h.ingestCalls[0]).toMatchObject({ table: 'ad_performance', rows: [{ clicks: 1 }, { clicks: 'x' }], batchId: 'b-1' });
    expect(h.ingestCalls[0].principal.tenantId).toBe('acme');
    const viewer = await h.gql(await h.token('acme', { roles: ['analyst'] }), 'mutation { ingest(table: "ad_performance", rows: []) { inserted } }');
    expect(viewer.errors?.[0]).toMatchObject({ message: 'field "Mutation.ingest" requires scope "ingest:write"', extensions: { code: 'FORBIDDEN' } });
    expect(h.ingestCalls).toHaveLength(1);
  });
});

describe('SDL', () => {
  it('every admin root field shows the scopes it requires', async () => {
    const { buildSchema } = await import('../../../../src/graphql/build-schema.js');
    const { adminExtensions } = await import('../../../../src/graphql/admin/extension.js');
    const { fixtureModel } = await import('../fixture-model.js');
    const sdl = printSchemaWithScopes(
      buildSchema(fixtureModel(), {
        extensions: adminExtensions({
          store: h.store,
          ingest: {
            ingest: async () => {
              throw new Error('unused');
            },
            batches: async () => [],
            quarantine: async () => [],
            replay: async () => {
              throw new Error('unused');
            },
            discard: async () => 0,
            deleteRows: async () => {
              throw new Error('unused');
            },
          },
          query: {} as never,
        }),
      }),
    );
    const expected: Record<string, string> = {
      apiKeys: 'keys:admin',
      createApiKey: 'keys:admin',
      revokeApiKey: 'keys:admin',
      dashboards: 'metrics:read',
      dashboard: 'metrics:read',
      createDashboard: 'dashboards:write',
      updateDashboard: 'dashboards:write',
      deleteDashboard: 'dashboards:write',
      savedQueries: 'metrics:read',
      savedQuery: 'metrics:read',
      runSavedQuery: 'metrics:read',
      createSavedQuery: 'dashboards:write',
      updateSavedQuery: 'dashboards:write',
      deleteSavedQuery: 'dashboards:write',
      auditLog: 'audit:read',
      ingest: 'ingest:write',
      result: 'metrics:read',
    };
    const printed = new Map<string, string[]>();
    for (const def of parse(sdl).definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
      for (const f of def.fields ?? []) {
        const d = f.directives?.find((x) => x.name.value === 'requiresScopes');
        const v = d?.arguments?.[0].value;
        if (v?.kind === Kind.LIST)
          printed.set(
            `${def.name.value}.${f.name.value}`,
            v.values.map((x) => (x.kind === Kind.STRING ? x.value : '?')),
          );
      }
    }
    const root = (f: string) => (f === 'result' ? 'DashboardWidget' : /^(create|update|delete|revoke|ingest)/.test(f) ? 'Mutation' : 'Query');
    for (const [field, scope] of Object.entries(expected)) expect(printed.get(`${root(field)}.${field}`), field).toEqual([scope]);
    expect(sdl).not.toMatch(/secretHash|secret_hash|tenantId/);
  });
});
