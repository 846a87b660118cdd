/** The GraphQL context: built once per request by the yoga context factory (server.ts). */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../logger.js';
import type { QueryService, RequestContext } from '../query/types.js';

export interface GraphQLContext {
  /** What every layer below the door receives (tenant and scopes come only from here). */
  readonly strata: RequestContext;
  readonly query: QueryService;
  readonly limits: { readonly maxRowLimit: number };
  readonly logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client-sent x-request-id is kept only when it is a short plain token (it lands in logs). */
export function requestIdFrom(header: string | null | undefined): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}

export function createRequestContext(input: {
  principal: Principal;
  requestId?: string | null;
  clientAddress?: string;
  signal?: AbortSignal;
}): RequestContext {
  return {
    requestId: requestIdFrom(input.requestId),
    door: 'graphql',
    principal: input.principal,
    clientAddress: input.clientAddress,
    signal: input.signal,
    memo: new Map(),
  };
}

/** The GraphQL context for a request context (yoga's factory; graphql-ws can reuse it). */
export function createGraphQLContext(strata: RequestContext, deps: { query: QueryService; maxRowLimit: number; logger: Logger }): GraphQLContext {
  return { strata, query: deps.query, limits: { maxRowLimit: deps.maxRowLimit }, logger: deps.logger };
}
