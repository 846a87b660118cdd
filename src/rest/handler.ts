/**
 * Cube-compatible REST door: /cubejs-api/v1/{load,subscribe,meta,sql,dry-run}.
 * Parses Cube's request shapes into semantic queries, runs them through the query service and
 * answers in Cube's response shapes, so @cubejs-client/core apps work unchanged.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import { toPublicError } from '../edge/errors.js';
import { authenticateHttp, httpRequestId, type HttpPeer, jsonErrorBody } from '../edge/http.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { StrataQueryService } from '../query/query-service.js';
import type { CompileResult, RequestContext } from '../query/types.js';
import { blendingGranularity, formatResult, orderMap, pivotQuery, toCubeQuery } from './format.js';
import { QUERY_GRAMMAR } from '../query/agent-catalog.js';
import { toCubeMeta } from './meta.js';
import { type LoadPlan, planQueries } from './query-plan.js';
import { type RestParams, parseQueryParam, readParams } from './request.js';

export interface RestDeps {
  readonly query: StrataQueryService;
  readonly authenticator: Authenticator;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type RestHandler = (request: Request, peer?: HttpPeer) => Promise<Response>;

export const REST_BASE_PATH = '/cubejs-api/v1';

type Operation = 'load' | 'meta' | 'sql' | 'dry-run';

const ROUTES: Readonly<Record<string, { op: Operation; methods: readonly string[] }>> = {
  load: { op: 'load', methods: ['GET', 'POST'] },
  // Cube's polling "subscribe" is a load that the client repeats; answering like load is enough.
  subscribe: { op: 'load', methods: ['GET', 'POST'] },
  meta: { op: 'meta', methods: ['GET'] },
  sql: { op: 'sql', methods: ['GET', 'POST'] },
  'dry-run': { op: 'dry-run', methods: ['GET', 'POST'] },
};

// Tokens travel in a header, never in cookies, so any origin may call (like Cube's default CORS).
const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type, x-request-id',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-expose-headers': 'x-request-id, retry-after',
  'access-control-max-age': '600',
};

export function createRestHandler(deps: RestDeps): RestHandler {
  const { query: service, config, logger, metrics } = deps;

  return async function handle(request: Request, peer: HttpPeer = {}): Promise<Response> {
    const started = performance.now();
    const requestId = httpRequestId(request);
    const url = new URL(request.url);
    const route = routeOf(url.pathname);
    let operation: string = route?.op ?? 'unknown';
    let response: Response;

    try {
      if (request.method === 'OPTIONS') {
        operation = 'preflight';
        response = new Response(null, { status: 204, headers: { ...CORS_HEADERS } });
      } else if (!route) {
        throw new UserError('NOT_FOUND', `no such endpoint: ${url.pathname} (try ${REST_BASE_PATH}/load, /meta, /sql or /dry-run)`);
      } else if (!route.methods.includes(request.method)) {
        response = json(405, { error: `method ${request.method} is not allowed here`, code: 'BAD_USER_INPUT', requestId }, requestId, {
          allow: route.methods.join(', '),
        });
      } else {
        const ctx = await authenticateHttp(request, 'rest', peer, { authenticator: deps.authenticator, trustProxy: config.trustProxy, logger, requestId });
        const params = await readParams(request);
        response = json(200, await dispatch(route.op, ctx, params), requestId);
      }
    } catch (e) {
      const reply = toPublicError(e, { logger, requestId, door: 'rest' });
      // Cube answers 403 to a missing or invalid token; @cubejs-client/core users expect that.
      const status = reply.code === 'UNAUTHENTICATED' ? 403 : reply.status;
      response = json(status, jsonErrorBody(reply, requestId, config.env === 'development'), requestId, reply.headers);
    }

    const seconds = (performance.now() - started) / 1000;
    metrics.requests.inc({ door: 'rest', operation, status: String(response.status) });
    metrics.requestSeconds.observe({ door: 'rest', operation }, seconds);
    logger.debug({ requestId, door: 'rest', operation, status: response.status, ms: Math.round(seconds * 1000) }, 'rest request');
    return response;
  };

  async function dispatch(op: Operation, ctx: RequestContext, params: RestParams): Promise<unknown> {
    switch (op) {
      case 'meta': {
        const meta = toCubeMeta(service.model, service.catalog(ctx.principal), {
          onlyViews: params.other.onlyViews === 'true' || params.other.onlyViews === true,
        });
        // Extra fields for agents: the tenant's data coverage per cube (cached) and the query grammar.
        const facts = service.facts;
        const cubes = facts
          ? await Promise.all(meta.cubes.map(async (c) => ({ ...c, coverage: await facts.coverage(ctx, String(c.name)).catch(() => undefined) })))
          : meta.cubes;
        return { cubes, grammar: QUERY_GRAMMAR };
      }
      case 'load':
        return load(ctx, params);
      case 'sql':
        return sql(ctx.principal, planQueries(parseQueryParam(params.query)));
      case 'dry-run':
        return dryRun(ctx.principal, planQueries(parseQueryParam(params.query)));
    }
  }

  async function load(ctx: RequestContext, params: RestParams): Promise<unknown> {
    const plan = planQueries(parseQueryParam(params.query));
    const multi = params.queryType === 'multi';
    if (plan.queryType !== 'regularQuery' && !multi) {
      throw new UserError(
        'BAD_USER_INPUT',
        `'${plan.queryType}' query type is not supported by the client. Please update the client (or send queryType=multi).`,
      );
    }
    // Check blending compatibility before spending engine time on it.
    if (plan.queryType === 'blendingQuery') blendingGranularity(plan.queries.map((q) => service.prepare(ctx.principal, q)));
    // Issued in the same tick, so the query service batches (and may merge) them.
    const results = await Promise.all(plan.queries.map((q) => service.load(ctx, q)));
    const formatted = results.map((r) => formatResult(service.model, r, plan.queryType, plan.responseFormat));
    if (!multi) return formatted[0];
    return {
      queryType: plan.queryType,
      results: formatted,
      pivotQuery: pivotQuery(
        plan.queryType,
        results.map((r) => r.query),
        plan.responseFormat,
      ),
      slowQuery: false,
    };
  }

  function compileAll(principal: Principal, plan: LoadPlan): CompileResult[] {
    const compiled = plan.queries.map((q) => service.compile(principal, q));
    if (plan.queryType === 'blendingQuery') blendingGranularity(compiled.map((c) => c.normalized));
    return compiled;
  }

  function sql(principal: Principal, plan: LoadPlan): unknown {
    const one = ({ normalized, compiled }: CompileResult) => {
      const td = compiled.columns.find((c) => c.kind === 'timeDimension');
      return {
        sql: {
          sql: [compiled.sql, compiled.params],
          timeDimensionAlias: td?.alias,
          timeDimensionField: td?.key,
          order: orderMap(normalized),
          aliasNameToMember: Object.fromEntries(compiled.columns.map((c) => [c.alias, c.key])),
          cacheKeyQueries: [],
          preAggregations: compiled.rollup
            ? [{ preAggregationId: `${compiled.rollup.cube}.${compiled.rollup.name}`, tableName: compiled.rollup.table, type: 'rollup' }]
            : [],
          dataSource: 'default',
          external: false,
          rollupMatchResults: [],
          canUseTransformedQuery: null,
        },
        dataSource: 'default',
      };
    };
    const compiled = compileAll(principal, plan);
    return plan.queryType === 'regularQuery' ? one(compiled[0]) : compiled.map(one);
  }

  function dryRun(principal: Principal, plan: LoadPlan): unknown {
    const normalized = compileAll(principal, plan).map((c) => c.normalized);
    const resultType = plan.queryType === 'blendingQuery' ? 'regularQuery' : plan.queryType;
    return {
      queryType: plan.queryType,
      normalizedQueries: normalized.map((q) => toCubeQuery(q, resultType, plan.responseFormat)),
      queryOrder: normalized.map(orderMap),
      transformedQueries: normalized.map(() => null),
      pivotQuery: pivotQuery(plan.queryType, normalized, plan.responseFormat),
    };
  }
}

function routeOf(pathname: string) {
  if (!pathname.startsWith(`${REST_BASE_PATH}/`)) return undefined;
  const rest = pathname.slice(REST_BASE_PATH.length + 1).replace(/\/+$/, '');
  return Object.hasOwn(ROUTES, rest) ? ROUTES[rest] : undefined;
}

function json(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...CORS_HEADERS,
      ...extra,
    },
  });
}
