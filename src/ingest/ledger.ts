/**
 * The ingestion ledger in ClickHouse: ingest_batches (one row per accepted batch id, per tenant)
 * and ingest_quarantine (rejected rows with their reason). Both tables are created by the
 * ClickHouse migrations (0008_ingest.sql); every read is parameterized and scoped to the
 * caller's tenant through selectForTenant (tenant-sql.ts): the tenant id is only ever a bound
 * parameter. Writes carry tenant_id as row data (engine.insert), never as SQL text.
 * A quarantined row is stored as row_json = {"line": n, "raw": "<the text sent>"}.
 */
import type { Engine } from '../engine/engine.js';
import { selectForTenant } from './tenant-sql.js';

export const BATCHES_TABLE = 'ingest_batches';
export const QUARANTINE_TABLE = 'ingest_quarantine';

/** Raw text kept per quarantined row: enough to diagnose, not enough to bloat the table. */
const MAX_RAW_CHARS = 16_384;

export interface BatchRecord {
  readonly batchId: string;
  readonly table: string;
  readonly inserted: number;
  readonly quarantined: number;
}

export interface QuarantinedRow {
  readonly line: number;
  readonly reason: string;
  readonly raw: string;
}

export interface Ledger {
  findBatch(tenantId: string, batchId: string): Promise<BatchRecord | undefined>;
  quarantinedOf(tenantId: string, batchId: string, limit: number): Promise<{ line: number; reason: string }[]>;
  quarantine(tenantId: string, batchId: string, table: string, rows: readonly QuarantinedRow[]): Promise<void>;
  recordBatch(tenantId: string, batch: BatchRecord): Promise<void>;
}

export function createLedger(engine: Engine): Ledger {
  const db = engine.database;
  return {
    async findBatch(tenantId, batchId) {
      const q = selectForTenant(
        tenantId,
        { select: 'table_name, rows, quarantined', from: `${db}.${BATCHES_TABLE}`, where: 'batch_id = {batch:String}', orderBy: 'inserted_at', limit: '1' },
        { batch: batchId },
      );
      const { rows } = await engine.query<{ table_name: string; rows: string | number; quarantined: string | number }>(q.sql, q.params);
      const r = rows[0];
      return r ? { batchId, table: r.table_name, inserted: Number(r.rows), quarantined: Number(r.quarantined) } : undefined;
    },
    async quarantinedOf(tenantId, batchId, limit) {
      // The line travels inside row_json ({"line": n, "raw": ...}): the table has no line column.
      const q = selectForTenant(
        tenantId,
        {
          select: "JSONExtractUInt(row_json, 'line') AS line, reason",
          from: `${db}.${QUARANTINE_TABLE}`,
          where: 'batch_id = {batch:String}',
          orderBy: 'line',
          limit: '{limit:UInt32}',
        },
        { batch: batchId, limit },
      );
      const { rows } = await engine.query<{ line: string | number; reason: string }>(q.sql, q.params);
      return rows.map((r) => ({ line: Number(r.line), reason: r.reason }));
    },
    async quarantine(tenantId, batchId, table, rows) {
      if (rows.length === 0) return;
      await engine.insert(
        QUARANTINE_TABLE,
        rows.map((r) => ({
          tenant_id: tenantId,
          table_name: table,
          batch_id: batchId,
          row_json: JSON.stringify({ line: r.line, raw: r.raw.length > MAX_RAW_CHARS ? r.raw.slice(0, MAX_RAW_CHARS) : r.raw }),
          reason: r.reason,
        })),
      );
    },
    async recordBatch(tenantId, b) {
      await engine.insert(BATCHES_TABLE, [{ tenant_id: tenantId, table_name: b.table, batch_id: b.batchId, rows: b.inserted, quarantined: b.quarantined }]);
    },
  };
}
