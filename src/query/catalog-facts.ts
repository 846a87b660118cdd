/**
 * Facts about a tenant's data an agent needs before it asks: per cube, the dates it holds
 * (coverage: first/last day of its time dimension, approximate rows, last ingestion), and per
 * low-cardinality string dimension, the values this tenant actually has (capped). Both are
 * tenant-scoped statements from the compiler, run like every statement (the tenant's engine slot,
 * the request's signal, the query timeout, audit), and cached per tenant until the TTL passes or
 * the cube's data changes (the query service's invalidation).
 */
import { SCOPES } from '../auth/principal.js';
import { compileQuery } from '../compiler/compile.js';
import { compileCoverage } from '../compiler/coverage.js';
import { normalizeQuery } from '../compiler/normalize.js';
import type { Engine } from '../engine/engine.js';
import { ForbiddenError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';
import { authorizeQuery } from './authorize.js';
import { ALL_TENANTS } from './cache.js';
import type { EngineSlots } from './engine-slots.js';
import { addEngineTime } from './timing.js';
import type { RequestContext } from './types.js';

/** Values listed per dimension at most; a dimension with more is "high cardinality" (values omitted). */
export const SAMPLE_VALUE_CAP = 20;

export interface CubeCoverage {
  readonly cube: string;
  /** The time dimension the dates are of ("ad_performance.date"); absent when the cube has none. */
  readonly timeDimension?: string;
  /** First and last value of the time dimension in the tenant's rows ("YYYY-MM-DD" for whole days); null when no rows. */
  readonly firstDate: string | null;
  readonly lastDate: string | null;
  /** Rows the tenant has in the cube (exact at computation time; approximate as the data moves). */
  readonly approxRows: number;
  /** Latest ingestion time of the tenant's rows (ISO, UTC), when the cube's meta names the column. */
  readonly lastIngestedAt: string | null;
  /** When these facts were computed (they are cached). */
  readonly computedAt: string;
}

export interface SampleValues {
  readonly member: string;
  /** The tenant's distinct values in ascending order, at most SAMPLE_VALUE_CAP. */
  readonly values: readonly string[];
  /** False when the tenant has more than SAMPLE_VALUE_CAP values (none are listed then). */
  readonly complete: boolean;
}

export interface CatalogFactsDeps {
  readonly model: Model;
  readonly engine: Engine;
  readonly slots?: EngineSlots;
  readonly queryTimeoutMs: number;
  readonly ttlMs: number;
  readonly now: () => Date;
  readonly audit: (ctx: RequestContext, read: { fingerprint: string; members: readonly string[]; rows: number }, durationMs: number, error?: unknown) => void;
}

export interface CatalogFacts {
  /** Coverage of a cube or view (a view: of the cube behind its first time dimension) for ctx's tenant. */
  coverage(ctx: RequestContext, source: string): Promise<CubeCoverage | undefined>;
  /** The tenant's values of a string dimension the caller may read; throws FORBIDDEN / BAD_USER_INPUT like a query. */
  sampleValues(ctx: RequestContext, member: string): Promise<SampleValues>;
  invalidate(tenantId: string, cubes?: readonly string[]): void;
}

interface Entry<V> {
  readonly at: number;
  readonly cube: string;
  readonly value: Promise<V>;
}

/** "2026-10-31 00:00:00.000" -> "2026-10-31" for whole days; "…T…" ISO otherwise. */
function dateText(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  const s = String(v).replace(' ', 'T');
  return /T00:00:00(\.0+)?$/.test(s) ? s.slice(0, 10) : s;
}

export function createCatalogFacts(deps: CatalogFactsDeps): CatalogFacts {
  const { model } = deps;
  const entries = new Map<string, Entry<unknown>>();

  function cached<V>(key: string, cube: string, make: () => Promise<V>): Promise<V> {
    const hit = entries.get(key);
    if (hit && Date.now() - hit.at <= deps.ttlMs) return hit.value as Promise<V>;
    const value = make();
    if (deps.ttlMs > 0) {
      entries.set(key, { at: Date.now(), cube, value });
      value.catch(() => entries.delete(key));
    }
    return value;
  }

  async function run(ctx: RequestContext, fingerprint: string, members: readonly string[], sql: string, params: Readonly<Record<string, unknown>>) {
    const started = performance.now();
    try {
      const exec = () => deps.engine.query(sql, params, { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs });
      const { rows, elapsedMs } = await (deps.slots ? deps.slots.run(ctx.principal.tenantId, exec, ctx.signal) : exec());
      addEngineTime(ctx, elapsedMs);
      deps.audit(ctx, { fingerprint, members, rows: rows.length }, performance.now() - started);
      return rows;
    } catch (e) {
      deps.audit(ctx, { fingerprint, members, rows: 0 }, performance.now() - started, e);
      throw e;
    }
  }

  /** The cube and time dimension a source's coverage is read from. */
  function coverageTarget(source: string): { cube: string; timeDimension?: string; path?: string } | undefined {
    if (Object.hasOwn(model.cubes, source)) {
      const cube = model.cubes[source];
      const preferred = typeof cube.meta.coverage_time_dimension === 'string' ? cube.dimensions[cube.meta.coverage_time_dimension] : undefined;
      const td = preferred ?? Object.values(cube.dimensions).find((d) => d.type === 'time' && d.public && d.sql);
      return { cube: source, timeDimension: td?.name, path: td?.path };
    }
    if (!Object.hasOwn(model.views, source)) return undefined;
    for (const vm of Object.values(model.views[source].members)) {
      const { member } = resolveMember(model, vm.path);
      if (member.kind === 'dimension' && member.type === 'time') return coverageTarget(member.path.split('.')[0]);
    }
    return undefined;
  }

  async function coverage(ctx: RequestContext, source: string): Promise<CubeCoverage | undefined> {
    if (!ctx.principal.scopes.has(SCOPES.METRICS_READ)) {
      throw new ForbiddenError(`reading metrics requires the "${SCOPES.METRICS_READ}" scope`, { scope: SCOPES.METRICS_READ });
    }
    const target = coverageTarget(source);
    if (!target) return undefined;
    const { cube, timeDimension, path } = target;
    const column = model.cubes[cube].meta.ingested_at_column;
    const ingestedAtColumn = typeof column === 'string' ? column : undefined;
    return cached(`cov\u0000${ctx.principal.tenantId}\u0000${cube}`, cube, async () => {
      const st = compileCoverage(model, cube, ctx.principal.tenantId, { timeDimension, ingestedAtColumn });
      const [row] = await run(ctx, `coverage:${cube}`, [], st.sql, st.params);
      const rows = Number(row?.rows ?? 0);
      const ingested = rows > 0 ? dateText(row?.ingested) : null;
      return {
        cube,
        ...(path ? { timeDimension: path } : {}),
        firstDate: rows > 0 && path ? dateText(row?.first) : null,
        lastDate: rows > 0 && path ? dateText(row?.last) : null,
        approxRows: rows,
        lastIngestedAt: ingested ? `${ingested.length === 10 ? `${ingested}T00:00:00` : ingested}Z`.replace(/(\.\d+)?Z$/, 'Z') : null,
        computedAt: deps.now().toISOString(),
      };
    });
  }

  async function sampleValues(ctx: RequestContext, member: string): Promise<SampleValues> {
    const normalized = normalizeQuery(
      model,
      { dimensions: [member], limit: SAMPLE_VALUE_CAP + 1 },
      { now: deps.now(), defaultLimit: SAMPLE_VALUE_CAP + 1, maxLimit: SAMPLE_VALUE_CAP + 1 },
    );
    authorizeQuery(model, ctx.principal, normalized);
    const compiled = compileQuery(model, normalized, ctx.principal.tenantId);
    const cube = compiled.cubes[0] ?? member.split('.')[0];
    // Scopes were checked above; the values are the tenant's, so the key is tenant + member.
    return cached(`val\u0000${ctx.principal.tenantId}\u0000${member}`, cube, async () => {
      const rows = await run(ctx, `sample_values:${member}`, [member], compiled.sql, compiled.params);
      const key = compiled.columns[0]?.alias;
      // Over the cap nothing is listed, so which rows came back does not matter; sorted here.
      const values = rows
        .map((r) => (key ? r[key] : Object.values(r)[0]))
        .filter((v) => v !== null && v !== '')
        .map(String)
        .sort();
      const complete = rows.length <= SAMPLE_VALUE_CAP;
      return { member, values: complete ? values : [], complete };
    });
  }

  return {
    coverage,
    sampleValues,
    invalidate(tenantId, cubes) {
      for (const [k, e] of entries) {
        if (tenantId !== ALL_TENANTS && !k.includes(`\u0000${tenantId}\u0000`)) continue;
        if (!cubes || cubes.includes(e.cube)) entries.delete(k);
      }
    },
  };
}
