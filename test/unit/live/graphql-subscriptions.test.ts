import { parse, printSchema, subscribe, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { UserError } from '../../../src/errors.js';
import { buildSchema } from '../../../src/graphql/build-schema.js';
import { liveGraphQLContext, liveSubscriptions } from '../../../src/graphql/subscriptions.js';
import type { LiveService } from '../../../src/live/live-service.js';
import { createLogger } from '../../../src/logger.js';
import type { QueryResult, QueryService, RequestContext } from '../../../src/query/types.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { fixtureModel } from '../graphql/fixture-model.js';

const model = fixtureModel();

function result(rows: Record<string, number | string>[]): QueryResult {
  return {
    query: {} as QueryResult['query'],
    columns: [],
    rows,
    annotation: { measures: {}, dimensions: {}, segments: {}, timeDimensions: {} },
    lastRefreshTime: '2024-01-01T00:00:00.000Z',
    fromCache: false,
  };
}

/** A live service that records what it was asked and replays canned results. */
function fakeLive(values: QueryResult[]) {
  const asked: { ctx: RequestContext; query: SemanticQuery }[] = [];
  const live: LiveService = {
    subscribe(ctx, query) {
      if (!ctx.principal.scopes.has('metrics:read')) throw new UserError('FORBIDDEN', 'data reads require scope "metrics:read"');
      asked.push({ ctx, query });
      return (async function* () {
        yield* values;
      })();
    },
    notifyChanged() {},
    resync() {},
    stats: () => ({ subscriptions: 0, sharedQueries: 0, evaluations: 0, pushes: 0, byTenant: {} }),
    close: async () => {},
  };
  return { live, asked };
}

const principal = (scopes: string[]): Principal => ({ tenantId: 'acme', scopes: new Set(scopes), subject: 'u1', via: 'jwt', roles: [] });

function contextFor(p: Principal) {
  const make = liveGraphQLContext({ query: {} as QueryService, maxRowLimit: 1000, logger: createLogger('silent') });
  return make({ door: 'live', principal: p, requestId: 'r1' });
}

async function collect(it: AsyncIterable<ExecutionResult> | ExecutionResult): Promise<ExecutionResult[]> {
  if (!(Symbol.asyncIterator in it)) return [it];
  const out: ExecutionResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('GraphQL subscription fields', () => {
  it('adds a generic live field and one typed field per cube and view', () => {
    const { live } = fakeLive([]);
    const sdl = printSchema(buildSchema(model, { extensions: [liveSubscriptions(live, model)] }));
    const sub = sdl.slice(sdl.indexOf('type Subscription {'));
    expect(sub).toMatch(/live\(\s*"""[^"]*"""\s*query: JSON!\s*\): QueryResult/);
    expect(sub).toMatch(/adPerformance\([\s\S]*?where: AdPerformanceWhereInput[\s\S]*?\): \[AdPerformanceRow!\]/);
    expect(sub).toMatch(/marketingOverview\(/);
  });

  it('live(query) streams every result the service yields, with the door context', async () => {
    const { live, asked } = fakeLive([result([{ 'ad_performance.clicks': 1 }]), result([{ 'ad_performance.clicks': 2 }])]);
    const schema = buildSchema(model, { extensions: [liveSubscriptions(live, model)] });
    const doc = parse('subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }');
    const out = await collect(await subscribe({ schema, document: doc, contextValue: contextFor(principal(['metrics:read'])) }));
    expect(out.map((r) => r.data)).toEqual([{ live: { data: [{ 'ad_performance.clicks': 1 }] } }, { live: { data: [{ 'ad_performance.clicks': 2 }] } }]);
    expect(asked[0].query).toEqual({ measures: ['ad_performance.clicks'] });
    expect(asked[0].ctx.door).toBe('live');
    expect(asked[0].ctx.principal.tenantId).toBe('acme');
  });

  it('typed subscription builds the same SemanticQuery as the query field', async () => {
    const { live, asked } = fakeLive([
      result([{ 'ad_performance.clicks': 5, 'ad_performance.platform': 'google', 'ad_performance.date.day': '2024-01-02T00:00:00.000' }]),
    ]);
    const schema = buildSchema(model, { extensions: [liveSubscriptions(live, model)] });
    const doc = parse(`subscription {
      adPerformance(where: { platform: { equals: "google" }, date: { inDateRange: ["2024-01-01", "2024-01-31"] } }, orderBy: [{ clicks: DESC }], limit: 10) {
        clicks platform date(granularity: DAY)
      }
    }`);
    const out = await collect(await subscribe({ schema, document: doc, contextValue: contextFor(principal(['metrics:read'])) }));
    expect(out[0].errors).toBeUndefined();
    expect(out[0].data).toEqual({ adPerformance: [{ clicks: 5, platform: 'google', date: '2024-01-02T00:00:00.000' }] });
    expect(asked[0].query).toEqual({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-01-01', '2024-01-31'] }],
      filters: [{ member: 'ad_performance.platform', operator: 'equals', values: ['google'] }],
      order: [['ad_performance.clicks', 'desc']],
      limit: 10,
    });
  });

  it('a subscriber without the scope is refused when the subscription starts', async () => {
    const { live, asked } = fakeLive([result([])]);
    const schema = buildSchema(model, { extensions: [liveSubscriptions(live, model)] });
    const doc = parse('subscription { live(query: {measures: ["ad_performance.clicks"]}) { data } }');
    const out = await collect(await subscribe({ schema, document: doc, contextValue: contextFor(principal([])) }));
    expect(out).toHaveLength(1);
    expect(out[0].errors?.[0].message).toMatch(/metrics:read/);
    expect(asked).toHaveLength(0);
  });

  it('rejects unknown generic query keys before subscribing', async () => {
    const { live, asked } = fakeLive([result([])]);
    const schema = buildSchema(model, { extensions: [liveSubscriptions(live, model)] });
    const doc = parse('subscription { live(query: {measure: ["ad_performance.clicks"]}) { data } }');
    const out = await collect(await subscribe({ schema, document: doc, contextValue: contextFor(principal(['metrics:read'])) }));
    expect(out[0].errors?.[0].message).toBe('unknown query key "measure" — did you mean "measures"?');
    expect(asked).toHaveLength(0);
  });
});
