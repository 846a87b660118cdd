/**
 * Whole-response cache for GraphQL queries: a hit skips parsing, validation and execution.
 * Same rules as the query service's result cache, because it sits on top of it:
 * - the key holds the tenant and the caller's full scope set (never shared across either) plus
 *   the document, variables and operation name;
 * - an entry is tagged with the cubes its reads touched and dropped by the same invalidations
 *   (ingestion, refresh keys), and a response computed across an invalidation is never stored;
 * - only error-free query results are stored (a partial FORBIDDEN answer never is);
 * - a hit replays the audit entries of the reads it stands for, so the audit trail stays complete.
 * Relative date ranges ("last month") are resolved when the entry is made: an entry may outlive a
 * period boundary by at most the TTL.
 */
import { getOperationAST, Kind, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import type { Metrics } from '../metrics.js';
import { ResultCache } from '../query/cache.js';
import { servedReads, type ServedRead } from '../query/query-service.js';
import type { RequestContext } from '../query/types.js';
import type { GraphQLContext } from './context.js';

export interface ResponseCacheDeps {
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** The request's context (built by the authentication plugin); a hit's audit is recorded on it. */
  readonly contextOf: (request: Request) => RequestContext | undefined;
  readonly query: {
    onInvalidate(listener: (tenantId: string, cubes?: readonly string[]) => void): void;
    auditReplay(ctx: RequestContext, reads: readonly ServedRead[]): void;
  };
  readonly metrics?: Metrics;
  /**
   * Root fields whose answers only change with warehouse data (cube/view fields, `query`,
   * `catalog`). Anything reading metadata (dashboards, keys, audit) is never stored: mutations
   * and other instances change it without a cube invalidation.
   */
  readonly cacheableRootFields: ReadonlySet<string>;
}

interface Entry {
  readonly result: ExecutionResult;
  readonly reads: readonly ServedRead[];
  /** What a hit answers: the result with its JSON made once (yoga serializes via `result.stringify`). */
  replay?: ExecutionResult;
}

/** yoga's result processor calls `result.stringify(result)` when present: hits reuse one string. */
function withCachedJson(result: ExecutionResult): ExecutionResult {
  let json: string | undefined;
  return Object.assign({ ...result }, { stringify: () => (json ??= JSON.stringify(result)) });
}

interface Pending {
  readonly key: string;
  readonly tenantId: string;
  readonly generation: number;
}

export function useResponseCache(deps: ResponseCacheDeps): Plugin<GraphQLContext & YogaInitialContext> {
  const cache = new ResultCache<Entry>(deps.ttlMs, deps.maxEntries);
  deps.query.onInvalidate((tenantId, cubes) => cache.invalidate(tenantId, cubes));
  const pending = new WeakMap<Request, Pending>();

  return {
    onParams({ params, request, setResult }) {
      if (!cache.enabled) return;
      const ctx = deps.contextOf(request);
      if (!ctx || typeof params.query !== 'string') return;
      const { principal } = ctx;
      const key = ResultCache.key(principal.tenantId, principal.scopes, JSON.stringify([params.query, params.variables ?? null, params.operationName ?? null]));
      const hit = cache.get(key);
      if (hit) {
        deps.metrics?.cacheLookups.inc({ result: 'response_hit' });
        deps.query.auditReplay(ctx, hit.value.reads);
        hit.value.replay ??= withCachedJson(hit.value.result);
        setResult(hit.value.replay);
        return;
      }
      pending.set(request, { key, tenantId: principal.tenantId, generation: cache.tenantGeneration(principal.tenantId) });
    },
    onExecute({ args }) {
      const ctx = args.contextValue;
      const p = pending.get(ctx.request);
      const operation = getOperationAST(args.document, args.operationName);
      if (!p || operation?.operation !== 'query') return;
      const onlyData = operation.selectionSet.selections.every(
        (s) => s.kind === Kind.FIELD && (s.name.value === '__typename' || deps.cacheableRootFields.has(s.name.value)),
      );
      if (!onlyData) return;
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result) || (result.errors && result.errors.length > 0)) return;
          // A response whose execution spans an invalidation of its tenant is not stored.
          if (cache.tenantGeneration(p.tenantId) !== p.generation) return;
          const reads = servedReads(ctx.strata);
          const cubes = [...new Set(reads.flatMap((r) => r.cubes))];
          cache.set(p.key, p.tenantId, cubes, { result, reads });
        },
      };
    },
  };
}
