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
import { createGraphQLContext, type GraphQLContext, type GraphQLContextDeps } from './context.js';
import { parseGenericQuery } from './generic-query.js';
import { exposedSources, sourceDescription, type ExposedMember, type ExposedSource } from './members.js';
import type { StrataBuilder } from './builder.js';
import type { SchemaExtension } from './build-schema.js';
import type { SourceRefs } from './shared-types.js';
import { selectedMembers } from './selection.js';
import { checkPaging } from './args-to-query.js';
import { rootFieldQuery, type RootArgs } from './root-query.js';
import type { QueryResult, RequestContext } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import type { SemanticQuery } from '../semantic/query.js';
import type { LiveService } from '../live/live-service.js';

/** The GraphQL context of one operation on a WebSocket (its RequestContext has door "live"). */
export function liveGraphQLContext(deps: GraphQLContextDeps): (strata: RequestContext) => GraphQLContext {
  return (strata) => createGraphQLContext(strata, deps);
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
    subscriptions: (builder, shared) => {
      builder.subscriptionField('live', (t) =>
        t.field({
          type: shared.queryResult,
          description:
            'Live version of `query`: the current result at once, then a new result each time the data behind the query changes (never the same result twice in a row).',
          authScopes: { allOf: [SCOPES.METRICS_READ] },
          extensions: { requiresScopes: [SCOPES.METRICS_READ] },
          args: { query: t.arg({ type: 'JSON', required: true, description: 'A Cube query object, as for `query`.' }) },
          subscribe: (_root, args, ctx) => live.subscribe(ctx.strata, parseGenericQuery(args.query, ctx.limits.maxRowLimit)),
          resolve: (result) => result,
        }),
      );
      if (options.typedFields === false) return;
      for (const source of exposedSources(model)) {
        const refs = shared.sources.get(source.fieldName);
        // The query field of every exposed source is added before extensions run (build-schema.ts).
        if (!refs) throw new Error(`graphql: no types for source field "${source.fieldName}"`);
        addSourceSubscription(builder, live, source, refs);
      }
    },
  };
}

function addSourceSubscription(builder: StrataBuilder, live: LiveService, s: ExposedSource, refs: SourceRefs): void {
  const byField = new Map(s.fields.map((m) => [m.fieldName, m]));
  builder.subscriptionField(s.fieldName, (t) =>
    t.field({
      type: [refs.row],
      nullable: { list: true, items: false },
      description: `Live version of the \`${s.fieldName}\` query: rows now, then again each time they change. ${sourceDescription(s)}`,
      authScopes: { allOf: [SCOPES.METRICS_READ] },
      extensions: { requiresScopes: [SCOPES.METRICS_READ] },
      args: {
        where: t.arg({ type: refs.where, description: 'Filter rows.' }),
        orderBy: t.arg({ type: [refs.orderBy], description: 'Sort keys, most significant first.' }),
        ...(refs.segment ? { segments: t.arg({ type: [refs.segment], description: 'Apply predefined filters (ANDed).' }) } : {}),
        limit: t.arg.int({ description: 'Maximum number of rows (capped by the server maximum).' }),
        offset: t.arg.int({ description: 'Rows to skip.' }),
        timezone: t.arg.string({ description: 'IANA time zone for time truncation and relative date ranges; default UTC.' }),
      },
      subscribe: (_root, args, ctx, info) => live.subscribe(ctx.strata, sourceQuery(byField, args as RootArgs, info, ctx.limits.maxRowLimit)),
      resolve: (result: QueryResult) => result.rows,
    }),
  );
}
