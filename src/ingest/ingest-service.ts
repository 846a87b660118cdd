/**
 * Batch ingestion: NDJSON (or an array) of rows for one table -> checks -> insert good rows with
 * the caller's tenant, quarantine bad rows with a reason, record the batch id so a retry inserts
 * nothing twice, then signal the change so live subscriptions refresh.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SCOPES, type Principal } from '../auth/principal.js';
import type { Engine } from '../engine/engine.js';
import { ForbiddenError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ChangeSignals } from '../live/signals.js';
import type { Model } from '../semantic/model.js';
import { suggest } from '../semantic/suggest.js';
import { type BatchSummary, createLedger, type Ledger, QUARANTINE_TABLE, type QuarantinedRow, type QuarantineEntry } from './ledger.js';
import { compileQualityCheck, createQualityLookups, type QualityLookups, rulesForTable } from './quality-checks.js';
import { type NdjsonCursor, NdjsonSegments, NdjsonStream, walkNdjson } from './ndjson.js';
import { deleteRowsByDimension, type DeletionReport } from './delete-rows.js';
import { describeTable, type TableSchema } from './table-schema.js';
import { createRowSink } from './sink.js';
import { cubesReadingTable, INGESTIBLE_TABLES, isIngestibleTable, type IngestibleTable } from './tables.js';
import { compileRowEncoder } from './validate.js';

export interface IngestReport {
  readonly batchId: string;
  readonly table: string;
  readonly inserted: number;
  /** Rejected rows (1-based line / array position) with the reason; at most REPORTED_QUARANTINE entries. */
  readonly quarantined: readonly { readonly line: number; readonly reason: string }[];
  /** All rejected rows, also those beyond the listed ones. */
  readonly quarantinedCount: number;
  /** True when this batch id was already ingested: nothing was inserted this time. */
  readonly duplicate: boolean;
}

export interface IngestOptions {
  /** Where the batch came from (http, graphql, replay), kept in the batch history. */
  readonly source?: string;
  /** The batch whose quarantined rows this batch re-submits. */
  readonly replayOf?: string;
}

/** A quarantined row, corrected by the caller, to ingest again. */
export interface QuarantineFix {
  readonly line: number;
  readonly row: unknown;
}

export interface ReplayReport extends IngestReport {
  /** Lines of the original batch whose corrected row went in (now resolved as replayed). */
  readonly replayedLines: readonly number[];
}

/**
 * Rows: parsed values, NDJSON text, NDJSON bytes cut at line ends, or such bytes still arriving
 * (the HTTP door's body: walked while it is read, inserted once all of it is in and hashed).
 */
export type IngestInput = readonly unknown[] | string | NdjsonSegments | NdjsonStream;

export interface IngestService {
  ingest(principal: Principal, table: string, rows: IngestInput, batchId?: string, options?: IngestOptions): Promise<IngestReport>;
  /** The tenant's batches, newest first (ingest:write). */
  batches(principal: Principal, limit: number): Promise<BatchSummary[]>;
  /** The tenant's quarantined rows, newest first; pending only unless includeResolved (ingest:write). */
  quarantine(principal: Principal, filter: { batchId?: string; limit: number; includeResolved?: boolean }): Promise<QuarantineEntry[]>;
  /** Re-submits corrected quarantined rows of a batch as a new batch (its id derives from the fixes: retry-safe). */
  replay(principal: Principal, batchId: string, fixes: readonly QuarantineFix[]): Promise<ReplayReport>;
  /** Marks quarantined rows as discarded (kept, with who and when). */
  discard(principal: Principal, batchId: string, lines: readonly number[]): Promise<number>;
  /**
   * Deletes the tenant's rows holding a client, campaign or ad-account value from every table
   * that holds it (delete-rows.ts), then signals the cubes reading those tables (ingest:write).
   */
  deleteRows(principal: Principal, dimension: string, value: string): Promise<DeletionReport>;
}

export interface IngestServiceDeps {
  readonly engine: Engine;
  readonly model: Model;
  readonly signals: ChangeSignals;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Rows per engine insert (inserts are pipelined with validation). */
  readonly chunkRows?: number;
  /** Test seam / alternative ledger. */
  readonly ledger?: Ledger;
  readonly lookups?: QualityLookups;
}

export const REPORTED_QUARANTINE = 1_000;
/** Rows per replay or discard call (the report lists every rejected row up to this many). */
export const MAX_RESOLVE_ROWS = 1_000;
export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const DEFAULT_CHUNK_ROWS = 20_000;

/** A batch found finished while this run validated its first rows: the run ends with its report. */
class AlreadyDone extends Error {
  constructor(readonly report: IngestReport) {
    super('batch already done');
  }
}

export function createIngestService(deps: IngestServiceDeps): IngestService {
  const { engine, model } = deps;
  const ledger = deps.ledger ?? createLedger(engine);
  const lookups = deps.lookups ?? createQualityLookups(engine);
  const rulesOf = new Map(INGESTIBLE_TABLES.map((t) => [t, rulesForTable(model, t)]));
  const chunkRows = deps.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const schemas = new Map<string, Promise<TableSchema>>();
  /** Batches running in this process, by tenant + batch id: a concurrent retry waits for the first. */
  const inFlight = new Map<string, { table: string; done: Promise<IngestReport> }>();
  // The quarantine too: a deletion reaches its rows (and the ingest_quality cube reading them).
  const cubesOf = new Map<string, readonly string[]>([...INGESTIBLE_TABLES, QUARANTINE_TABLE].map((t) => [t, cubesReadingTable(model, t)]));

  function schemaOf(table: string): Promise<TableSchema> {
    let s = schemas.get(table);
    if (!s) {
      s = describeTable(engine, table);
      schemas.set(table, s);
      s.catch(() => schemas.delete(table)); // retry the lookup next time (migrations may run later)
    }
    return s;
  }

  /** The table's encoder (checks) and the model's rules for it, their lookups done for this tenant. */
  async function prepare(table: IngestibleTable, tenantId: string) {
    const schema = await schemaOf(table);
    const encoder = compileRowEncoder(schema, tenantId);
    const quality = await compileQualityCheck(rulesOf.get(table) ?? [], schema, encoder.columns, tenantId, lookups);
    // Binary rows when the engine reads them (ClickHouse servers before RowBinaryWithDefaults get JSON).
    const binary = encoder.binary && (await engine.acceptsFormat?.('RowBinaryWithDefaults')) ? encoder.binary : undefined;
    return { encoder, quality, binary };
  }

  async function run(principal: Principal, table: IngestibleTable, input: IngestInput, batchId: string, options: IngestOptions): Promise<IngestReport> {
    const tenantId = principal.tenantId;
    const started = performance.now();
    // Started now, beside the admission: the schema and the rules' lookups (reference values,
    // trailing maxima) do not depend on it, so the engine works on them while the body arrives.
    const prepared = prepare(table, tenantId);
    prepared.catch(() => undefined); // awaited below; a duplicate or refused batch does not need it
    // A body still arriving: the door hashes its bytes as they come (settled once all are in and checked).
    const bodySha256 = input instanceof NdjsonStream ? input.sha256 : Promise.resolve(hashOf(input));
    // Admission (done already? claim) runs on the engine while this thread validates the first
    // chunk (of a body still arriving: once all of it is in); nothing is inserted before it is
    // through (admitted()).
    const admission = bodySha256.then((sha256) => admit(tenantId, table, batchId, sha256));
    admission.catch(() => undefined); // awaited below
    let prep: Awaited<typeof prepared>;
    try {
      prep = await prepared;
    } catch (e) {
      const a = await admission;
      if (a.duplicate) return a.duplicate; // a finished batch needs no schema
      throw e;
    }
    const { encoder, quality, binary } = prep;
    const cubes = cubesOf.get(table) ?? [];
    // From the first insert until the change signal is out, this process's refresh-key checks
    // leave these cubes alone: the signal re-evaluates them, once (live/refresh.ts). Opened at the
    // admission, not before: a body still arriving (a slow or stalled client) must not hold it.
    let endWrite: (() => void) | undefined;
    const beginWrite = () => {
      endWrite ??= deps.signals.beginWrite(tenantId, cubes);
    };
    try {
      return await insertAndRecord();
    } catch (e) {
      if (e instanceof AlreadyDone) return e.report;
      throw e;
    } finally {
      endWrite?.();
    }

    /** Waits for the admission; a finished batch ends the run with its report. */
    async function admitted(): Promise<void> {
      const a = await admission;
      if (a.duplicate) throw new AlreadyDone(a.duplicate);
    }

    async function insertAndRecord(): Promise<IngestReport> {
      const sink = createRowSink(engine, {
        table,
        columns: encoder.columns,
        compact: encoder.compact,
        binary,
        // Nothing is inserted before the admission; chunks validated before it wait in the sink.
        gate: admitted().then(beginWrite),
        token: `ingest/${tenantId}/${batchId}`,
        onStored: (chunk, rows) => deps.logger?.debug({ tenantId, table, batchId, chunk, rows }, 'ingest: chunk stored'),
      });
      const bad: QuarantinedRow[] = [];
      let seen = 0;
      // raw: the line's text (NDJSON), or a thunk that serializes an array element only when it is bad.
      const check = (value: unknown, line: number, raw: string | (() => string)) => {
        seen++;
        const r = encoder.encode(value);
        if (typeof r === 'string') bad.push({ line, reason: r, raw: typeof raw === 'string' ? raw : raw() });
        else {
          const failed = quality?.(r);
          if (failed) bad.push({ line, reason: failed.reason, rule: failed.rule, raw: typeof raw === 'string' ? raw : raw() });
          else sink.add(r);
        }
      };
      // Validate a chunk, hand it to the engine, validate the next while ClickHouse parses.
      if (typeof input === 'string' || input instanceof NdjsonSegments || input instanceof NdjsonStream) {
        // Chunks are cut every chunkRows non-blank lines of the body, wherever its segments end:
        // the same body gives the same chunks (and deduplication tokens) however it arrived.
        const onBad = (reason: string, line: number, text: string) => {
          seen++;
          bad.push({ line, reason, raw: text });
        };
        let lineNo = 0;
        let chunkStart = 0;
        const segments = typeof input === 'string' ? [input] : input instanceof NdjsonStream ? input.segments() : input.segments;
        for await (const segment of segments) {
          const text = typeof segment === 'string' ? segment : segment.toString('utf8');
          let cursor: NdjsonCursor = { offset: 0, lineNo, done: false };
          while (!cursor.done) {
            cursor = walkNdjson(text, check, onBad, cursor, chunkRows - (seen - chunkStart));
            if (seen - chunkStart === chunkRows) {
              await sink.cut();
              chunkStart = seen;
            }
          }
          lineNo = cursor.lineNo;
          // A body still arriving: let the door read on between segments (a socket left unread
          // would slow the client, and the inserts wait for the last byte).
          if (input instanceof NdjsonStream) await new Promise<void>((r) => setImmediate(r));
        }
      } else {
        for (let i = 0; i < input.length; i++) {
          check(input[i], i + 1, () => safeJson(input[i]));
          if ((i + 1) % chunkRows === 0) {
            await sink.cut();
          }
        }
      }
      await admitted();
      if (seen === 0) throw new UserError('BAD_USER_INPUT', 'the batch holds no rows: send NDJSON, one JSON object per line');
      await sink.finish();
      const inserted = sink.count;
      await ledger.quarantine(tenantId, batchId, table, bad);
      // Recorded last: a batch counts as done only once its rows are in.
      await ledger.recordBatch(tenantId, {
        batchId,
        table,
        inserted,
        quarantined: bad.length,
        bodySha256: await bodySha256,
        source: options.source ?? '',
        durationMs: performance.now() - started,
        replayOf: options.replayOf ?? '',
      });

      deps.metrics?.ingestRows.inc({ status: 'inserted' }, inserted);
      deps.metrics?.ingestRows.inc({ status: 'quarantined' }, bad.length);
      // An empty cube list would mean "everything changed": a table no cube reads signals nothing.
      if (inserted > 0 && cubes.length > 0) {
        await deps.signals.publish({ tenantId, cubes }).catch((err: Error) => {
          deps.logger?.warn({ tenantId, table, err: err.message }, 'ingest: change signal failed; live queries refresh on their next trigger');
        });
      }
      deps.logger?.info({ tenantId, table, batchId, inserted, quarantined: bad.length }, 'ingest: batch done');
      return {
        batchId,
        table,
        inserted,
        quarantined: bad.slice(0, REPORTED_QUARANTINE).map(({ line, reason }) => ({ line, reason })),
        quarantinedCount: bad.length,
        duplicate: false,
      };
    }
  }

  /**
   * Whether this body may insert under batch id: a finished batch gives its first report
   * (`duplicate`), another body or table a 409; otherwise the first body to claim the id owns it.
   * A retry (same body) may re-run it, anywhere: every chunk carries a token derived from
   * (tenant, id, chunk), so ClickHouse stores each chunk once.
   */
  async function admit(tenantId: string, table: IngestibleTable, batchId: string, bodySha256: string): Promise<{ duplicate?: IngestReport }> {
    const previous = await ledger.findBatch(tenantId, batchId);
    if (previous) {
      if (previous.table !== table) throw conflict(batchId, previous.table, table);
      // Batches recorded before bodies were hashed carry no hash: nothing to compare.
      if (previous.bodySha256 && previous.bodySha256 !== bodySha256) throw reused(batchId);
      deps.metrics?.ingestRows.inc({ status: 'duplicate' }, previous.inserted);
      return {
        duplicate: {
          batchId,
          table,
          inserted: previous.inserted,
          quarantined: await ledger.quarantinedOf(tenantId, batchId, REPORTED_QUARANTINE),
          quarantinedCount: previous.quarantined,
          duplicate: true,
        },
      };
    }
    const held = await ledger.claim(tenantId, batchId, { table, bodySha256 });
    if (held.table !== table) throw conflict(batchId, held.table, table);
    if (held.bodySha256 !== bodySha256) throw reused(batchId);
    return {};
  }

  function requireWrite(principal: Principal): void {
    if (!principal.scopes.has(SCOPES.INGEST_WRITE)) {
      throw new ForbiddenError(`ingestion requires scope "${SCOPES.INGEST_WRITE}"`, { scopes: [SCOPES.INGEST_WRITE] });
    }
  }

  async function pendingRows(principal: Principal, batchId: string, lines: readonly number[]): Promise<QuarantineEntry[]> {
    if (lines.length === 0 || lines.length > MAX_RESOLVE_ROWS) {
      throw new UserError('BAD_USER_INPUT', `give 1-${MAX_RESOLVE_ROWS} quarantined lines per call`, { limit: MAX_RESOLVE_ROWS });
    }
    const found = await ledger.listQuarantine(principal.tenantId, { batchId, lines, limit: lines.length, includeResolved: false });
    const have = new Set(found.map((e) => e.line));
    const missing = lines.filter((l) => !have.has(l));
    if (missing.length > 0) {
      throw new UserError('NOT_FOUND', `batch "${batchId}" has no pending quarantined row at line(s) ${missing.slice(0, 10).join(', ')}`, { batchId });
    }
    return found;
  }

  function hashOf(input: Exclude<IngestInput, NdjsonStream>): string {
    const hash = createHash('sha256');
    if (typeof input === 'string') hash.update(input);
    else if (input instanceof NdjsonSegments) {
      // The body's bytes: the segments joined by "\n".
      input.segments.forEach((segment, i) => {
        if (i > 0) hash.update('\n');
        hash.update(segment);
      });
    } else hash.update(safeJson(input));
    return hash.digest('hex');
  }

  const service: IngestService = {
    async batches(principal, limit) {
      requireWrite(principal);
      return ledger.listBatches(principal.tenantId, limit);
    },
    async quarantine(principal, f) {
      requireWrite(principal);
      return ledger.listQuarantine(principal.tenantId, {
        ...(f.batchId !== undefined ? { batchId: f.batchId } : {}),
        limit: f.limit,
        includeResolved: f.includeResolved ?? false,
      });
    },
    async replay(principal, batchId, fixes) {
      requireWrite(principal);
      const lines = fixes.map((f) => f.line);
      if (new Set(lines).size !== lines.length) throw new UserError('BAD_USER_INPUT', 'each quarantined line may be fixed once per replay');
      const entries = await pendingRows(principal, batchId, lines);
      const table = entries[0].table;
      const digest = createHash('sha256').update(safeJson(fixes)).digest('hex').slice(0, 16);
      const replayId = `${batchId.slice(0, 100)}.replay-${digest}`;
      const report = await service.ingest(
        principal,
        table,
        fixes.map((f) => f.row),
        replayId,
        { source: 'replay', replayOf: batchId },
      );
      const rejected = new Set(report.quarantined.map((q) => q.line));
      const replayedLines = lines.filter((_, i) => !rejected.has(i + 1));
      // Also on a retry (duplicate): resolutions replace by line, and the first run may have died before this.
      await ledger.resolve(principal.tenantId, batchId, replayedLines, { status: 'replayed', by: principal.subject, replayBatchId: replayId });
      return { ...report, replayedLines };
    },
    async discard(principal, batchId, lines) {
      requireWrite(principal);
      await pendingRows(principal, batchId, lines);
      await ledger.resolve(principal.tenantId, batchId, lines, { status: 'discarded', by: principal.subject });
      return lines.length;
    },
    async deleteRows(principal, dimension, value) {
      requireWrite(principal);
      const endWrite = deps.signals.beginWrite(principal.tenantId, [...new Set([...cubesOf.values()].flat())]);
      try {
        const report = await deleteRowsByDimension({ engine, schemaOf }, principal.tenantId, dimension, value);
        const cubes = [...new Set(report.tables.flatMap((t) => cubesOf.get(t.table) ?? []))];
        if (cubes.length > 0) {
          // Caches of every instance drop these cubes; live subscriptions re-evaluate; rollups of them
          // are rebuilt for the tenant (rows left without an insert).
          await deps.signals.publish({ tenantId: principal.tenantId, cubes, removed: true }).catch((err: Error) => {
            deps.logger?.warn({ err: err.message, tenantId: principal.tenantId }, 'ingest: change signal after a deletion failed');
          });
        }
        return report;
      } finally {
        endWrite();
      }
    },
    async ingest(principal, table, rows, batchId, options = {}) {
      requireWrite(principal);
      if (!isIngestibleTable(table)) {
        const s = suggest(table, INGESTIBLE_TABLES);
        throw new UserError('NOT_FOUND', `unknown table "${table}"${s ? ` — did you mean "${s}"?` : ''}; ingestible tables: ${INGESTIBLE_TABLES.join(', ')}`, {
          table,
          suggestion: s,
        });
      }
      if (batchId !== undefined && !BATCH_ID_PATTERN.test(batchId)) {
        throw new UserError('BAD_USER_INPUT', 'batch id must be 1-128 characters of letters, digits, ".", "_", ":" or "-"', { batchId: batchId.slice(0, 128) });
      }
      const id = batchId ?? randomUUID();
      const key = `${principal.tenantId}\u0000${id}`;
      const running = inFlight.get(key);
      if (running) {
        if (running.table !== table) throw conflict(id, running.table, table);
        const first = await running.done;
        deps.metrics?.ingestRows.inc({ status: 'duplicate' }, first.inserted);
        return { ...first, duplicate: true };
      }
      const done = run(principal, table, rows, id, options);
      inFlight.set(key, { table, done });
      try {
        return await done;
      } finally {
        inFlight.delete(key);
      }
    },
  };
  return service;
}

function conflict(batchId: string, was: string, now: string): UserError {
  return new UserError('CONFLICT', `batch id "${batchId}" was already used for table "${was}", not "${now}"`, { batchId });
}

function reused(batchId: string): UserError {
  return new UserError(
    'IDEMPOTENCY_KEY_REUSED',
    `batch id "${batchId}" was already used with a different body; a retry must resend the same body, new data needs a new batch id`,
    { batchId },
  );
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
