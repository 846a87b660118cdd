/**
 * The one way a door builds a RequestContext. Every door (GraphQL over HTTP and WebSocket, REST,
 * SQL proxy, ingestion, CLI, and the doors to come) calls this once per request / operation /
 * statement, so ids, addresses and signals follow the same rules everywhere.
 */
import type { Principal } from '../auth/principal.js';
import type { Door, RequestContext } from '../query/types.js';
import { requestIdFrom } from './request-id.js';

export interface RequestContextInput {
  readonly door: Door;
  readonly principal: Principal;
  /** A client-sent id (x-request-id) or one already made by requestIdFrom; a fresh one when unsafe or absent. */
  readonly requestId?: string | null;
  /** From clientAddressOf (edge/client-address.ts), never a raw header. */
  readonly clientAddress?: string;
  /** User-Agent / application_name as the client sent it (cut to 256 characters). */
  readonly userAgent?: string | null;
  /** Aborts the request's engine statements (client went away, SQL proxy cancel). */
  readonly signal?: AbortSignal;
}

export function createRequestContext(input: RequestContextInput): RequestContext {
  return {
    requestId: requestIdFrom(input.requestId),
    door: input.door,
    principal: input.principal,
    clientAddress: input.clientAddress,
    ...(input.userAgent ? { userAgent: input.userAgent.slice(0, 256) } : {}),
    signal: input.signal,
  };
}
