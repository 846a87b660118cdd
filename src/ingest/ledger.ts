/**
 * The ingestion ledger in ClickHouse (migrations 0008, 0010): ingest_claims (the first body to use
 * a batch id, per tenant), ingest_batches (one row per finished batch), ingest_quarantine (rejected
 * rows with their reason and rule) and ingest_quarantine_resolutions (replayed / discarded rows).
 * Every read is parameterized and scoped to the caller's tenant through selectForTenant
 * (tenant-sql.ts); writes carry tenant_id as row data, never as SQL text. Writes that a retry
 * repeats carry a deduplication token, so a repeated write is dropped by ClickHouse.
 * A quarantined row is stored as row_json = {"line": n, "raw": "<the text sent>"}.
 */
import type { Engine } from '../engine/engine.js';
import { selectForTenant } from './tenant-sql.js';

export const BATCHES_TABLE = 'ingest_batches';
export const QUARANTINE_TABLE = 'ingest_quarantine';
export const CLAIMS_TABLE = 'ingest_claims';
export const RESOLUTIONS_TABLE = 'ingest_quarantine_resolutions';

/** Raw text kept per quarantined row: enough to diagnose, not enough to bloat the table. */
const MAX_RAW_CHARS = 16_384;

export interface BatchRecord {
  readonly batchId: string;
  readonly table: string;
  readonly inserted: number;
  readonly quarantined: number;
  /** sha256 of the body; '' for batches recorded before bodies were hashed. */
  readonly bodySha256?: string;
  readonly source?: string;
  readonly durationMs?: number;
  readonly replayOf?: string;
}

export interface BatchClaim {
  readonly table: string;
  readonly bodySha256: string;
}

export interface BatchSummary {
  readonly batchId: string;
  readonly table: string;
  /** done: recorded; incomplete: claimed but never finished (a crash, or still running). */
  readonly status: 'done' | 'incomplete';
  readonly inserted: number;
  readonly quarantined: number;
  readonly durationMs: number;
  readonly source: string;
  readonly replayOf: string;
  /** ISO time the batch was claimed or (older batches) recorded. */
  readonly at: string;
}

export interface QuarantinedRow {
  readonly line: number;
  readonly reason: string;
  readonly raw: string;
  /** The data-quality rule the row broke, when it was a model rule. */
  readonly rule?: string;
}

export interface QuarantineEntry extends QuarantinedRow {
  readonly batchId: string;
  readonly table: string;
  readonly receivedAt: string;
  /** pending, replayed or discarded. */
  readonly status: string;
}

export interface Ledger {
  findBatch(tenantId: string, batchId: string): Promise<BatchRecord | undefined>;
  /** Claims a batch id for a body; returns the claim that holds (the first one stored). */
  claim(tenantId: string, batchId: string, claim: BatchClaim): Promise<BatchClaim>;
  quarantinedOf(tenantId: string, batchId: string, limit: number): Promise<{ line: number; reason: string }[]>;
  quarantine(tenantId: string, batchId: string, table: string, rows: readonly QuarantinedRow[]): Promise<void>;
  recordBatch(tenantId: string, batch: BatchRecord): Promise<void>;
  listBatches(tenantId: string, limit: number): Promise<BatchSummary[]>;
  listQuarantine(tenantId: string, q: { batchId?: string; lines?: readonly number[]; limit: number; includeResolved: boolean }): Promise<QuarantineEntry[]>;
  resolve(
    tenantId: string,
    batchId: string,
    lines: readonly number[],
    r: { status: 'replayed' | 'discarded'; by: string; replayBatchId?: string },
  ): Promise<void>;
}

const n = (v: unknown) => Number(v ?? 0);
/** ClickHouse DateTime64 text ("2026-12-07 10:00:00.123") as ISO 8601 UTC. */
const iso = (v: unknown) => `${String(v).replace(' ', 'T')}Z`;

export function createLedger(engine: Engine): Ledger {
  const db = engine.database;
  return {
    async findBatch(tenantId, batchId) {
      const q = selectForTenant(
        tenantId,
        {
          select: 'table_name, rows, quarantined, body_sha256',
          from: `${db}.${BATCHES_TABLE}`,
          where: 'batch_id = {batch:String}',
          orderBy: 'inserted_at',
          limit: '1',
        },
        { batch: batchId },
      );
      const { rows } = await engine.query<{ table_name: string; rows: number; quarantined: number; body_sha256: string }>(q.sql, q.params);
      const r = rows[0];
      return r ? { batchId, table: r.table_name, inserted: n(r.rows), quarantined: n(r.quarantined), bodySha256: r.body_sha256 } : undefined;
    },
    async claim(tenantId, batchId, c) {
      // Of concurrent claims with this token ClickHouse stores one (dedup under its parts lock).
      await engine.insert(CLAIMS_TABLE, [{ tenant_id: tenantId, batch_id: batchId, table_name: c.table, body_sha256: c.bodySha256 }], {
        deduplicationToken: `claim/${tenantId}/${batchId}`,
      });
      // Past the dedup window a second claim row could exist: the earliest one holds.
      const q = selectForTenant(
        tenantId,
        {
          select: 'table_name, body_sha256',
          from: `${db}.${CLAIMS_TABLE}`,
          where: 'batch_id = {batch:String}',
          orderBy: 'claimed_at, body_sha256',
          limit: '1',
        },
        { batch: batchId },
      );
      const { rows } = await engine.query<{ table_name: string; body_sha256: string }>(q.sql, q.params);
      return rows[0] ? { table: rows[0].table_name, bodySha256: rows[0].body_sha256 } : c;
    },
    async quarantinedOf(tenantId, batchId, limit) {
      const q = selectForTenant(
        tenantId,
        { select: 'line, reason', from: `${db}.${QUARANTINE_TABLE}`, where: 'batch_id = {batch:String}', orderBy: 'line', limit: '{limit:UInt32}' },
        { batch: batchId, limit },
      );
      const { rows } = await engine.query<{ line: number; reason: string }>(q.sql, q.params);
      return rows.map((r) => ({ line: n(r.line), reason: r.reason }));
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
          rule: r.rule ?? '',
          line: r.line,
        })),
        { deduplicationToken: `quarantine/${tenantId}/${batchId}` },
      );
    },
    async recordBatch(tenantId, b) {
      await engine.insert(
        BATCHES_TABLE,
        [
          {
            tenant_id: tenantId,
            table_name: b.table,
            batch_id: b.batchId,
            rows: b.inserted,
            quarantined: b.quarantined,
            body_sha256: b.bodySha256 ?? '',
            source: b.source ?? '',
            duration_ms: Math.round(b.durationMs ?? 0),
            replay_of: b.replayOf ?? '',
          },
        ],
        { deduplicationToken: `batch/${tenantId}/${b.batchId}` },
      );
    },
    async listBatches(tenantId, limit) {
      const done = selectForTenant(
        tenantId,
        {
          select: 'batch_id, table_name, rows, quarantined, duration_ms, source, replay_of, toString(inserted_at) AS at',
          from: `${db}.${BATCHES_TABLE}`,
          orderBy: 'inserted_at DESC',
          limit: '{limit:UInt32}',
        },
        { limit },
      );
      const claims = selectForTenant(
        tenantId,
        { select: 'batch_id, table_name, toString(claimed_at) AS at', from: `${db}.${CLAIMS_TABLE}`, orderBy: 'claimed_at DESC', limit: '{limit:UInt32}' },
        { limit },
      );
      type Done = {
        batch_id: string;
        table_name: string;
        rows: number;
        quarantined: number;
        duration_ms: number;
        source: string;
        replay_of: string;
        at: string;
      };
      const [a, b] = await Promise.all([
        engine.query<Done>(done.sql, done.params),
        engine.query<{ batch_id: string; table_name: string; at: string }>(claims.sql, claims.params),
      ]);
      const out = new Map<string, BatchSummary>();
      for (const r of b.rows) {
        out.set(r.batch_id, {
          batchId: r.batch_id,
          table: r.table_name,
          status: 'incomplete',
          inserted: 0,
          quarantined: 0,
          durationMs: 0,
          source: '',
          replayOf: '',
          at: iso(r.at),
        });
      }
      for (const r of a.rows) {
        const at = out.get(r.batch_id)?.at ?? iso(r.at);
        out.set(r.batch_id, {
          batchId: r.batch_id,
          table: r.table_name,
          status: 'done',
          inserted: n(r.rows),
          quarantined: n(r.quarantined),
          durationMs: n(r.duration_ms),
          source: r.source,
          replayOf: r.replay_of,
          at,
        });
      }
      return [...out.values()].sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : x.batchId.localeCompare(y.batchId))).slice(0, limit);
    },
    async listQuarantine(tenantId, f) {
      const where = [f.batchId !== undefined ? 'batch_id = {batch:String}' : '', f.lines ? 'line IN {lines:Array(UInt32)}' : ''].filter(Boolean).join(' AND ');
      const q = selectForTenant(
        tenantId,
        {
          select: "batch_id, table_name, line, reason, rule, JSONExtractString(row_json, 'raw') AS raw, toString(received_at) AS at",
          from: `${db}.${QUARANTINE_TABLE}`,
          ...(where ? { where } : {}),
          orderBy: 'received_at DESC, batch_id, line',
          // Resolved rows are filtered after the join below: read more than a page.
          limit: '{limit:UInt32}',
        },
        {
          ...(f.batchId !== undefined ? { batch: f.batchId } : {}),
          ...(f.lines ? { lines: [...f.lines] } : {}),
          limit: f.includeResolved ? f.limit : f.limit * 4,
        },
      );
      type Row = { batch_id: string; table_name: string; line: number; reason: string; rule: string; raw: string; at: string };
      const { rows } = await engine.query<Row>(q.sql, q.params);
      if (rows.length === 0) return [];
      const rq = selectForTenant(
        tenantId,
        { select: 'batch_id, line, argMax(status, resolved_at) AS status', from: `${db}.${RESOLUTIONS_TABLE}`, where: 'batch_id IN {batches:Array(String)}' },
        { batches: [...new Set(rows.map((r) => r.batch_id))] },
      );
      const resolved = await engine.query<{ batch_id: string; line: number; status: string }>(`${rq.sql} GROUP BY batch_id, line`, rq.params);
      const status = new Map(resolved.rows.map((r) => [`${r.batch_id}#${n(r.line)}`, r.status]));
      return rows
        .map((r) => ({
          batchId: r.batch_id,
          table: r.table_name,
          line: n(r.line),
          reason: r.reason,
          ...(r.rule ? { rule: r.rule } : {}),
          raw: r.raw,
          receivedAt: iso(r.at),
          status: status.get(`${r.batch_id}#${n(r.line)}`) ?? 'pending',
        }))
        .filter((e) => f.includeResolved || e.status === 'pending')
        .slice(0, f.limit);
    },
    async resolve(tenantId, batchId, lines, r) {
      if (lines.length === 0) return;
      await engine.insert(
        RESOLUTIONS_TABLE,
        lines.map((line) => ({ tenant_id: tenantId, batch_id: batchId, line, status: r.status, replay_batch_id: r.replayBatchId ?? '', resolved_by: r.by })),
      );
    },
  };
}
