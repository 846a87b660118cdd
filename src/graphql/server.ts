/**
 * createGraphQLServer: graphql-yoga at /graphql over the schema generated from the model.
 * The lead mounts the returned instance in the node http server (it is a request listener and
 * has `fetch` for in-process tests).
 */
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { markAdmitted } from '../query/service.js';
import type { QueryService, RequestContext } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import { createGraphQLContext, createRequestContext, type GraphQLContext } from './context.js';
import { maskError } from './error-mapping.js';
import { useQueryLimits } from './limits.js';
import { exposedSources } from './members.js';
import { useResponseCache, type ResponseCacheDeps } from './response-cache.js';
import { useAuthentication, useErrorLogging, useRequestIdHeader, useRequestMetrics, useServerTiming, yogaLogger } from './plugins.js';
import { buildSchema, type SchemaExtension } from './schema.js';

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

/** What node's http adapter passes as server context. */
interface NodeServerContext {
  readonly req?: { readonly socket?: { readonly remoteAddress?: string } };
}

export type StrataYoga = YogaServerInstance<NodeServerContext, GraphQLContext>;

export function createGraphQLServer(deps: GraphQLServerDeps): StrataYoga {
  const { config, logger } = deps;
  const schema = deps.schema ?? buildSchema(deps.model, { extensions: deps.extensions });
  const principals = new WeakMap<Request, Principal>();
  const isDev = config.env === 'development';
  const log = logger.child({ door: 'graphql' });
  const logged = new WeakSet<object>();
  const requestIds = new WeakMap<Request, string>();
  const strataContexts = new WeakMap<Request, RequestContext>();
  const admitted = new WeakSet<Request>();

  return createYoga<NodeServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: isDev ? { title: 'Strata GraphiQL', headers: JSON.stringify({ Authorization: 'Bearer <token>' }) } : false,
    landingPage: false,
    // The HTTP server reads and caps POST bodies itself (MAX_GRAPHQL_BODY_BYTES, server.ts) and hands yoga
    // the text; yoga's own limit would stream that text again through a TransformStream per request.
    maxRequestBodySize: false,
    maskedErrors: { maskError, isDev },
    logging: yogaLogger(log, logged),
    context: ({ request, req }) => {
      const principal = principals.get(request);
      // The auth plugin ends every request without a principal before execution starts.
      if (!principal) throw new Error('graphql: request reached execution without a principal');
      const strata = createRequestContext({
        principal,
        requestId: request.headers.get('x-request-id'),
        clientAddress: req?.socket?.remoteAddress,
        signal: request.signal,
      });
      requestIds.set(request, strata.requestId);
      strataContexts.set(request, strata);
      if (admitted.has(request)) markAdmitted(strata);
      return createGraphQLContext(strata, { query: deps.query, maxRowLimit: config.limits.maxRowLimit, logger: log });
    },
    plugins: [
      useServerTiming(strataContexts),
      useRequestMetrics(deps.metrics),
      useAuthentication(deps.authenticator, principals, log, (principal, request) => {
        deps.query.admit?.({ requestId: 'admission', door: 'graphql', principal, memo: new Map() });
        admitted.add(request);
      }),
      // Only over the real query service: it owns invalidation and the audit trail.
      ...(hasCacheHooks(deps.query)
        ? [
            useResponseCache({
              ttlMs: config.cache.ttlMs,
              maxEntries: config.cache.maxEntries,
              principalOf: (request) => principals.get(request),
              query: deps.query,
              metrics: deps.metrics,
              cacheableRootFields: new Set(['query', 'catalog', ...exposedSources(deps.model).map((src) => src.fieldName)]),
            }),
          ]
        : []),
      useErrorLogging(log, logged),
      useRequestIdHeader(requestIds),
      useQueryLimits(config.limits),
    ],
  });
}

function hasCacheHooks(q: QueryService): q is QueryService & ResponseCacheDeps['query'] {
  const c = q as Partial<ResponseCacheDeps['query']>;
  return typeof c.onInvalidate === 'function' && typeof c.auditReplay === 'function';
}
