/** The edge of the door: authentication, scopes, errors, limits, catalog and metrics. */
import { getIntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EngineError, UserError } from '../../../src/errors.js';
import { createHarness } from './harness.js';

describe('authentication', () => {
  it('no credential, a bad one, and introspection without one are HTTP 401 with code UNAUTHENTICATED', async () => {
    const h = createHarness();
    const missing = await h.post({ query: '{ catalog { cubes { name } } }' }, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(await missing.json()).toEqual({
      errors: [
        {
          message: 'missing credential: the Authorization header isn\'t set; send "Authorization: Bearer <JWT or API key>"',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });

    const bad = await h.post({ query: '{ campaigns { name } }' }, { token: 'forged' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ errors: [{ message: 'invalid token: signature verification failed', extensions: { code: 'UNAUTHENTICATED' } }] });

    const introspection = await h.post({ query: getIntrospectionQuery() }, { token: null });
    expect(introspection.status).toBe(401);
    expect(h.calls).toHaveLength(0);
  });

  it('a bare token (no "Bearer") is accepted; the tenant and request id come from the request, not from arguments', async () => {
    const h = createHarness();
    const res = await h.post({ query: '{ campaigns { name } }' }, { token: null, headers: { authorization: 'other', 'x-request-id': 'req-42' } });
    expect(res.status).toBe(200);
    expect(h.calls[0].ctx.principal.tenantId).toBe('globex');
    expect(h.calls[0].ctx.requestId).toBe('req-42');
    const schema = await h.gql('{ __schema { types { name inputFields { name } fields { name args { name } } } } }');
    const names = JSON.stringify(schema.data);
    expect(names).not.toMatch(/tenant/i);
  });
});

describe('GraphiQL', () => {
  it('renders in development only; the page needs no token, its queries do', async () => {
    const html = { headers: { accept: 'text/html' } };
    const dev = await createHarness({ STRATA_ENV: 'development' }).fetch('http://localhost/graphql', html);
    expect(dev.status).toBe(200);
    expect(await dev.text()).toContain('Strata GraphiQL');
    const prod = await createHarness().fetch('http://localhost/graphql', html);
    expect(prod.status).toBe(401);
  });
});

describe('scopes', () => {
  it('a member the caller may not read answers FORBIDDEN once; the rest of the query still answers', async () => {
    const h = createHarness();
    const res = await h.gql('{ adPerformance { platform clicks spend } campaigns { name } }', undefined, 'viewer');
    expect(h.calls.map((c) => c.query)).toEqual([
      { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.platform'] },
      { dimensions: ['campaigns.name'] },
    ]);
    expect(res.data).toEqual({
      adPerformance: [
        { platform: 'platform-0', clicks: 10, spend: null },
        { platform: 'platform-1', clicks: 20, spend: null },
      ],
      campaigns: [{ name: 'name-0' }, { name: 'name-1' }],
    });
    expect(res.errors).toEqual([
      {
        message: 'member "ad_performance.spend" requires scope "finance:read"',
        locations: [{ line: 1, column: 35 }],
        path: ['adPerformance', 0, 'spend'],
        extensions: { code: 'FORBIDDEN', member: 'ad_performance.spend', scopes: ['finance:read'] },
      },
    ]);
  });

  it('with the scope the member is queried; with only forbidden members the root field is FORBIDDEN without a query', async () => {
    const h = createHarness();
    const ok = await h.gql('{ adPerformance { spend } }', undefined, 'analyst');
    expect(ok.errors).toBeUndefined();
    expect(h.calls[0].query).toEqual({ measures: ['ad_performance.spend'] });

    const denied = await h.gql('{ campaigns { budget } adPerformance { clicks } }', undefined, 'viewer');
    expect(denied.data.campaigns).toBeNull();
    expect(denied.data.adPerformance).toHaveLength(2);
    expect(denied.errors).toMatchObject([
      { message: 'member "campaigns.budget" requires scope "finance:read"', path: ['campaigns'], extensions: { code: 'FORBIDDEN' } },
    ]);
    expect(h.calls).toHaveLength(2);
  });

  it('root fields require metrics:read', async () => {
    const h = createHarness();
    const res = await h.gql('{ campaigns { name } catalog { cubes { name } } }', undefined, 'nobody');
    expect(res.data).toEqual({ campaigns: null, catalog: null });
    expect(res.errors?.map((e) => [e.path[0], e.extensions.code, e.message])).toEqual([
      ['campaigns', 'FORBIDDEN', 'field "Query.campaigns" requires scope "metrics:read"'],
      ['catalog', 'FORBIDDEN', 'field "Query.catalog" requires scope "metrics:read"'],
    ]);
    expect(h.calls).toHaveLength(0);
  });
});

describe('errors', () => {
  it('user errors keep code, member and suggestion; engine timeouts keep their code', async () => {
    const h = createHarness();
    h.answer = () => {
      throw new UserError('BAD_USER_INPUT', 'unknown member "ad_performance.clik" — did you mean "ad_performance.clicks"?', {
        member: 'ad_performance.clik',
        suggestion: 'ad_performance.clicks',
      });
    };
    const bad = await h.gql('{ query(query: { measures: ["ad_performance.clik"] }) { data } }');
    expect(bad.errors).toEqual([
      {
        message: 'unknown member "ad_performance.clik" — did you mean "ad_performance.clicks"?',
        locations: [{ line: 1, column: 3 }],
        path: ['query'],
        extensions: { code: 'BAD_USER_INPUT', member: 'ad_performance.clik', suggestion: 'ad_performance.clicks' },
      },
    ]);

    h.answer = () => {
      throw new EngineError('QUERY_TIMEOUT', 'query exceeded the 30000 ms timeout', 'SELECT secret', {});
    };
    const slow = await h.gql('{ campaigns { name } }');
    // The same fixed message as every door (edge/errors.ts), never the engine's own text.
    expect(slow.errors).toMatchObject([{ message: 'Query timed out', extensions: { code: 'QUERY_TIMEOUT' } }]);
    expect(JSON.stringify(slow)).not.toContain('SELECT');
  });

  it('internal errors are masked as "Unexpected error." and logged with the request id', async () => {
    const h = createHarness();
    h.answer = () => {
      throw new Error('connection string postgres://admin:hunter2@db leaked');
    };
    const res = await h.post({ query: '{ campaigns { name } }' }, { headers: { 'x-request-id': 'req-7' } });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-7');
    expect(body).toEqual({
      data: { campaigns: null },
      errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['campaigns'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    const line = h.logs.find((l) => l.msg === 'graphql: unexpected error (masked)');
    expect(line).toMatchObject({
      requestId: 'req-7',
      tenantId: 'acme',
      path: 'campaigns',
      err: { message: 'connection string postgres://admin:hunter2@db leaked' },
    });
    expect(h.logs.filter((l) => l.level === 50)).toHaveLength(1);

    h.answer = () => {
      throw new EngineError('ENGINE_ERROR', 'Code: 62. Syntax error', 'SELECT 1', {});
    };
    const engine = await h.gql('{ campaigns { name } }');
    expect(engine.errors).toMatchObject([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
  });

  it('a limit above the server maximum, or a negative offset, is BAD_USER_INPUT before any query', async () => {
    const h = createHarness({ MAX_ROW_LIMIT: '100', DEFAULT_ROW_LIMIT: '10' });
    const res = await h.gql('{ campaigns(limit: 101) { name } }');
    expect(res.errors).toMatchObject([{ message: 'limit 101 exceeds the maximum of 100 rows; page with offset', extensions: { code: 'BAD_USER_INPUT' } }]);
    const generic = await h.gql('{ query(query: { measures: ["campaigns.count"], offset: -1 }) { data } }');
    expect(generic.errors).toMatchObject([{ message: 'offset must be >= 0, got -1', extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(h.calls).toHaveLength(0);
  });

  it('unknown fields fail validation with a suggestion', async () => {
    const h = createHarness();
    const res = await h.gql('{ adPerformance { clik } }');
    expect(res.errors?.[0].message).toBe('Cannot query field "clik" on type "AdPerformanceRow". Did you mean "clicks"?');
    expect(res.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('limits', () => {
  it('depth beyond maxDepth is refused; standard introspection still fits', async () => {
    const shallow = createHarness({ MAX_QUERY_DEPTH: '3' });
    const deep = await shallow.gql('query Deep { catalog { cubes { measures { name } } } }');
    expect(deep.errors).toMatchObject([{ message: 'operation "Deep" is nested 4 levels deep; the maximum is 3', extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(deep.data).toBeUndefined();
    // getIntrospectionQuery() nests 15 levels, 9 of them `ofType` (a chain, not a fan-out).
    const h = createHarness({ MAX_QUERY_DEPTH: '6' });
    const intro = await h.gql(getIntrospectionQuery());
    expect(intro.errors).toBeUndefined();
    expect(intro.data.__schema.queryType.name).toBe('Query');
  });

  it('complexity counts fields after fragment expansion, data root fields weighing 10', async () => {
    const h = createHarness({ MAX_QUERY_COMPLEXITY: '30' });
    // 2 x (10 + 3 fields) = 26: allowed
    const ok = await h.gql('{ a: campaigns { ...F } b: campaigns { ...F } } fragment F on CampaignsRow { name count __typename }');
    expect(ok.errors).toBeUndefined();
    // 3 x 13 = 39: refused, nothing runs
    const calls = h.calls.length;
    const tooMuch = await h.gql('{ a: campaigns { ...F } b: campaigns { ...F } c: campaigns { ...F } } fragment F on CampaignsRow { name count __typename }');
    expect(tooMuch.errors).toMatchObject([
      { message: 'the operation has complexity 39; the maximum is 30 (each field costs 1, each data root field 10)', extensions: { code: 'BAD_USER_INPUT' } },
    ]);
    expect(h.calls.length).toBe(calls);
  });
});

describe('catalog', () => {
  it('lists what the caller may read with GraphQL names, joins and example queries', async () => {
    const h = createHarness();
    const q =
      '{ catalog { cubes { name kind graphqlField measures { path graphqlName aggType format requiredScopes } segments { graphqlName } exampleQuery } joins { from to relationship } } }';
    const analyst = await h.gql(q, undefined, 'analyst');
    expect(analyst.errors).toBeUndefined();
    const ad = analyst.data.catalog.cubes.find((c: { name: string }) => c.name === 'ad_performance');
    expect(ad.graphqlField).toBe('adPerformance');
    expect(ad.measures).toContainEqual({
      path: 'ad_performance.spend',
      graphqlName: 'spend',
      aggType: 'sum',
      format: 'currency',
      requiredScopes: ['finance:read'],
    });
    expect(ad.segments).toEqual([{ graphqlName: 'HIGH_SPEND' }]);
    expect(ad.exampleQuery.measures).toEqual(['ad_performance.clicks', 'ad_performance.impressions']);
    expect(analyst.data.catalog.joins).toEqual([{ from: 'ad_performance', to: 'campaigns', relationship: 'many_to_one' }]);
    expect(analyst.data.catalog.cubes.map((c: { name: string; kind: string; graphqlField: string }) => [c.name, c.kind, c.graphqlField])).toEqual([
      ['ad_performance', 'cube', 'adPerformance'],
      ['campaigns', 'cube', 'campaigns'],
      ['marketing_overview', 'view', 'marketingOverview'],
    ]);

    const viewer = await h.gql(q, undefined, 'viewer');
    const paths = viewer.data.catalog.cubes.flatMap((c: { measures: { path: string }[] }) => c.measures.map((m) => m.path));
    expect(paths).not.toContain('ad_performance.spend');
    expect(paths).not.toContain('ad_performance.internal_cost');
    expect(paths).toContain('ad_performance.clicks');
  });
});

describe('metrics', () => {
  it('counts requests by operation and status and observes latency', async () => {
    const h = createHarness();
    await h.gql('query ByPlatform { adPerformance { platform clicks } }');
    await h.gql('query ByPlatform { adPerformance { platform spend } }', undefined, 'viewer');
    await h.post({ query: '{ campaigns { name } }' }, { token: null });
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('strata_requests_total{door="graphql",operation="ByPlatform",status="ok"} 1');
    expect(text).toContain('strata_requests_total{door="graphql",operation="ByPlatform",status="error"} 1');
    expect(text).toContain('strata_requests_total{door="graphql",operation="unauthenticated",status="unauthenticated"} 1');
    expect(text).toContain('strata_request_duration_seconds_count{door="graphql",operation="ByPlatform"} 2');
  });
});
