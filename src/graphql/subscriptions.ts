/**
 * GraphQL subscription fields over the live service, as a SchemaExtension for buildSchema():
 *   subscription { live(query: JSON!): QueryResult }                 — any Cube-shaped query
 *   subscription { adPerformance(where, orderBy, ...) { clicks } }   — one per typed cube/view field
 * They reuse the query fields' types by name (QueryResult, <Stem>Row, <Stem>WhereInput, ...) and
 * the same argument translation, so a subscription asks exactly what the query field would.
 * Authorization happens when the subscription starts: live.subscribe authorizes every member
 * through the query service and throws FORBIDDEN before anything is evaluated.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { SCOPES } from '../auth/principal.js';
import type { GraphQLContext } from './context.js';
import { parseGenericQuery } from './generic-query.js';
import { exposedSources, sourceDescription, type ExposedMember, type ExposedSource } from './members.js';
import type { SchemaExtension } from './schema.js';
import { selectedMembers } from './selection.js';
import { checkPaging } from './translate.js';
import { rootFieldQuery, type RootArgs } from './root-query.js';
import type { Logger } from '../logger.js';
import type { QueryService, QueryResult, RequestContext } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import type { SemanticQuery } from '../semantic/query.js';
import type { LiveService } from '../live/service.js';
import type { WsContextInput } from './ws.js';

/** The GraphQL context of one operation on a WebSocket (door "live"). */
export function liveGraphQLContext(deps: { query: QueryService; maxRowLimit: number; logger: Logger }): (input: WsContextInput) => GraphQLContext {
  return (input) => {
    const strata: RequestContext = {
      requestId: input.requestId,
      door: 'live',
      principal: input.principal,
      clientAddress: input.clientAddress,
      memo: new Map(),
    };
    return { strata, query: deps.query, limits: { maxRowLimit: deps.maxRowLimit }, logger: deps.logger };
  };
}

/** Typed field arguments + selection -> the SemanticQuery (mirrors the query field's resolver). */
export function sourceQuery(byField: ReadonlyMap<string, ExposedMember>, args: RootArgs, info: GraphQLResolveInfo, maxRowLimit: number): SemanticQuery {
  checkPaging(args.limit, args.offset, maxRowLimit);
  // Every selected member goes in: a forbidden one makes the whole subscription fail at start.
  return rootFieldQuery(byField, args, selectedMembers(info));
}

export interface LiveSubscriptionOptions {
  /** Add one typed subscription per cube/view query field (default true). */
  readonly typedFields?: boolean;
}

export function liveSubscriptions(live: LiveService, model: Model, options: LiveSubscriptionOptions = {}): SchemaExtension {
  return {
    subscriptions: (builder) => {
      // Pothos resolves type names registered by the query fields; the names are built, not typed.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const b = builder as any;
      b.subscriptionField('live', (t: any) =>
        t.field({
          type: 'QueryResult',
          description:
            'Live version of `query`: the current result at once, then a new result each time the data behind the query changes (never the same result twice in a row).',
          authScopes: { allOf: [SCOPES.METRICS_READ] },
          extensions: { requiresScopes: [SCOPES.METRICS_READ] },
          args: { query: t.arg({ type: 'JSON', required: true, description: 'A Cube query object, as for `query`.' }) },
          subscribe: (_root: unknown, args: { query: unknown }, ctx: GraphQLContext) =>
            live.subscribe(ctx.strata, parseGenericQuery(args.query, ctx.limits.maxRowLimit)),
          resolve: (result: QueryResult) => result,
        }),
      );
      if (options.typedFields === false) return;
      for (const source of exposedSources(model)) addSourceSubscription(b, live, source);
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function addSourceSubscription(b: any, live: LiveService, s: ExposedSource): void {
  const byField = new Map(s.fields.map((m) => [m.fieldName, m]));
  b.subscriptionField(s.fieldName, (t: any) =>
    t.field({
      type: [`${s.typeStem}Row`],
      nullable: { list: true, items: false },
      description: `Live version of the \`${s.fieldName}\` query: rows now, then again each time they change. ${sourceDescription(s)}`,
      authScopes: { allOf: [SCOPES.METRICS_READ] },
      extensions: { requiresScopes: [SCOPES.METRICS_READ] },
      args: {
        where: t.arg({ type: `${s.typeStem}WhereInput`, description: 'Filter rows.' }),
        orderBy: t.arg({ type: [`${s.typeStem}OrderByInput`], description: 'Sort keys, most significant first.' }),
        ...(s.segments.length > 0 ? { segments: t.arg({ type: [`${s.typeStem}Segment`], description: 'Apply predefined filters (ANDed).' }) } : {}),
        limit: t.arg.int({ description: 'Maximum number of rows (capped by the server maximum).' }),
        offset: t.arg.int({ description: 'Rows to skip.' }),
        timezone: t.arg.string({ description: 'IANA time zone for time truncation and relative date ranges; default UTC.' }),
      },
      subscribe: (_root: unknown, args: RootArgs, ctx: GraphQLContext, info: GraphQLResolveInfo) =>
        live.subscribe(ctx.strata, sourceQuery(byField, args, info, ctx.limits.maxRowLimit)),
      resolve: (result: QueryResult) => result.rows,
    }),
  );
}
