/**
 * GraphQL over WebSocket (graphql-ws protocol) on the server's HTTP port, path /graphql.
 * - The credential comes in the connection_init payload: { authorization: "Bearer <jwt|key>" }
 *   or { token: "<jwt|key>" }. No valid credential: the socket closes with 4401 and a reason.
 * - The socket closes with 4401 "Unauthorized: token expired" when the principal expires.
 * - Subscriptions per connection are capped (config.live.maxPerConnection); per tenant, the live
 *   service caps them.
 * - Errors reach the client as UserError codes; anything else is masked as "Unexpected error".
 */
import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { GraphQLError, specifiedRules, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { clientAddressOf } from '../edge/client-address.js';
import { createRequestContext } from '../edge/context.js';
import { credentialFromConnectionParams } from '../edge/credentials.js';
import { assertValueDepth } from '../edge/input-bounds.js';
import { UserError } from '../errors.js';
import type { RequestContext } from '../query/types.js';
import { maskedError, publicError } from './error-mapping.js';
import { createDocumentCache, createSharedSubscribe } from './shared-subscribe.js';
import { batchSends, sharedPayloadReplacer } from './ws-fanout.js';
import { queryLimitsRule, type QueryLimits } from './limits.js';
import type { Logger } from '../logger.js';
import type { AccessEnd, AccessWatch } from '../tenancy/access-watch.js';

export interface AttachGraphQLWsOptions {
  readonly schema: GraphQLSchema;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** Builds the GraphQL context of one operation from its RequestContext (see liveGraphQLContext in subscriptions.ts). */
  readonly context: (strata: RequestContext) => unknown;
  /** Proxies trusted to set x-forwarded-for (config.trustProxy; 0 = none). */
  readonly trustProxy?: number;
  readonly maxPerConnection: number;
  /** Depth / complexity limits, the same rule the HTTP endpoint validates with. */
  readonly limits?: QueryLimits;
  /** Adds the original message of masked errors (development only). */
  readonly isDev?: boolean;
  readonly path?: string;
  /** Largest accepted client message. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Ping interval to detect dead peers (ms). Default 12 s. */
  readonly keepAliveMs?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
  /** Ends a connection when its access ends (key revoked, tenant suspended, token expired), on any instance. */
  readonly access?: AccessWatch;
}

export interface GraphQLWsHandle {
  readonly wss: WebSocketServer;
  /** Connections currently open. */
  connections(): number;
  close(): Promise<void>;
}

export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
/** 1013 "try again later": the credential could not be checked (store or identity provider outage), it was not refused. */
const CLOSE_TRY_AGAIN = 1013;

/** 4401 for a credential that is no longer valid, 4403 for a tenant that may not be served. */
function closeCodeOf(code: string): number {
  return code === 'TENANT_UNKNOWN' || code === 'TENANT_SUSPENDED'
    ? CLOSE_FORBIDDEN
    : code === 'STORE_UNAVAILABLE' || code === 'AUTH_UNAVAILABLE'
      ? CLOSE_TRY_AGAIN
      : CLOSE_UNAUTHORIZED;
}
const MAX_TIMER_MS = 2_147_483_647;

interface Connection {
  readonly id: string;
  principal?: Principal;
  timer?: NodeJS.Timeout;
  release?: () => void;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function reason(text: string): string {
  return Buffer.byteLength(text) <= 123 ? text : `${Buffer.from(text).subarray(0, 120).toString()}...`;
}

/** Same client-facing shape as the HTTP endpoint (src/graphql/error-mapping.ts). */
export function formatWsError(err: GraphQLError, logger: Logger, isDev = false): GraphQLFormattedError {
  const pub = publicError(err);
  if (pub) return pub.toJSON();
  logger.error({ err: err.originalError?.message ?? err.message, path: err.path }, 'graphql-ws: unexpected error');
  return maskedError(err, isDev).toJSON();
}

export function attachGraphQLWs(httpServer: HttpServer, options: AttachGraphQLWsOptions): GraphQLWsHandle {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const wss = new WebSocketServer({ server: httpServer, path: options.path ?? '/graphql', maxPayload: options.maxPayloadBytes ?? 1024 * 1024 });
  const connections = new WeakMap<WebSocket, Connection>();
  /** Operation context -> what may change its payload (tenant + scope set): equal keys share one execution. */
  const shareKeys = new WeakMap<object, string>();
  let open = 0;

  const conn = (socket: WebSocket): Connection => {
    let c = connections.get(socket);
    if (!c) {
      c = { id: randomUUID().slice(0, 8) };
      connections.set(socket, c);
      open++;
      const state = c;
      socket.once('close', () => {
        open--;
        if (state.timer) clearTimeout(state.timer);
        state.release?.();
      });
    }
    return c;
  };

  const documents = createDocumentCache(options.schema, options.limits ? [...specifiedRules, queryLimitsRule(options.limits)] : specifiedRules);

  // Registered before graphql-ws's own handler, so every send of the connection goes through it.
  wss.on('connection', (socket, request) => batchSends(socket, request.socket));
  const disposable = useServer<Record<string, unknown>>(
    {
      schema: options.schema,
      jsonMessageReplacer: sharedPayloadReplacer,
      subscribe: createSharedSubscribe((contextValue) => (typeof contextValue === 'object' && contextValue ? shareKeys.get(contextValue) : undefined)),
      async onConnect(ctx) {
        const socket = ctx.extra.socket;
        const c = conn(socket);
        const credential = credentialFromConnectionParams(ctx.connectionParams);
        if (!credential) {
          socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: send { authorization: "Bearer <token>" } in connection_init');
          return false;
        }
        let principal: Principal;
        try {
          const upgrade = ctx.extra.request;
          const ua = upgrade.headers['user-agent'];
          principal = await options.authenticator.authenticate(credential, {
            door: 'live',
            clientAddress: upgrade.socket.remoteAddress,
            ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 256) } : {}),
          });
        } catch (e) {
          const msg = e instanceof UserError ? e.message : 'authentication failed';
          if (!(e instanceof UserError)) logger.error({ err: (e as Error).message }, 'graphql-ws: authenticator failed');
          const code = e instanceof UserError ? closeCodeOf(e.code) : CLOSE_UNAUTHORIZED;
          socket.close(code, reason(`${code === CLOSE_FORBIDDEN ? 'Forbidden' : code === CLOSE_TRY_AGAIN ? 'Try again later' : 'Unauthorized'}: ${msg}`));
          return false;
        }
        if (principal.expiresAt !== undefined) {
          const ms = principal.expiresAt * 1000 - now();
          if (ms <= 0) {
            socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: token expired');
            return false;
          }
          c.timer = setTimeout(() => socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: token expired'), Math.min(ms, MAX_TIMER_MS));
          c.timer.unref();
        }
        c.principal = principal;
        if (options.access && socket.readyState === socket.OPEN) {
          c.release = options.access.watch(principal, (why: AccessEnd) => {
            logger.info({ connection: c.id, tenantId: principal.tenantId, code: why.code }, 'graphql-ws: access ended; closing');
            socket.close(closeCodeOf(why.code), reason(`${closeCodeOf(why.code) === CLOSE_FORBIDDEN ? 'Forbidden' : 'Unauthorized'}: ${why.message}`));
          });
        }
        logger.debug({ connection: c.id, tenantId: principal.tenantId }, 'graphql-ws: connected');
        return true;
      },
      onSubscribe(ctx, _id, payload) {
        // ctx.subscriptions already holds this operation's id. Counted without building a key array:
        // a dashboard connection opens hundreds of subscriptions in a burst.
        let open = 0;
        for (const _ in ctx.subscriptions) if (++open > options.maxPerConnection) break;
        if (open > options.maxPerConnection) {
          return [
            new GraphQLError(`too many subscriptions on this connection (limit ${options.maxPerConnection})`, {
              extensions: { code: 'RATE_LIMITED', limit: options.maxPerConnection },
            }),
          ];
        }
        // Dashboards open the same operation many times: parse and validate each text once, and
        // share the document (less memory per subscription, and one key for shared execution).
        try {
          assertValueDepth(payload.variables, 'the variables');
        } catch (e) {
          if (e instanceof UserError) return [new GraphQLError(e.message, { extensions: { code: e.code, limit: e.details.limit } })];
          throw e;
        }
        const checked = documents.check(payload.query);
        if ('errors' in checked) return checked.errors;
        return { schema: options.schema, document: checked.document, operationName: payload.operationName, variableValues: payload.variables };
      },
      context(ctx, id) {
        const c = conn(ctx.extra.socket);
        if (!c.principal) throw new Error('graphql-ws: operation on an unauthenticated connection');
        const request = ctx.extra.request;
        const forwardedFor = request.headers['x-forwarded-for'];
        const value = options.context(
          createRequestContext({
            door: 'live',
            principal: c.principal,
            requestId: `ws-${c.id}-${id}`.slice(0, 128),
            clientAddress: clientAddressOf(
              Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor,
              request.socket.remoteAddress,
              options.trustProxy ?? 0,
            ),
            userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : undefined,
          }),
        );
        if (typeof value === 'object' && value) shareKeys.set(value, `${c.principal.tenantId}\n${[...c.principal.scopes].sort().join(' ')}`);
        return value;
      },
      onNext(_ctx, _id, _payload, _args, result) {
        // The result itself (not graphql-ws's copy of it): a shared one is serialized only once.
        if (!result.errors?.length) return result;
        return { ...result, errors: result.errors.map((e) => formatWsError(e, logger, options.isDev)) };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => formatWsError(e, logger, options.isDev));
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  return {
    wss,
    connections: () => open,
    async close() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
