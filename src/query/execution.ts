/**
 * Running the statements of a batch: one merge group at a time (query/merge.ts decides the groups),
 * each answered from the result cache, by one merged / range-split / fused statement, or — when a
 * group cannot share a statement or hit the row cap — by one statement per query. Every member gets
 * exactly its own columns, order and slice; results are cached per member query.
 */
import type { CompiledColumn, CompiledQuery, CompiledSplitQuery } from '../compiler/compiled.js';
import { compileQuery, compileSplitQuery } from '../compiler/compile.js';
import type { RollupAvailability } from '../compiler/rollup/route.js';
import { SplitUnsupportedError } from '../compiler/split.js';
import type { Engine, EngineResult } from '../engine/engine.js';
import type { Metrics } from '../metrics.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import { ResultCache } from './cache.js';
import type { EngineSlots } from './engine-slots.js';
import { canonicalJson } from './canonical.js';
import { planMerges, sortAndSlice, type MergeGroup } from './merge.js';
import { shapeRows } from './annotate.js';
import { addEngineTime } from './timing.js';
import { createSingleFlight, type SingleFlight } from './single-flight.js';
import type { CellValue, RequestContext } from './types.js';

export interface ExecutedResult {
  readonly compiled: CompiledQuery;
  readonly rows: readonly Record<string, CellValue>[];
  readonly total?: number;
  readonly lastRefreshTime: string;
  readonly fromCache: boolean;
}

export interface ExecutorDeps {
  readonly model: Model;
  readonly engine: Engine;
  readonly limits: { readonly maxRowLimit: number };
  readonly cache: ResultCache<ExecutedResult>;
  readonly metrics?: Metrics;
  readonly queryTimeoutMs?: number;
  /** Fair sharing of the engine between tenants (engine-slots.ts); every statement runs through it. */
  readonly slots?: EngineSlots;
  /** Rows each statement brought back from the engine (usage metering). */
  readonly onEngineRows?: (ctx: RequestContext, rows: number) => void;
  /** Statements in flight shared across requests (default: one per executor). */
  readonly singleFlight?: SingleFlight;
  /** The rollups built and maintained now (rollups/registry.ts): queries they answer exactly read them. */
  readonly rollups?: (tenantId: string) => RollupAvailability | undefined;
}

export interface Executor {
  /** One merge group; results by index into `queries`. */
  runGroup(ctx: RequestContext, g: MergeGroup, queries: readonly NormalizedQuery[]): Promise<Map<number, ExecutedResult>>;
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const { model, limits, cache } = deps;
  /** The engine as the executor sees it: each statement waits for its tenant's turn, and is metered. */
  // Identical statements in flight from any request share one execution (single-flight.ts); the
  // shared run waits for the tenant's slot and is metered once, as the one statement it is.
  const flights = deps.singleFlight ?? createSingleFlight();
  const engine = {
    query<T = Record<string, unknown>>(
      ctx: RequestContext,
      sql: string,
      params: Readonly<Record<string, unknown>>,
      options: { signal?: AbortSignal; timeoutMs?: number },
    ): Promise<EngineResult<T>> {
      const key = `${ctx.principal.tenantId}\u0000${sql}\u0000${JSON.stringify(params)}`;
      return flights
        .run(key, options.signal, (signal) => {
          const run = () => deps.engine.query<T>(sql, params, { ...options, signal });
          const p = deps.slots ? deps.slots.run(ctx.principal.tenantId, run, signal) : run();
          return p.then((r) => {
            deps.onEngineRows?.(ctx, r.rows.length);
            return r;
          });
        })
        .then(({ value, shared }) => {
          if (shared) deps.metrics?.batchedQueries.inc({ outcome: 'shared' });
          return value;
        });
    },
  };

  // The normalized query (relative ranges already resolved) + tenant + scopes determine the SQL,
  // so a hit needs no compile.
  const cacheKey = (ctx: RequestContext, query: NormalizedQuery): string =>
    cache.enabled ? ResultCache.key(ctx.principal.tenantId, ctx.principal.scopes, canonicalJson(query)) : '';

  function cached(key: string): ExecutedResult | undefined {
    if (!cache.enabled) return undefined;
    const hit = cache.get(key);
    deps.metrics?.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    return hit ? { ...hit.value, fromCache: true } : undefined;
  }

  async function execute(ctx: RequestContext, query: NormalizedQuery): Promise<ExecutedResult> {
    const key = cacheKey(ctx, query);
    const hit = cached(key);
    if (hit) return hit;
    const compiled = compileQuery(model, query, ctx.principal.tenantId, deps.rollups?.(ctx.principal.tenantId));
    const generation = cache.generation(ctx.principal.tenantId, compiled.cubes);
    const options = { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs };
    const [result, total] = await Promise.all([
      engine.query(ctx, compiled.sql, compiled.params, options),
      compiled.total ? engine.query<{ total: unknown }>(ctx, compiled.total.sql, compiled.total.params, options) : undefined,
    ]);
    addEngineTime(ctx, result.elapsedMs + (total?.elapsedMs ?? 0));
    const executed: ExecutedResult = {
      compiled,
      rows: shapeRows(compiled.columns, result.rows),
      total: total ? Number(Object.values(total.rows[0] ?? { total: 0 })[0]) : undefined,
      lastRefreshTime: new Date().toISOString(),
      fromCache: false,
    };
    cache.set(key, ctx.principal.tenantId, compiled.cubes, executed, generation);
    return executed;
  }

  /** One merge group: one statement (or, past the row cap, one per member); results by query index. */
  async function runGroup(ctx: RequestContext, g: MergeGroup, queries: readonly NormalizedQuery[]): Promise<Map<number, ExecutedResult>> {
    const results = new Map<number, ExecutedResult>();
    if (g.split) {
      const split = await runSplit(ctx, g, queries);
      if (split) return split;
      if (g.split.sets) {
        // Not fusable (or capped): the same queries planned without grouping sets.
        const members = g.members.map((i) => queries[i]);
        const sub = await Promise.all(planMerges(model, members, limits.maxRowLimit, { fuse: false }).map((sg) => runGroup(ctx, sg, members)));
        for (const m of sub) for (const [k, v] of m) results.set(g.members[k], v);
        return results;
      }
      // Not splittable, or capped: each member alone (still concurrently, still cached).
      await Promise.all(g.members.map(async (i) => results.set(i, await execute(ctx, queries[i]))));
      deps.metrics?.batchedQueries.inc({ outcome: 'executed' }, g.members.length);
      return results;
    }
    const result = await execute(ctx, g.merged);
    if (g.reorder && result.rows.length >= limits.maxRowLimit) {
      // The merged fetch hit the row cap, so per-member slices could be wrong: run each alone.
      await Promise.all(g.members.map(async (i) => results.set(i, await execute(ctx, queries[i]))));
      deps.metrics?.batchedQueries.inc({ outcome: 'executed' }, g.members.length);
      return results;
    }
    deps.metrics?.batchedQueries.inc({ outcome: g.members.length > 1 ? 'merged' : 'executed' }, g.members.length);
    for (const i of g.members) results.set(i, project(result, queries[i], g.reorder));
    return results;
  }

  /** A range-split group: one statement, each member's rows cut from its range's columns. Undefined: not possible. */
  async function runSplit(ctx: RequestContext, g: MergeGroup, queries: readonly NormalizedQuery[]): Promise<Map<number, ExecutedResult> | undefined> {
    const split = g.split!;
    const results = new Map<number, ExecutedResult>();
    const pending = g.members.flatMap((i, pos) => {
      const hit = cached(cacheKey(ctx, queries[i]));
      if (hit) results.set(i, hit);
      return hit ? [] : [pos];
    });
    if (pending.length === 0) return results;
    let compiled: CompiledSplitQuery;
    try {
      compiled = compileSplitQuery(model, g.merged, split, ctx.principal.tenantId, deps.rollups?.(ctx.principal.tenantId));
    } catch (e) {
      if (e instanceof SplitUnsupportedError) return undefined;
      throw e;
    }
    const generation = cache.generation(ctx.principal.tenantId, compiled.cubes);
    const { rows, elapsedMs } = await engine.query(ctx, compiled.sql, compiled.params, { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs });
    addEngineTime(ctx, elapsedMs);
    if (rows.length >= limits.maxRowLimit) return undefined; // some range may have lost groups to the cap
    const lastRefreshTime = new Date().toISOString();
    const { splits: _s, sets: _g, ...statement } = compiled;
    // Rows of one (grouping set, range): the set's bitmask, a non-zero row count for the range.
    const parts = new Map<string, ExecutedResult>();
    const part = (set: number | undefined, range: number): ExecutedResult => {
      const key = `${set}:${range}`;
      let p = parts.get(key);
      if (p) return p;
      const dims = set === undefined ? undefined : new Set(split.sets![set]);
      const columns = compiled.columns.filter((c) => c.kind === 'measure' || !dims || dims.has(c.key));
      const { countAlias, measureAliases } = compiled.splits[range];
      const mask = set === undefined || !compiled.sets ? undefined : { alias: compiled.sets.alias, value: compiled.sets.masks[set] };
      const mine = rows.filter((r) => (!mask || Number(r[mask.alias]) === mask.value) && Number(r[countAlias]) > 0);
      const shaped = shapeRows(
        columns.map((c) => (c.kind === 'measure' ? { ...c, alias: measureAliases[c.alias] } : c)),
        mine,
      );
      p = { compiled: { ...statement, columns }, rows: shaped, lastRefreshTime, fromCache: false };
      parts.set(key, p);
      return p;
    };
    for (const pos of pending) {
      const i = g.members[pos];
      const one = project(part(split.setOf?.[pos], split.rangeOf[pos]), queries[i], true);
      cache.set(cacheKey(ctx, queries[i]), ctx.principal.tenantId, compiled.cubes, one, generation);
      results.set(i, one);
    }
    deps.metrics?.batchedQueries.inc({ outcome: 'merged' }, pending.length);
    return results;
  }

  function project(result: ExecutedResult, query: NormalizedQuery, reorder: boolean): ExecutedResult {
    const wanted = new Set(query.measures);
    const columns = ownColumnOrder(
      result.compiled.columns.filter((c) => c.kind !== 'measure' || wanted.has(c.member)),
      query,
    );
    if (!reorder && columns.length === result.compiled.columns.length && columns.every((c, i) => c === result.compiled.columns[i])) return result;
    let rows = result.rows.map((r) => Object.fromEntries(columns.map((c) => [c.key, r[c.key]])));
    if (reorder) {
      const order = query.order.map(([m, d]) => [orderKey(query, m), d] as const);
      rows = sortAndSlice(rows, order, query.limit, query.offset);
    }
    return { ...result, compiled: { ...result.compiled, columns }, rows };
  }

  /** A member of a merged statement gets its columns in its own query's order (dimensions, time, measures). */
  function ownColumnOrder(columns: readonly CompiledColumn[], query: NormalizedQuery): readonly CompiledColumn[] {
    const keys = [...query.dimensions, ...query.timeDimensions.flatMap((t) => (t.granularity ? [`${t.dimension}.${t.granularity}`] : [])), ...query.measures];
    const byKey = new Map(columns.map((c) => [c.key, c]));
    const ordered = keys.flatMap((k) => (byKey.has(k) ? [byKey.get(k)!] : []));
    return ordered.length === columns.length ? ordered : columns;
  }

  function orderKey(query: NormalizedQuery, member: string): string {
    const td = query.timeDimensions.find((t) => t.dimension === member && t.granularity);
    return td ? `${member}.${td.granularity}` : member;
  }

  return { runGroup };
}
