import { CubeApi } from '@cubejs-client/core';
import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../src/auth/authenticator.js';
import type { Principal } from '../../../src/auth/principal.js';
import { loadConfig } from '../../../src/config.js';
import { EngineError, ForbiddenError, UnauthenticatedError, UserError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { buildCatalog } from '../../../src/query/catalog.js';
import type { StrataQueryService } from '../../../src/query/query-service.js';
import type { RequestContext } from '../../../src/query/types.js';
import { createRestHandler, type RestHandler } from '../../../src/rest/handler.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { CHANNEL, CLICKS, DAY, fixtureModel, normalized, principal, result } from './fixtures.js';

/**
 * A stand-in query service (no database): clicks per day = the day of the month, per channel
 * "search" and "social" (social = half). Enough to check the REST shapes end to end through the
 * real @cubejs-client/core ResultSet.
 */
const model = fixtureModel();
const seen: RequestContext[] = [];
let failure: unknown;

function norm(p: Principal, q: SemanticQuery) {
  if (q.measures?.includes('ad_performance.cost') && !p.scopes.has('finance:read')) {
    throw new ForbiddenError('member "ad_performance.cost" requires scope finance:read', { member: 'ad_performance.cost' });
  }
  if (q.measures?.includes('nope.x')) throw new UserError('BAD_USER_INPUT', 'unknown member "nope.x"', { member: 'nope.x', suggestion: 'a.b' });
  const td = q.timeDimensions?.[0];
  const range = td?.dateRange as [string, string] | undefined;
  return normalized({
    measures: [...(q.measures ?? [])],
    dimensions: [...(q.dimensions ?? [])],
    timeDimensions: td
      ? [{ dimension: td.dimension, granularity: td.granularity, dateRange: range ? [`${range[0]}T00:00:00.000`, `${range[1]}T23:59:59.999`] : undefined }]
      : [],
    total: q.total ?? false,
  });
}

const service: StrataQueryService = {
  model,
  prepare: norm,
  compile: (p, q) => {
    const n = norm(p, q);
    return {
      normalized: n,
      compiled: {
        sql: 'SELECT sum(clicks) AS m0 FROM t WHERE tenant_id = {tenant:String}',
        params: { tenant: p.tenantId },
        columns: [CLICKS],
        cubes: ['ad_performance'],
      },
    };
  },
  catalog: (p) => buildCatalog(model, p),
  invalidate: () => {},
  admit: () => {},
  onInvalidate: () => {},
  auditReplay: () => {},
  refreshKeyValue: async () => undefined,
  async load(ctx, q) {
    seen.push(ctx);
    if (failure) throw failure;
    const n = norm(ctx.principal, q);
    const td = n.timeDimensions[0];
    const columns = [...(td ? [DAY] : []), ...(n.dimensions.length ? [CHANNEL] : []), CLICKS];
    const days: string[] = [];
    if (td?.dateRange) {
      for (
        let d = new Date(`${td.dateRange[0].slice(0, 10)}T00:00:00Z`);
        d.toISOString().slice(0, 10) <= td.dateRange[1].slice(0, 10);
        d.setUTCDate(d.getUTCDate() + 1)
      ) {
        days.push(d.toISOString().slice(0, 10));
      }
    }
    const rows = (td ? days : ['2024-01-01']).flatMap((day) =>
      (n.dimensions.length ? ['search', 'social'] : [null]).map((ch) => ({
        ...(td ? { 'ad_performance.date.day': `${day}T00:00:00.000` } : {}),
        ...(ch ? { 'ad_performance.channel': ch } : {}),
        'ad_performance.clicks': Number(day.slice(8)) / (ch === 'social' ? 2 : 1),
      })),
    );
    return result(n, columns, rows, n.total ? rows.length : undefined);
  },
};

const authenticator: Authenticator = {
  async authenticate(credential) {
    if (credential === 'acme-token') return principal();
    if (credential === 'viewer-token') return principal(['metrics:read', 'marketing:read']);
    if (credential === 'finance-token') return principal(['metrics:read', 'marketing:read', 'finance:read']);
    throw new UnauthenticatedError('invalid token: signature verification failed');
  },
};

const metrics = createMetrics();
const handler: RestHandler = createRestHandler({
  query: service,
  authenticator,
  config: loadConfig({ STRATA_ENV: 'test' }),
  logger: createLogger('silent'),
  metrics,
});

const API = 'http://strata.test/cubejs-api/v1';

async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = 'acme-token', ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', token);
  const res = await handler(new Request(`${API}${path}`, { ...rest, headers }), { socketAddress: '10.0.0.9' });
  return { status: res.status, headers: res.headers, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> };
}

const get = (path: string, query: unknown, extra = '', token?: string | null) =>
  call(`${path}?query=${encodeURIComponent(JSON.stringify(query))}${extra}`, { token });

/** A transport that hands the client's requests to the handler in-process, as fetch would. */
function inProcessClient(token: string) {
  return new CubeApi(token, {
    apiUrl: API,
    transport: {
      authorization: token,
      request(method: string, { baseRequestId, signal, ...params }: Record<string, unknown>) {
        const qs = new URLSearchParams(
          Object.entries(params)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
        );
        return {
          async subscribe(cb: (r: Response, next: () => unknown) => unknown) {
            void baseRequestId;
            void signal;
            const res = await handler(new Request(`${API}/${method}?${qs}`, { headers: { authorization: token } }));
            return cb(res, () => undefined);
          },
        };
      },
    } as never,
  });
}

describe('REST handler: load', () => {
  it('GET without queryType answers with the single-result shape', async () => {
    const r = await get('/load', { measures: ['ad_performance.clicks'] });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([{ 'ad_performance.clicks': 1 }]);
    expect(r.body.query).toMatchObject({ measures: ['ad_performance.clicks'], queryType: 'regularQuery', timezone: 'UTC' });
    expect(r.body.annotation.measures['ad_performance.clicks']).toMatchObject({
      title: 'ad_performance.clicks',
      type: 'number',
      drillMembers: ['ad_performance.id', 'campaigns.name'],
    });
    expect(r.body.lastRefreshTime).toBe('2024-03-01T00:00:00.000Z');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('queryType=multi wraps results with queryType and pivotQuery', async () => {
    const r = await get('/load', { measures: ['ad_performance.clicks'], total: true }, '&queryType=multi');
    expect(r.status).toBe(200);
    expect(r.body.queryType).toBe('regularQuery');
    expect(r.body.results).toHaveLength(1);
    expect(r.body.results[0].total).toBe(1);
    expect(r.body.pivotQuery).toMatchObject({ measures: ['ad_performance.clicks'], queryType: 'regularQuery' });
  });

  it('POST with a JSON body works like GET', async () => {
    const r = await call('/load', {
      method: 'POST',
      body: JSON.stringify({ query: { measures: ['ad_performance.clicks'] }, queryType: 'multi' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0].data).toEqual([{ 'ad_performance.clicks': 1 }]);
  });

  it('compareDateRange needs queryType=multi, then yields one result per range', async () => {
    const q = {
      measures: ['ad_performance.clicks'],
      timeDimensions: [
        {
          dimension: 'ad_performance.date',
          granularity: 'day',
          compareDateRange: [
            ['2024-01-01', '2024-01-02'],
            ['2024-02-01', '2024-02-02'],
          ],
        },
      ],
    };
    const refused = await get('/load', q);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/'compareDateRangeQuery' query type is not supported by the client/);
    const r = await get('/load', q, '&queryType=multi');
    expect(r.status).toBe(200);
    expect(r.body.queryType).toBe('compareDateRangeQuery');
    expect(r.body.results.map((x: any) => x.data.map((d: any) => d.compareDateRange))).toEqual([
      ['2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999', '2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999'],
      ['2024-02-01T00:00:00.000 - 2024-02-02T23:59:59.999', '2024-02-01T00:00:00.000 - 2024-02-02T23:59:59.999'],
    ]);
    expect(r.body.pivotQuery.dimensions).toEqual(['compareDateRange']);
  });

  it('builds the request context once: door rest, principal, client address, signal', async () => {
    seen.length = 0;
    await get(
      '/load',
      [{ measures: ['ad_performance.clicks'] }, { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.channel'] }],
      '&queryType=multi',
    );
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toMatchObject({ door: 'rest', clientAddress: '10.0.0.9' });
    expect(seen[0].principal.tenantId).toBe('acme');
    expect(seen[0].signal).toBeInstanceOf(AbortSignal);
  });

  it('ignores x-forwarded-for unless TRUST_PROXY says a proxy sets it; echoes a sane x-request-id', async () => {
    seen.length = 0;
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1', 'x-request-id': 'abc-123-span-1' };
    const r = await call(`/load?query=${encodeURIComponent('{"measures":["ad_performance.clicks"]}')}`, { headers });
    // Anyone can send the header: without a trusted proxy the socket's address is recorded.
    expect(seen[0].clientAddress).toBe('10.0.0.9');
    for (const [trust, expected] of [
      ['1', '10.0.0.1'],
      ['2', '203.0.113.7'],
      ['true', '10.0.0.1'],
    ] as const) {
      const behindProxy = createRestHandler({
        query: service,
        authenticator,
        config: loadConfig({ STRATA_ENV: 'test', TRUST_PROXY: trust }),
        logger: createLogger('silent'),
        metrics,
      });
      await behindProxy(
        new Request(`${API}/load?query=${encodeURIComponent('{"measures":["ad_performance.clicks"]}')}`, {
          headers: { ...headers, authorization: 'acme-token' },
        }),
        { socketAddress: '10.0.0.9' },
      );
      expect(seen.at(-1)?.clientAddress).toBe(expected);
    }
    expect(seen[0].requestId).toBe('abc-123-span-1');
    expect(r.headers.get('x-request-id')).toBe('abc-123-span-1');
    const bad = await call(`/load?query=${encodeURIComponent('{"measures":["ad_performance.clicks"]}')}`, { headers: { 'x-request-id': 'a b <c>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('REST handler: errors as Cube returns them', () => {
  it('no token or a bad token -> 403 with a clear message', async () => {
    const none = await get('/load', { measures: ['ad_performance.clicks'] }, '', null);
    expect(none.status).toBe(403);
    expect(none.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(none.body.error).toMatch(/Authorization header isn't set/);
    const bad = await get('/load', { measures: ['ad_performance.clicks'] }, '', 'forged');
    expect(bad.status).toBe(403);
    expect(bad.body).toMatchObject({ error: 'invalid token: signature verification failed', code: 'UNAUTHENTICATED' });
  });

  it('accepts "Bearer <token>" as well as the raw token', async () => {
    expect((await get('/load', { measures: ['ad_performance.clicks'] }, '', 'Bearer acme-token')).status).toBe(200);
  });

  it("a member outside the caller's scopes -> 403 FORBIDDEN naming the scope", async () => {
    const r = await get('/load', { measures: ['ad_performance.cost'] }, '', 'viewer-token');
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      error: 'member "ad_performance.cost" requires scope finance:read',
      code: 'FORBIDDEN',
      details: { member: 'ad_performance.cost' },
    });
  });

  it('bad input -> 400 with member and suggestion', async () => {
    const r = await get('/load', { measures: ['nope.x'] });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'unknown member "nope.x"', code: 'BAD_USER_INPUT', details: { member: 'nope.x', suggestion: 'a.b' } });
    const missing = await call('/load');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('Query param is required');
  });

  it('rate limiting -> 429 with Retry-After', async () => {
    failure = new UserError('RATE_LIMITED', 'rate limit exceeded for tenant "acme"; retry in 3s', { tenantId: 'acme', retryAfterMs: 2500 });
    try {
      const r = await get('/load', { measures: ['ad_performance.clicks'] });
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
      expect(r.body).toMatchObject({ code: 'RATE_LIMITED', error: 'rate limit exceeded for tenant "acme"; retry in 3s' });
      expect(r.body.details).toBeUndefined(); // tenantId and timings are not echoed
    } finally {
      failure = undefined;
    }
  });

  it('engine timeouts and outages -> 504 / 503; internal errors masked without stack', async () => {
    const cases: [unknown, number, string][] = [
      [new EngineError('QUERY_TIMEOUT', 'timeout after 30000ms', 'SELECT secret'), 504, 'QUERY_TIMEOUT'],
      [new EngineError('ENGINE_UNAVAILABLE', 'connect ECONNREFUSED', 'SELECT secret'), 503, 'ENGINE_UNAVAILABLE'],
      [new EngineError('ENGINE_ERROR', 'Code: 47. Unknown identifier', 'SELECT secret'), 500, 'INTERNAL'],
      [new TypeError('cannot read x of undefined'), 500, 'INTERNAL'],
    ];
    for (const [err, status, code] of cases) {
      failure = err;
      try {
        const r = await get('/load', { measures: ['ad_performance.clicks'] });
        expect(r.status).toBe(status);
        expect(r.body.code).toBe(code);
        const text = JSON.stringify(r.body);
        expect(text).not.toContain('SELECT secret');
        expect(text).not.toContain('stack');
        if (status === 500) expect(r.body.error).toBe('Unexpected error');
      } finally {
        failure = undefined;
      }
    }
  });

  it('unknown endpoints -> 404; wrong method -> 405; OPTIONS preflight -> 204', async () => {
    expect((await call('/nope')).status).toBe(404);
    expect((await call('/meta', { method: 'POST', body: '{}' })).status).toBe(405);
    const pre = await call('/load', { method: 'OPTIONS', token: null });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('counts requests by door, operation and status', async () => {
    const before =
      (await metrics.registry.getSingleMetricAsString('strata_requests_total')).match(/door="rest",operation="meta",status="200"} (\d+)/)?.[1] ?? '0';
    await call('/meta');
    const after = (await metrics.registry.getSingleMetricAsString('strata_requests_total')).match(/door="rest",operation="meta",status="200"} (\d+)/)?.[1];
    expect(Number(after)).toBe(Number(before) + 1);
  });
});

describe('REST handler: sql and dry-run', () => {
  it("/sql returns the compiled SQL in Cube's shape", async () => {
    const r = await get('/sql', { measures: ['ad_performance.clicks'] });
    expect(r.status).toBe(200);
    expect(r.body.sql.sql).toEqual(['SELECT sum(clicks) AS m0 FROM t WHERE tenant_id = {tenant:String}', { tenant: 'acme' }]);
    expect(r.body.sql.aliasNameToMember).toEqual({ m0: 'ad_performance.clicks' });
    const multi = await get('/sql', [{ measures: ['ad_performance.clicks'] }, { measures: ['ad_performance.clicks'] }]);
    expect(multi.body).toHaveLength(2);
  });

  it('/dry-run returns queryType, normalizedQueries, queryOrder and pivotQuery', async () => {
    const r = await get('/dry-run', {
      measures: ['ad_performance.clicks'],
      timeDimensions: [
        {
          dimension: 'ad_performance.date',
          granularity: 'day',
          compareDateRange: [
            ['2024-01-01', '2024-01-02'],
            ['2024-02-01', '2024-02-02'],
          ],
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.queryType).toBe('compareDateRangeQuery');
    expect(r.body.normalizedQueries).toHaveLength(2);
    expect(r.body.normalizedQueries[1].timeDimensions[0].dateRange).toEqual(['2024-02-01T00:00:00.000', '2024-02-02T23:59:59.999']);
    expect(r.body.queryOrder).toEqual([{}, {}]);
    expect(r.body.pivotQuery.dimensions).toEqual(['compareDateRange']);
  });

  it('/sql and /dry-run enforce scopes too', async () => {
    expect((await get('/sql', { measures: ['ad_performance.cost'] }, '', 'viewer-token')).status).toBe(403);
    expect((await get('/dry-run', { measures: ['ad_performance.cost'] }, '', 'viewer-token')).status).toBe(403);
  });
});

describe('REST handler with the real @cubejs-client/core ResultSet', () => {
  it('tablePivot, chartPivot and seriesNames read our load response', async () => {
    const api = inProcessClient('acme-token');
    const rs = await api.load({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.channel'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01', '2024-01-03'] }],
    });
    // Without a pivot config the table is flat: one row per (day, channel).
    expect(rs.tablePivot().slice(0, 2)).toEqual([
      { 'ad_performance.date.day': '2024-01-01T00:00:00.000', 'ad_performance.channel': 'search', 'ad_performance.clicks': 1 },
      { 'ad_performance.date.day': '2024-01-01T00:00:00.000', 'ad_performance.channel': 'social', 'ad_performance.clicks': 0.5 },
    ]);
    expect(rs.tablePivot({ x: ['ad_performance.date.day'], y: ['ad_performance.channel', 'measures'] })).toEqual([
      { 'ad_performance.date.day': '2024-01-01T00:00:00.000', 'search,ad_performance.clicks': 1, 'social,ad_performance.clicks': 0.5 },
      { 'ad_performance.date.day': '2024-01-02T00:00:00.000', 'search,ad_performance.clicks': 2, 'social,ad_performance.clicks': 1 },
      { 'ad_performance.date.day': '2024-01-03T00:00:00.000', 'search,ad_performance.clicks': 3, 'social,ad_performance.clicks': 1.5 },
    ]);
    expect(rs.chartPivot().map((r) => [r.x, r['search,ad_performance.clicks'], r['social,ad_performance.clicks']])).toEqual([
      ['2024-01-01T00:00:00.000', 1, 0.5],
      ['2024-01-02T00:00:00.000', 2, 1],
      ['2024-01-03T00:00:00.000', 3, 1.5],
    ]);
    expect(rs.seriesNames().map((s) => s.key)).toEqual(['search,ad_performance.clicks', 'social,ad_performance.clicks']);
  });

  it('compareDateRange pivots into one series per range', async () => {
    const rs = await inProcessClient('acme-token').load({
      measures: ['ad_performance.clicks'],
      timeDimensions: [
        {
          dimension: 'ad_performance.date',
          granularity: 'day',
          compareDateRange: [
            ['2024-01-01', '2024-01-02'],
            ['2024-01-11', '2024-01-12'],
          ],
        },
      ],
    });
    expect(rs.seriesNames().map((s) => s.key)).toEqual([
      '2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999,ad_performance.clicks',
      '2024-01-11T00:00:00.000 - 2024-01-12T23:59:59.999,ad_performance.clicks',
    ]);
    expect(
      rs
        .chartPivot()
        .map((r) => [
          r['2024-01-01T00:00:00.000 - 2024-01-02T23:59:59.999,ad_performance.clicks'],
          r['2024-01-11T00:00:00.000 - 2024-01-12T23:59:59.999,ad_performance.clicks'],
        ]),
    ).toEqual([
      [1, 11],
      [2, 12],
    ]);
  });

  it("meta() builds the client's member index from /meta", async () => {
    const meta = await inProcessClient('acme-token').meta();
    expect(meta.resolveMember('ad_performance.clicks', 'measures')).toMatchObject({ title: expect.any(String), aggType: 'sum' });
    expect(meta.resolveMember('ad_performance.cost', 'measures')).toMatchObject({ error: expect.stringContaining('Path not found') });
  });
});
