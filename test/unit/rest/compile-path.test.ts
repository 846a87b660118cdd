/**
 * The REST door over the real query service and the real authenticator (JWT, HS256), for the
 * endpoints that never execute: /sql, /dry-run, /meta. No engine is involved.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { loadConfig } from '../../../src/config.js';
import type { Engine } from '../../../src/engine/engine.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createQueryService } from '../../../src/query/query-service.js';
import { createRestHandler } from '../../../src/rest/handler.js';
import { fixtureModel } from './fixtures.js';

const config = loadConfig({ STRATA_ENV: 'test', JWT_SECRET: 'rest-unit-secret' });
const noEngine = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('no engine in this test');
    },
  },
) as Engine;
const handler = createRestHandler({
  query: createQueryService({ model: fixtureModel(), engine: noEngine, limits: { defaultRowLimit: 100, maxRowLimit: 1000 }, queryTimeoutMs: 1000 }),
  authenticator: createAuthenticator({ auth: config.auth }),
  config,
  logger: createLogger('silent'),
  metrics: createMetrics(),
});

const token = (tenant: string, scope: string) =>
  new SignJWT({ tenant_id: tenant, scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('u1')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('rest-unit-secret'));

async function get(path: string, query: unknown, tok: string) {
  const res = await handler(
    new Request(`http://x/cubejs-api/v1/${path}?query=${encodeURIComponent(JSON.stringify(query))}`, { headers: { authorization: tok } }),
  );
  return { status: res.status, body: (await res.json()) as any };
}

const q = {
  measures: ['ad_performance.clicks'],
  dimensions: ['ad_performance.channel'],
  timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01', '2024-01-31'] }],
};

describe('REST over the real query service', () => {
  it("/sql carries only the caller's tenant as a parameter, never inlined", async () => {
    const r = await get('sql', q, await token('globex', 'metrics:read marketing:read'));
    expect(r.status).toBe(200);
    const [text, params] = r.body.sql.sql;
    expect(params.tenant).toBe('globex');
    expect(text).toContain('{tenant:String}');
    expect(text).not.toContain('globex');
    expect(r.body.sql.order).toEqual({ 'ad_performance.date.day': 'asc' });
    expect(Object.values(r.body.sql.aliasNameToMember)).toEqual(['ad_performance.channel', 'ad_performance.date.day', 'ad_performance.clicks']);
  });

  it("/dry-run normalizes relative and absolute ranges the compiler's way", async () => {
    const r = await get('dry-run', q, await token('acme', 'metrics:read marketing:read'));
    expect(r.status).toBe(200);
    expect(r.body.queryType).toBe('regularQuery');
    expect(r.body.normalizedQueries[0].timeDimensions).toEqual([
      { dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] },
    ]);
    expect(r.body.normalizedQueries[0].order).toEqual([{ id: 'ad_performance.date.day', desc: false }]);
    expect(r.body.queryOrder).toEqual([{ 'ad_performance.date.day': 'asc' }]);
  });

  it("a member outside the token's scopes -> 403 naming the scope, on every endpoint", async () => {
    const viewer = await token('acme', 'metrics:read marketing:read');
    for (const path of ['sql', 'dry-run']) {
      const r = await get(path, { measures: ['ad_performance.cost'] }, viewer);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'FORBIDDEN', error: 'member "ad_performance.cost" requires scope "finance:read"' });
    }
    const analyst = await token('acme', 'metrics:read marketing:read finance:read');
    expect((await get('sql', { measures: ['ad_performance.cost'] }, analyst)).status).toBe(200);
  });

  it('an unknown member -> 400 with a suggestion', async () => {
    const r = await get('sql', { measures: ['ad_performance.clik'] }, await token('acme', 'metrics:read marketing:read'));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BAD_USER_INPUT');
    expect(r.body.details.suggestion).toBe('ad_performance.clicks');
  });

  it('a token signed with another secret -> 403 UNAUTHENTICATED', async () => {
    const forged = await new SignJWT({ tenant_id: 'acme', scope: 'metrics:read' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('wrong'));
    const r = await get('meta', {}, forged);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('UNAUTHENTICATED');
  });

  it('"cube.time.granularity" in dimensions compiles as a time dimension', async () => {
    const r = await get(
      'dry-run',
      { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.date.month'] },
      await token('acme', 'metrics:read marketing:read'),
    );
    expect(r.status).toBe(200);
    expect(r.body.normalizedQueries[0].timeDimensions).toEqual([{ dimension: 'ad_performance.date', granularity: 'month' }]);
  });
});
