/**
 * Exports through the query service: the same normalize -> authorize -> compile path as `load`
 * (scopes, tenant scoping), but the rows go from the engine to a file it writes itself, never
 * through memory. The row cap is checked first with a count: over it, the export is refused with
 * the cap in the message, or cut at the cap with `truncated: true` when the caller asked for that.
 */
import { compileExport } from '../compiler/export.js';
import { normalizeQuery } from '../compiler/normalize.js';
import type { Engine, ExportFormat } from '../engine/engine.js';
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery, SemanticQuery } from '../semantic/query.js';
import { splitComparison } from '../compiler/compare.js';
import { authorizeQuery, referencedMembers } from './authorize.js';
import { fingerprint } from './canonical.js';
import type { EngineSlots } from './engine-slots.js';
import type { RequestContext } from './types.js';
import type { CompiledColumn } from '../compiler/compiled.js';

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Where the engine writes the file (a path the caller made). */
  readonly file: string;
  /** The most rows this export may carry (the tenant's export cap). */
  readonly maxRows: number;
  /** Over the cap: cut at the cap and say so, instead of refusing. */
  readonly truncate?: boolean;
  readonly timeoutMs?: number;
}

export interface ExportResult {
  readonly rows: number;
  readonly bytes: number;
  readonly truncated: boolean;
  readonly columns: readonly CompiledColumn[];
  readonly query: NormalizedQuery;
  readonly fingerprint: string;
  readonly members: readonly string[];
}

export interface ExporterDeps {
  readonly model: Model;
  readonly engine: Engine;
  readonly queryTimeoutMs: number;
  readonly slots?: EngineSlots;
  readonly now: () => Date;
}

export function createExporter(deps: ExporterDeps) {
  const { model, engine } = deps;
  const inTurn = <T>(ctx: RequestContext, run: () => Promise<T>) => (deps.slots ? deps.slots.run(ctx.principal.tenantId, run, ctx.signal) : run());

  return async function exportRows(ctx: RequestContext, query: SemanticQuery, options: ExportOptions): Promise<ExportResult> {
    if (!engine.exportTo) throw new UserError('BAD_USER_INPUT', 'this engine cannot write export files');
    if (!query || typeof query !== 'object' || Array.isArray(query)) throw new UserError('BAD_USER_INPUT', 'query must be a JSON object in Cube query format');
    const { base, compareTo } = splitComparison(query);
    if (compareTo) throw new UserError('BAD_USER_INPUT', 'an export holds one period: drop compareTo (a snapshot keeps comparisons)');
    // No row limit but the export cap: a query without `limit` exports every row it has.
    const normalized = normalizeQuery(
      model,
      { ...base, limit: base.limit ?? options.maxRows + 1 },
      { now: deps.now(), defaultLimit: options.maxRows + 1, maxLimit: Number.MAX_SAFE_INTEGER },
    );
    authorizeQuery(model, ctx.principal, normalized);
    const compiled = compileExport(model, normalized, ctx.principal.tenantId);
    const timeoutMs = options.timeoutMs ?? deps.queryTimeoutMs;
    const counted = await inTurn(ctx, () =>
      engine.query<Record<string, unknown>>(compiled.count.sql, compiled.count.params, { signal: ctx.signal, timeoutMs }),
    );
    const total = Number(Object.values(counted.rows[0] ?? { total: 0 })[0]);
    const rows = Math.max(0, Math.min(total - normalized.offset, normalized.limit));
    let limit = normalized.limit;
    let truncated = false;
    if (rows > options.maxRows) {
      if (!options.truncate) {
        throw new UserError(
          'EXPORT_TOO_LARGE',
          `this export has ${rows} rows, over your export limit of ${options.maxRows}: narrow it, or ask for a truncated export`,
          {
            maxRows: options.maxRows,
            rows,
          },
        );
      }
      limit = options.maxRows;
      truncated = true;
    }
    const statement = limit === normalized.limit ? compiled : compileExport(model, { ...normalized, limit }, ctx.principal.tenantId);
    const { bytes } = await inTurn(ctx, () =>
      engine.exportTo!(statement.sql, statement.params, options.format, options.file, { signal: ctx.signal, timeoutMs }),
    );
    return {
      rows: Math.min(rows, limit),
      bytes,
      truncated,
      columns: compiled.columns,
      query: normalized,
      fingerprint: fingerprint(normalized),
      members: referencedMembers(normalized),
    };
  };
}
