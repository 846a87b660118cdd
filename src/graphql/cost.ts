/**
 * A GraphQL request costs its work, not 1: each root field is a semantic query (or an admin call),
 * and the whole cost is charged to the tenant's rate limit and quota before anything runs (query
 * service `admit`). Over the limit, the request ends with HTTP 429 RATE_LIMITED / QUOTA_EXCEEDED.
 */
import { type DocumentNode, GraphQLError, getOperationAST, Kind, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { toPublicError } from '../edge/errors.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../query/types.js';
import type { ContextOf } from './plugins.js';

/** Root fields of the operation that runs (fragments at the root expanded); at least 1. */
export function rootFieldCount(document: DocumentNode, operationName?: string | null): number {
  const op = getOperationAST(document, operationName ?? undefined);
  if (!op) return 1;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const count = (set: SelectionSetNode): number => {
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) n += s.name.value === '__typename' ? 0 : 1;
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) n += count(f.selectionSet);
      }
    }
    return n;
  };
  return Math.max(1, count(op.selectionSet));
}

export function useCostCharge(options: { contextOf: ContextOf; admit: (ctx: RequestContext, cost: number) => void; logger: Logger }): Plugin {
  const refusal = (e: unknown, ctx: RequestContext) => {
    const p = toPublicError(e, { logger: options.logger, requestId: ctx.requestId, door: 'graphql' });
    return new GraphQLError(p.message, {
      originalError: e instanceof Error ? e : undefined,
      extensions: { ...p.details, code: p.code, http: { status: p.status, headers: p.headers } },
    });
  };
  return {
    // Every request pays 1 before anything (a response-cache hit, served next, costs just that)...
    onParams({ request }) {
      const ctx = options.contextOf(request);
      if (!ctx) return;
      try {
        options.admit(ctx, 1);
      } catch (e) {
        throw refusal(e, ctx);
      }
    },
    // ...and the rest of its root fields once the operation is known, before it runs.
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const ctx = request ? options.contextOf(request) : undefined;
      if (!ctx) return;
      const rest = rootFieldCount(args.document, args.operationName) - 1;
      if (rest <= 0) return;
      try {
        options.admit(ctx, rest);
      } catch (e) {
        // Thrown, not returned as a result: yoga answers with the error's HTTP status (429) and headers.
        throw refusal(e, ctx);
      }
    },
  };
}

/**
 * Refusals decided in the GraphQL door itself (scope-auth on admin fields, a resolver's FORBIDDEN)
 * go to the tenant's audit trail through the query service, like every door's; refusals the query
 * service already recorded (its loads, the cost charge) are not recorded twice.
 */
export function useRefusalAudit(options: { contextOf: ContextOf; refused: (ctx: RequestContext, error: unknown, action: string) => void }): Plugin {
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const ctx = request ? options.contextOf(request) : undefined;
      if (!ctx) return;
      return {
        onExecuteDone({ result }) {
          if (!result || typeof result !== 'object' || !('errors' in result)) return;
          for (const error of result.errors ?? []) {
            let cause: unknown = error;
            while (cause instanceof GraphQLError && cause.originalError) cause = cause.originalError;
            options.refused(ctx, cause, `graphql:${error.path?.[0] ?? 'request'}`);
          }
        },
      };
    },
  };
}
