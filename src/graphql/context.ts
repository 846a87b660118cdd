/**
 * The GraphQL context: built once per operation from the RequestContext the shared edge made
 * (HTTP: the authentication plugin; WebSocket: graphql-ws's context hook).
 */
import type { Logger } from '../logger.js';
import type { QueryService, RequestContext } from '../query/types.js';

export interface GraphQLContext {
  /** What every layer below the door receives (tenant and scopes come only from here). */
  readonly strata: RequestContext;
  readonly query: QueryService;
  readonly limits: { readonly maxRowLimit: number };
  readonly logger: Logger;
}

export interface GraphQLContextDeps {
  readonly query: QueryService;
  readonly maxRowLimit: number;
  readonly logger: Logger;
}

export function createGraphQLContext(strata: RequestContext, deps: GraphQLContextDeps): GraphQLContext {
  return { strata, query: deps.query, limits: { maxRowLimit: deps.maxRowLimit }, logger: deps.logger };
}
