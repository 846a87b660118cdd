/**
 * Users and roles as data, work-based rate limits and usage, and the audit trail of changes and
 * refusals, through the real doors of one `strata serve` process (GraphQL over HTTP and graphql-ws,
 * REST, SQL proxy with `pg`): tenant roles resolve before built-in ones and deleting one ends the
 * open sessions that used it; a GraphQL request costs its root fields; usage is metered per tenant and
 * /metrics carries no tenant label; changes and refusals land in the audit trail, which is queryable
 * as the audit_events cube — and none of it shows one tenant another tenant's rows.
 */
import { createClient, type Client } from 'graphql-ws';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let s: ServerProcess;
const open: { dispose(): unknown }[] = [];

beforeAll(async () => {
  s = await startServerProcess({ ACCESS_RECHECK_INTERVAL_MS: '60000', RATE_LIMIT_ENABLED: 'true' });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.dispose()));
  await s?.stop();
});

async function token(tenantId: string, claims: { sub: string; scope?: string[]; roles?: string[]; name?: string; email?: string }): Promise<string> {
  const { sub, scope, ...rest } = claims;
  return new SignJWT({ tenant_id: tenantId, ...(scope ? { scope: scope.join(' ') } : {}), ...rest })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(s.jwtSecret));
}

type Gql = { status: number; body: { data?: Record<string, any>; errors?: { message: string; extensions?: Record<string, any> }[] } };
async function gql(credential: string, query: string, variables?: object, headers: Record<string, string> = {}): Promise<Gql> {
  const res = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Gql['body'] };
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const Q = 'query($q: JSON!) { query(query: $q) { data } }';
const CLICKS = { measures: ['ad_performance.clicks'] };
const ADMIN_SCOPES = ['tenant:admin', 'metrics:read', 'keys:admin', 'audit:read'];

describe('users and roles as data', () => {
  it('a tenant role resolves before the built-in ones, only in its tenant, and cannot grant what its author lacks', async () => {
    const alice = await token('acme', { sub: 'alice', scope: ADMIN_SCOPES, name: 'Alice Admin', email: 'alice@acme.test' });
    const put = 'mutation($i: PutRoleInput!) { putRole(input: $i) { name scopes builtIn } }';
    expect((await gql(alice, put, { i: { name: 'campaign_viewer', scopes: ['metrics:read'] } })).body.data?.putRole).toEqual({
      name: 'campaign_viewer',
      scopes: ['metrics:read'],
      builtIn: false,
    });
    expect((await gql(alice, put, { i: { name: 'sneaky', scopes: ['platform:admin'] } })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const moneyed = await gql(alice, put, { i: { name: 'moneyed', scopes: ['finance:read'] } });
    expect(moneyed.body.errors?.[0].extensions?.code, JSON.stringify(moneyed.body)).toBe('FORBIDDEN');
    // "viewer" redefined by acme: its viewers lose metrics:read; globex's viewers keep the built-in grant.
    expect((await gql(alice, put, { i: { name: 'viewer', scopes: ['audit:read'] } })).body.errors).toBeUndefined();

    const acmeUser = await token('acme', { sub: 'bob', roles: ['campaign_viewer'] });
    const globexUser = await token('globex', { sub: 'bob', roles: ['campaign_viewer'] });
    expect((await gql(acmeUser, Q, { q: CLICKS })).body.errors).toBeUndefined();
    expect((await gql(globexUser, Q, { q: CLICKS })).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const acmeViewer = await token('acme', { sub: 'carol', roles: ['viewer'] });
    const globexViewer = await token('globex', { sub: 'carol', roles: ['viewer'] });
    expect((await gql(acmeViewer, Q, { q: CLICKS })).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(globexViewer, Q, { q: CLICKS })).body.errors).toBeUndefined();

    const roles = (await gql(alice, '{ roles { name builtIn } }')).body.data?.roles as { name: string; builtIn: boolean }[];
    expect(roles).toContainEqual({ name: 'campaign_viewer', builtIn: false });
    expect(roles).toContainEqual({ name: 'viewer', builtIn: false });
    const globexAdmin = await token('globex', { sub: 'gina', scope: ADMIN_SCOPES });
    const globexRoles = (await gql(globexAdmin, '{ roles { name builtIn } }')).body.data?.roles as { name: string; builtIn: boolean }[];
    expect(globexRoles.filter((r) => !r.builtIn)).toEqual([]);
  });

  it('deleting a role ends the open WebSocket and SQL proxy sessions that used it within 5 s', async () => {
    const alice = await token('acme', { sub: 'alice', scope: ADMIN_SCOPES });
    await gql(alice, 'mutation($i: PutRoleInput!) { putRole(input: $i) { name } }', { i: { name: 'wall_screen', scopes: ['metrics:read'] } });
    const user = await token('acme', { sub: 'screen-1', roles: ['wall_screen'] });

    let onClosed!: (e: { code: number }) => void;
    const closed = new Promise<{ code: number }>((r) => (onClosed = r));
    const client: Client = createClient({
      url: `${s.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${user}` },
      retryAttempts: 0,
      on: { closed: (e) => onClosed(e as { code: number }) },
    });
    open.push(client);
    const it = client.iterate({ query: 'subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }' });
    expect((await it.next()).value).toHaveProperty('data.live');
    void (async () => {
      try {
        for (;;) if ((await it.next()).done) break;
      } catch {
        /* closed */
      }
    })();
    const sql = new pg.Client({ host: '127.0.0.1', port: s.sqlProxyPort, user: 'bi', database: 'strata', password: user });
    const ended = new Promise<{ code?: string }>((r) => sql.on('error', (e) => r(e as { code?: string })));
    await sql.connect();
    open.push({ dispose: () => sql.end().catch(() => undefined) });
    expect((await sql.query('SELECT SUM(clicks) AS clicks FROM ad_performance')).rows).toHaveLength(1);

    expect((await gql(alice, 'mutation { deleteRole(name: "wall_screen") }')).body.data).toEqual({ deleteRole: true });
    const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, no) => setTimeout(() => no(new Error('not within 5 s')), 5_000))]);
    expect((await within(closed)).code).toBe(4401);
    expect((await within(ended)).code).toBe('28000');
  });

  it('records the principals seen per tenant with their claims and doors, and shows each tenant only its own', async () => {
    const alice = await token('acme', { sub: 'alice', scope: ADMIN_SCOPES, name: 'Alice Admin', email: 'alice@acme.test' });
    await fetch(`${s.url}/cubejs-api/v1/load`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: CLICKS }),
    });
    const users = await eventually(async () => {
      const list = (await gql(alice, '{ users { subject via name email doors firstSeen lastSeen } }')).body.data?.users as any[];
      const a = list?.find((u) => u.subject === 'alice');
      return a?.doors.includes('rest') ? list : undefined;
    }, 'alice recorded with the rest door');
    const a = users.find((u) => u.subject === 'alice');
    expect(a).toMatchObject({ via: 'jwt', name: 'Alice Admin', email: 'alice@acme.test' });
    expect(a.doors).toEqual(expect.arrayContaining(['graphql', 'rest']));
    expect(users.map((u) => u.subject)).toContain('bob');
    const globexAdmin = await token('globex', { sub: 'gina', scope: ADMIN_SCOPES });
    const theirs = await eventually(async () => {
      const list = (await gql(globexAdmin, '{ users { subject } }')).body.data?.users as { subject: string }[];
      return list?.some((u) => u.subject === 'gina') && list.some((u) => u.subject === 'carol') ? list : undefined;
    }, 'globex principals recorded');
    expect(theirs.map((u) => u.subject)).not.toContain('alice');
    // bob and carol exist in both tenants as different principals: globex sees its own only.
    expect(theirs.map((u) => u.subject).sort()).toEqual(expect.arrayContaining(['bob', 'carol', 'gina']));
    expect(theirs.every((u) => !['alice', 'screen-1'].includes(u.subject))).toBe(true);
  });
});

describe('work, not requests: cost, usage and operator totals', () => {
  it('a GraphQL request costs one per root field, charged before it runs (429 past the burst)', async () => {
    const operator = await token('acme', { sub: 'ops', scope: ['platform:admin'] });
    const created = await gql(operator, 'mutation($i: CreateTenantInput!) { createTenant(input: $i) { id } }', {
      i: { id: 'umbrella', name: 'Umbrella', plan: 'free', settings: { rateLimit: { perSecond: 0.01, burst: 30 } } },
    });
    expect(created.body.errors).toBeUndefined();
    const u = await token('umbrella', { sub: 'u1', scope: ['metrics:read', 'tenant:admin'] });
    const fields = (n: number, from = 1) =>
      `{ ${Array.from({ length: n }, (_, i) => `f${i}: query(query: {measures: ["ad_performance.clicks"], limit: ${from + i}}) { data }`).join(' ')} }`;
    const first = await gql(u, fields(20));
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    // 10 tokens left: a second 20-field request is refused whole, before any of it runs.
    const second = await gql(u, fields(20, 100));
    expect(second.status).toBe(429);
    expect(second.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(second.body.data ?? null).toBeNull();
    // More than the burst at once can never pass: said so.
    expect((await gql(u, fields(32, 200))).body.errors?.[0].message).toMatch(/more than your plan allows at once \(30\)/);

    const usage = await eventually(async () => {
      const v = (await gql(u, '{ usage { tenant queries rowsRead bytesReturned refused queryQuota } }')).body.data?.usage;
      return v?.queries === 20 && v.refused >= 2 ? v : undefined;
    }, 'umbrella usage metered');
    expect(usage).toMatchObject({ tenant: 'umbrella', queries: 20, queryQuota: 100_000 });
    expect(usage.bytesReturned).toBeGreaterThan(0);
    expect(usage.rowsRead).toBeGreaterThan(0);

    const totals = (await gql(operator, '{ platformUsage { queries tenants { tenant queries } } }')).body.data?.platformUsage;
    const sum = totals.tenants.reduce((n: number, t: { queries: number }) => n + t.queries, 0);
    expect(totals.queries).toBe(sum);
    expect(totals.tenants.find((t: { tenant: string }) => t.tenant === 'umbrella').queries).toBe(20);
    // A tenant admin cannot read the operator totals.
    expect((await gql(u, '{ platformUsage { queries } }')).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('/metrics has operator totals and no tenant label', async () => {
    const operator = await token('acme', { sub: 'ops', scope: ['platform:metrics'] });
    const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${operator}` } })).text();
    expect(text).toMatch(/^strata_usage_queries_total \d+/m);
    expect(text).toMatch(/^strata_refusals_total\{code="RATE_LIMITED"\} \d+/m);
    expect(text).not.toMatch(/tenant="/);
    expect(text).not.toMatch(/umbrella|globex|acme/);
  });
});

describe('the audit trail: changes, refusals, and a cube', () => {
  it('records changes with actor, before/after, request id, address and user agent; refusals from every door', async () => {
    const alice = await token('acme', { sub: 'alice', scope: ADMIN_SCOPES });
    const headers = { 'x-request-id': 'audit-e2e-create-key', 'user-agent': 'audit-e2e/1.0' };
    const created = (
      await gql(
        alice,
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id } } }',
        { i: { name: 'audited', scopes: ['metrics:read'] } },
        headers,
      )
    ).body.data?.createApiKey;
    await gql(alice, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: created.apiKey.id });
    // Refusals: a revoked key at REST, a missing scope at GraphQL (admin field) and at the SQL proxy (member scope).
    const rest = await fetch(`${s.url}/cubejs-api/v1/load`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: CLICKS }),
    });
    expect(rest.status).toBe(403); // REST answers 403 for a refused credential (Cube's client expects it)
    const reader = await token('acme', { sub: 'dave', scope: ['metrics:read'] });
    expect((await gql(reader, '{ apiKeys { id } }')).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const sql = new pg.Client({ host: '127.0.0.1', port: s.sqlProxyPort, user: 'bi', database: 'strata', password: reader });
    await sql.connect();
    await expect(sql.query('SELECT SUM(cost) FROM ad_performance')).rejects.toMatchObject({ code: '42501' });
    await sql.end();

    let last: any[] | undefined;
    const entries = await eventually(async () => {
      const list = (await gql(alice, '{ auditLog(limit: 200) { kind action target subject door errorCode requestId userAgent clientAddress before after } }'))
        .body.data?.auditLog as any[];
      const done = list?.some((e) => e.action === 'api_key.revoke') && list.some((e) => e.door === 'sqlproxy' && e.kind === 'refusal');
      last = list;
      return done ? list : undefined;
    }, 'audit entries').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(last?.filter((x) => x.kind !== 'read'))}`);
    });
    const create = entries.find((e) => e.action === 'api_key.create' && e.target === created.apiKey.id);
    expect(create).toMatchObject({
      kind: 'change',
      subject: 'alice',
      door: 'graphql',
      requestId: 'audit-e2e-create-key',
      userAgent: 'audit-e2e/1.0',
      before: null,
    });
    expect(create.clientAddress).toBeTruthy();
    expect(create.after).toMatchObject({ id: created.apiKey.id, scopes: ['metrics:read'] });
    expect(JSON.stringify(entries)).not.toContain(created.secret);
    const revoke = entries.find((e) => e.action === 'api_key.revoke');
    expect(revoke.before).toMatchObject({ id: created.apiKey.id, revokedAt: null });
    expect(revoke.after.revokedAt).toBeTruthy();
    expect(entries.find((e) => e.action === 'role.create' && e.target === 'campaign_viewer')).toMatchObject({ after: { scopes: ['metrics:read'] } });
    expect(entries.find((e) => e.action === 'role.delete' && e.target === 'wall_screen')).toMatchObject({ before: { scopes: ['metrics:read'] } });
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'refusal', door: 'rest', errorCode: 'UNAUTHENTICATED', action: 'authenticate' }));
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'refusal', door: 'graphql', errorCode: 'FORBIDDEN', subject: 'dave' }));
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'refusal', door: 'sqlproxy', errorCode: 'FORBIDDEN', subject: 'dave' }));

    // The umbrella tenant's 429s and its creation by the operator are in its own trail, not acme's.
    const u = await token('umbrella', { sub: 'u1', scope: ['audit:read'] });
    const theirs = (await gql(u, '{ auditLog(limit: 200) { kind action errorCode subject } }')).body.data?.auditLog as any[];
    expect(theirs).toContainEqual(expect.objectContaining({ kind: 'refusal', errorCode: 'RATE_LIMITED', subject: 'u1' }));
    expect(theirs).toContainEqual(expect.objectContaining({ kind: 'change', action: 'tenant.create', subject: 'ops' }));
    expect(theirs.some((e) => ['alice', 'dave', 'bob'].includes(e.subject))).toBe(false);
    expect(entries.some((e) => e.subject === 'u1')).toBe(false);
  });

  it('answers "actions by user per day" as an ordinary semantic query, tenant-scoped, behind audit:read', async () => {
    const alice = await token('acme', { sub: 'alice', scope: ADMIN_SCOPES });
    const q = {
      measures: ['audit_events.count', 'audit_events.client_addresses'],
      dimensions: ['audit_events.subject', 'audit_events.kind'],
      timeDimensions: [{ dimension: 'audit_events.at', granularity: 'day' }],
    };
    let lastCube: unknown;
    const rows = await eventually(async () => {
      const res = await gql(alice, Q, { q });
      lastCube = res.body;
      const r = res.body.data?.query.data as any[] | undefined;
      return r?.some((x) => x['audit_events.subject'] === 'dave' && x['audit_events.kind'] === 'refusal') ? r : undefined;
    }, 'the audit cube has the refusals').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(lastCube).slice(0, 1500)}`);
    });
    expect(rows.find((x) => x['audit_events.subject'] === 'alice' && x['audit_events.kind'] === 'change')['audit_events.count']).toBeGreaterThanOrEqual(4);
    const subjects = new Set(rows.map((x) => x['audit_events.subject']));
    expect(subjects.has('u1')).toBe(false);
    expect(subjects.has('gina')).toBe(false);
    // Isolation: the same query for umbrella holds umbrella's subjects only.
    const u = await token('umbrella', { sub: 'u1', scope: ['audit:read', 'metrics:read'] });
    const theirs = (await gql(u, Q, { q })).body.data?.query.data as any[];
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((x) => ['u1', 'ops', 'system'].includes(x['audit_events.subject']))).toBe(true);
    // Without audit:read the cube is refused.
    const reader = await token('acme', { sub: 'dave', scope: ['metrics:read'] });
    expect((await gql(reader, Q, { q })).body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
