/**
 * createGraphQLServer: graphql-yoga at /graphql over the schema generated from the model.
 * The lead mounts the returned instance in the node http server (it is a request listener and
 * has `fetch` for in-process tests).
 */
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { QueryService, RequestContext } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import { createGraphQLContext, type GraphQLContext } from './context.js';
import { maskError } from './error-mapping.js';
import { graphiqlOptions, renderGraphiQLPage } from './graphiql.js';
import { useCostCharge, useRefusalAudit } from './cost.js';
import { useQueryLimits } from './limits.js';
import { useRequestScope } from './request-scope.js';
import { exposedSources } from './members.js';
import { useResponseCache, type ResponseCacheDeps } from './response-cache.js';
import {
  type NodeServerContext,
  useAuthentication,
  useErrorLogging,
  useInputBounds,
  useRequestIdHeader,
  useRequestMetrics,
  useServerTiming,
  yogaLogger,
} from './plugins.js';
import { buildSchema, type SchemaExtension } from './build-schema.js';

export const GRAPHQL_ENDPOINT = '/graphql';

export interface GraphQLServerDeps {
  readonly model: Model;
  readonly query: QueryService;
  readonly authenticator: Authenticator;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Mutations (API keys, dashboards, ingestion) and other fields added by other modules. */
  readonly extensions?: readonly SchemaExtension[];
  /** A schema already built with buildSchema (shared with the graphql-ws endpoint). */
  readonly schema?: GraphQLSchema;
}

export type StrataYoga = YogaServerInstance<NodeServerContext, GraphQLContext>;

export function createGraphQLServer(deps: GraphQLServerDeps): StrataYoga {
  const { config, logger } = deps;
  const schema = deps.schema ?? buildSchema(deps.model, { extensions: deps.extensions });
  const isDev = config.env === 'development';
  const log = logger.child({ door: 'graphql' });
  /** Error causes already logged with their request id (yoga's logger would log them again). */
  const logged = new WeakSet<object>();
  /** The one RequestContext of each request, built by the authentication plugin through the edge. */
  const contexts = new WeakMap<Request, RequestContext>();
  const contextOf = (request: Request) => contexts.get(request);

  return createYoga<NodeServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    // Served with its assets from this server (graphiql.ts); signed in as a demo tenant in development.
    graphiql: graphiqlOptions(config),
    renderGraphiQL: renderGraphiQLPage,
    landingPage: false,
    // The HTTP server reads and caps POST bodies itself (MAX_GRAPHQL_BODY_BYTES, server.ts) and hands yoga
    // the text; yoga's own limit would stream that text again through a TransformStream per request.
    maxRequestBodySize: false,
    maskedErrors: { maskError, isDev },
    logging: yogaLogger(log, logged),
    context: ({ request }) => {
      const strata = contexts.get(request);
      // The auth plugin ends every request without a context before execution starts.
      if (!strata) throw new Error('graphql: request reached execution without a request context');
      return createGraphQLContext(strata, { query: deps.query, maxRowLimit: config.limits.maxRowLimit, logger: log });
    },
    plugins: [
      useInputBounds(),
      useServerTiming(contextOf),
      useRequestMetrics(deps.metrics),
      useAuthentication({
        authenticator: deps.authenticator,
        trustProxy: config.trustProxy,
        logger: log,
        contexts,
      }),
      // The request's cost (one per root field) is charged before it runs; its loads are not charged again.
      ...(deps.query.admit ? [useCostCharge({ contextOf, admit: (ctx, cost) => deps.query.admit?.(ctx, cost), logger: log })] : []),
      useRequestScope(contextOf),
      ...(deps.query.refused ? [useRefusalAudit({ contextOf, refused: (ctx, e, action) => deps.query.refused?.(ctx, e, action) })] : []),
      // Only over the real query service: it owns invalidation and the audit trail.
      ...(hasCacheHooks(deps.query)
        ? [
            useResponseCache({
              ttlMs: config.cache.ttlMs,
              maxEntries: config.cache.maxEntries,
              contextOf,
              query: deps.query,
              metrics: deps.metrics,
              cacheableRootFields: new Set(['query', 'catalog', ...exposedSources(deps.model).map((src) => src.fieldName)]),
            }),
          ]
        : []),
      useErrorLogging(log, logged),
      useRequestIdHeader(contextOf),
      useQueryLimits(config.limits),
    ],
  });
}

function hasCacheHooks(q: QueryService): q is QueryService & ResponseCacheDeps['query'] {
  const c = q as Partial<ResponseCacheDeps['query']>;
  return typeof c.onInvalidate === 'function' && typeof c.auditReplay === 'function';
}
