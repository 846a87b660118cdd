/** Yoga plugins of the GraphQL door: authentication (401), metrics, and logging of masked errors. */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { GraphQLError, getOperationAST } from 'graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { type PublicError, toPublicError } from '../edge/errors.js';
import { authenticateHttp, httpRequestId } from '../edge/http.js';
import { assertValueDepth } from '../edge/input-bounds.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { engineTime } from '../query/timing.js';
import type { RequestContext } from '../query/types.js';
import type { GraphQLContext } from './context.js';
import { publicError, rootCause } from './error-mapping.js';

/** The RequestContext the authentication plugin built for a request (undefined before, or when it failed). */
export type ContextOf = (request: Request) => RequestContext | undefined;

/** What node's http adapter passes as server context. */
export interface NodeServerContext {
  readonly req?: { readonly socket?: { readonly remoteAddress?: string } };
}

function errorResponse(e: PublicError, requestId: string, headers: Record<string, string>): Response {
  const extensions = { ...e.details, code: e.code };
  return new Response(JSON.stringify({ errors: [{ message: e.message, extensions }] }), {
    status: e.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...e.headers, ...headers },
  });
}

/**
 * Variables and extensions nested beyond the edge's bound are refused (400 BAD_USER_INPUT) before any
 * other plugin walks them (the response cache serializes them). Must be the first plugin with onParams.
 */
export function useInputBounds(): Plugin {
  return {
    onParams({ params }) {
      try {
        assertValueDepth(params.variables, 'the variables');
        assertValueDepth(params.extensions, 'the extensions');
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new GraphQLError(e.message, { extensions: { code: e.code, limit: e.details.limit, http: { status: 400 } } });
      }
    },
  };
}

export interface AuthenticationOptions {
  readonly authenticator: Authenticator;
  /** Proxies trusted to set x-forwarded-for (config.trustProxy). */
  readonly trustProxy: number;
  readonly logger: Logger;
  /** Where the request's context is kept, for the context factory and the other plugins. */
  readonly contexts: WeakMap<Request, RequestContext>;
  /** Rate limiting at the edge, so a limited request gets HTTP 429 (throws RATE_LIMITED). */
  readonly admit?: (ctx: RequestContext) => void;
}

/**
 * Every GraphQL request (introspection included: the schema is a catalog) needs a valid credential.
 * This builds the request's context once, through the shared edge; a request without one ends
 * here with its HTTP status (401, 429, 503) before any parsing.
 */
export function useAuthentication(options: AuthenticationOptions): Plugin<Record<string, unknown>, NodeServerContext> {
  return {
    async onRequestParse({ request, serverContext, endResponse }) {
      const requestId = httpRequestId(request);
      try {
        const ctx = await authenticateHttp(
          request,
          'graphql',
          { socketAddress: serverContext.req?.socket?.remoteAddress },
          { authenticator: options.authenticator, trustProxy: options.trustProxy, logger: options.logger, requestId },
        );
        options.admit?.(ctx);
        options.contexts.set(request, ctx);
      } catch (e) {
        const reply = toPublicError(e, { logger: options.logger, requestId, door: 'graphql' });
        const sent = Boolean(request.headers.get('authorization')?.trim());
        endResponse(errorResponse(reply, requestId, reply.code === 'UNAUTHENTICATED' && sent ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}));
      }
    },
  };
}

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 200;

/** Requests and latency by operation name (label cardinality bounded: clients choose names). */
export function useRequestMetrics(metrics: Metrics): Plugin {
  const started = new WeakMap<Request, number>();
  const operations = new WeakMap<Request, string>();
  const failed = new WeakSet<Request>();
  const labels = new Set<string>();
  const label = (name: string | null | undefined) => {
    if (!name || !OPERATION_NAME.test(name)) return 'anonymous';
    if (labels.has(name)) return name;
    if (labels.size >= MAX_OPERATION_LABELS) return 'other';
    labels.add(name);
    return name;
  };
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onParams({ request, params }) {
      operations.set(request, label(params.operationName));
    },
    onExecute({ args }) {
      // The name in the document counts too (clients often send no operationName).
      const request = (args.contextValue as { request?: Request }).request;
      const name = getOperationAST(args.document, args.operationName)?.name?.value;
      if (request && name) operations.set(request, label(name));
    },
    onExecutionResult({ request, result }) {
      if (result && !isAsyncIterable(result) && result.errors?.length) failed.add(request);
    },
    onResponse({ request, response }) {
      const start = started.get(request);
      const op = operations.get(request) ?? (response.status === 401 ? 'unauthenticated' : undefined);
      if (start === undefined || op === undefined) return; // GraphiQL page, health checks
      const status = response.status === 401 ? 'unauthenticated' : response.status >= 400 ? 'rejected' : failed.has(request) ? 'error' : 'ok';
      metrics.requests.inc({ door: 'graphql', operation: op, status });
      metrics.requestSeconds.observe({ door: 'graphql', operation: op }, (performance.now() - start) / 1000);
    },
  };
}

/**
 * Logs errors that will be masked, with the request id, before yoga masks them. Causes logged
 * here are added to `logged` so the yoga logger adapter does not log them a second time.
 */
export function useErrorLogging(logger: Logger, logged: WeakSet<object>): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue as Partial<GraphQLContext>;
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) return;
          for (const error of (result.errors ?? []) as GraphQLError[]) {
            if (publicError(error)) continue;
            const cause = rootCause(error);
            if (cause && typeof cause === 'object') logged.add(cause);
            logger.error(
              { requestId: ctx.strata?.requestId, tenantId: ctx.strata?.principal.tenantId, path: error.path?.join('.'), err: cause },
              'graphql: unexpected error (masked)',
            );
          }
        },
      };
    },
  };
}

/**
 * yoga's logger: it reports every error it masks or rewrites. User errors are expected traffic
 * (debug); internal ones already logged with their request id are not repeated.
 */
export function yogaLogger(logger: Logger, logged: WeakSet<object>) {
  return {
    debug: (...args: unknown[]) => logger.debug({ yoga: args.map(String) }, 'yoga'),
    info: (...args: unknown[]) => logger.info({ yoga: args.map(String) }, 'yoga'),
    warn: (...args: unknown[]) => logger.warn({ yoga: args.map(String) }, 'yoga'),
    error: (...args: unknown[]) => {
      const cause = rootCause(args[0]);
      if (publicError(args[0])) logger.debug({ err: cause }, 'graphql: user error');
      else if (!(cause && typeof cause === 'object' && logged.has(cause))) logger.error({ err: cause }, 'graphql: unexpected error (masked)');
    },
  };
}

/**
 * `Server-Timing: engine;dur=…, total;dur=…` on every response: how long the request spent in
 * ClickHouse (summed over its statements) and in the GraphQL server overall, in ms. Lets a client
 * or a benchmark split a round trip into engine, Strata and network without server access.
 */
export function useServerTiming(contextOf: ContextOf): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const t0 = started.get(request);
      if (t0 === undefined) return;
      const ctx = contextOf(request);
      const total = performance.now() - t0;
      response.headers.set('server-timing', `${ctx ? `engine;dur=${engineTime(ctx).toFixed(2)}, ` : ''}total;dur=${total.toFixed(2)}`);
    },
  };
}

/** Echo the request id so a client can quote it when reporting a masked error. */
export function useRequestIdHeader(contextOf: ContextOf): Plugin {
  return {
    onResponse({ request, response }) {
      const id = contextOf(request)?.requestId;
      if (id) response.headers.set('x-request-id', id);
    },
  };
}
