/**
 * Batch ingestion: NDJSON (or an array) of rows for one table -> checks -> insert good rows with
 * the caller's tenant, quarantine bad rows with a reason, record the batch id so a retry inserts
 * nothing twice, then signal the change so live subscriptions refresh.
 */
import { randomUUID } from 'node:crypto';
import { SCOPES, type Principal } from '../auth/principal.js';
import type { Engine } from '../engine/engine.js';
import { ForbiddenError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ChangeSignals } from '../live/signals.js';
import type { Model } from '../semantic/model.js';
import { suggest } from '../semantic/suggest.js';
import { createLedger, type Ledger, type QuarantinedRow } from './ledger.js';
import { NDJSON_START, walkNdjson } from './ndjson.js';
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

export interface IngestService {
  ingest(principal: Principal, table: string, rows: readonly unknown[] | string, batchId?: string): Promise<IngestReport>;
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
}

export const REPORTED_QUARANTINE = 1_000;
export const BATCH_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const DEFAULT_CHUNK_ROWS = 20_000;

export function createIngestService(deps: IngestServiceDeps): IngestService {
  const { engine, model } = deps;
  const ledger = deps.ledger ?? createLedger(engine);
  const chunkRows = deps.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const schemas = new Map<string, Promise<TableSchema>>();
  /** Batches running in this process, by tenant + batch id: a concurrent retry waits for the first. */
  const inFlight = new Map<string, { table: string; done: Promise<IngestReport> }>();
  const cubesOf = new Map<string, readonly string[]>(INGESTIBLE_TABLES.map((t) => [t, cubesReadingTable(model, t)]));

  function schemaOf(table: string): Promise<TableSchema> {
    let s = schemas.get(table);
    if (!s) {
      s = describeTable(engine, table);
      schemas.set(table, s);
      s.catch(() => schemas.delete(table)); // retry the lookup next time (migrations may run later)
    }
    return s;
  }

  async function run(principal: Principal, table: IngestibleTable, input: readonly unknown[] | string, batchId: string): Promise<IngestReport> {
    const tenantId = principal.tenantId;
    const previous = await ledger.findBatch(tenantId, batchId);
    if (previous) {
      if (previous.table !== table) throw conflict(batchId, previous.table, table);
      deps.metrics?.ingestRows.inc({ status: 'duplicate' }, previous.inserted);
      return {
        batchId,
        table,
        inserted: previous.inserted,
        quarantined: await ledger.quarantinedOf(tenantId, batchId, REPORTED_QUARANTINE),
        quarantinedCount: previous.quarantined,
        duplicate: true,
      };
    }

    const schema = await schemaOf(table);
    const encoder = compileRowEncoder(schema, tenantId);
    const sink = createRowSink(engine, { table, columns: encoder.columns, compact: encoder.compact });
    const bad: QuarantinedRow[] = [];
    let seen = 0;
    const check = (value: unknown, line: number, raw: () => string) => {
      seen++;
      const r = encoder.encode(value);
      if (typeof r === 'string') bad.push({ line, reason: r, raw: raw() });
      else sink.add(r);
    };
    // Validate a chunk, hand it to the engine, validate the next while ClickHouse parses.
    if (typeof input === 'string') {
      let cursor = NDJSON_START;
      while (!cursor.done) {
        cursor = walkNdjson(
          input,
          (value, line, text) => check(value, line, () => text),
          (reason, line, text) => {
            seen++;
            bad.push({ line, reason, raw: text });
          },
          cursor,
          chunkRows,
        );
        await sink.cut();
      }
    } else {
      for (let i = 0; i < input.length; i++) {
        check(input[i], i + 1, () => safeJson(input[i]));
        if ((i + 1) % chunkRows === 0) await sink.cut();
      }
    }
    if (seen === 0) throw new UserError('BAD_USER_INPUT', 'the batch holds no rows: send NDJSON, one JSON object per line');
    await sink.finish();
    const inserted = sink.count;
    await ledger.quarantine(tenantId, batchId, table, bad);
    // Recorded last: a batch counts as done only once its rows are in.
    await ledger.recordBatch(tenantId, { batchId, table, inserted, quarantined: bad.length });

    deps.metrics?.ingestRows.inc({ status: 'inserted' }, inserted);
    deps.metrics?.ingestRows.inc({ status: 'quarantined' }, bad.length);
    const cubes = cubesOf.get(table) ?? [];
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

  return {
    async ingest(principal, table, rows, batchId) {
      if (!principal.scopes.has(SCOPES.INGEST_WRITE)) {
        throw new ForbiddenError(`ingestion requires scope "${SCOPES.INGEST_WRITE}"`, { scopes: [SCOPES.INGEST_WRITE] });
      }
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
      const done = run(principal, table, rows, id);
      inFlight.set(key, { table, done });
      try {
        return await done;
      } finally {
        inFlight.delete(key);
      }
    },
  };
}

function conflict(batchId: string, was: string, now: string): UserError {
  return new UserError('CONFLICT', `batch id "${batchId}" was already used for table "${was}", not "${now}"`, { batchId });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
