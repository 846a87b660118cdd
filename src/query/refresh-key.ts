/**
 * Refresh keys through the query service: a cube's `refresh_key.sql`, compiled for the caller's
 * tenant only (compileRefreshKey scopes every cube reference to it) and run like every other
 * statement: the request's AbortSignal, the query timeout, engine metrics (engine.onQuery),
 * engine time on the request, one audit entry. Live subscriptions poll it; nobody else runs a
 * refresh key on the engine.
 */
import { SCOPES } from '../auth/principal.js';
import { compileRefreshKey } from '../compiler/compile.js';
import type { Engine } from '../engine/engine.js';
import { ForbiddenError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import { addEngineTime } from './timing.js';
import type { RequestContext } from './types.js';

/** What the audit log is told about a refresh-key check (fingerprint `refresh_key:<cube>`). */
export interface RefreshKeyRead {
  readonly fingerprint: string;
  readonly members: readonly string[];
  readonly rows: number;
}

export interface RefreshKeyDeps {
  readonly model: Model;
  readonly engine: Engine;
  readonly queryTimeoutMs?: number;
  /** The query service's audit: never throws, never blocks. */
  audit(ctx: RequestContext, read: RefreshKeyRead, durationMs: number, error?: unknown): void;
}

/**
 * The current value of `cube`'s refresh key for ctx's tenant, as a string to compare with the
 * previous one; undefined when the cube has no `refresh_key.sql`. Requires `metrics:read`.
 */
export type RefreshKeyReader = (ctx: RequestContext, cube: string) => Promise<string | undefined>;

export function createRefreshKeyReader(deps: RefreshKeyDeps): RefreshKeyReader {
  return async (ctx, cube) => {
    const started = performance.now();
    const read = { fingerprint: `refresh_key:${cube}`, members: [] as readonly string[], rows: 0 };
    try {
      if (!ctx.principal.scopes.has(SCOPES.METRICS_READ)) {
        throw new ForbiddenError(`reading metrics requires the "${SCOPES.METRICS_READ}" scope`, { scope: SCOPES.METRICS_READ });
      }
      const statement = compileRefreshKey(deps.model, cube, ctx.principal.tenantId);
      if (!statement) return undefined;
      const { rows, elapsedMs } = await deps.engine.query(statement.sql, statement.params, { signal: ctx.signal, timeoutMs: deps.queryTimeoutMs });
      addEngineTime(ctx, elapsedMs);
      deps.audit(ctx, { ...read, rows: rows.length }, performance.now() - started);
      return JSON.stringify(rows);
    } catch (e) {
      deps.audit(ctx, read, performance.now() - started, e);
      throw e;
    }
  };
}
