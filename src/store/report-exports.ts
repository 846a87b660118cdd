/**
 * Exports (migration 0010): a row per export with its status and link, and the file itself in
 * 1 MiB chunks so any instance can serve the download and a download never holds the file in
 * memory. Every statement names the tenant; the link token is stored as its SHA-256 only.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Conn } from './db.js';
import { isUuid, toDate, toDateOrNull, toNumber } from './sql.js';

export type ExportStatus = 'pending' | 'ready' | 'failed';

export interface ExportRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly createdBy: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly format: string;
  readonly status: ExportStatus;
  readonly rows: number | null;
  readonly bytes: number | null;
  readonly truncated: boolean;
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly fileName: string;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  readonly expiresAt: Date;
}

export interface NewExport {
  readonly tenantId: string;
  readonly createdBy: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly format: string;
  readonly fileName: string;
  readonly expiresAt: Date;
}

export interface ExportRepo {
  /** The record and the link token (shown once, stored hashed). */
  create(input: NewExport): Promise<{ record: ExportRecord; token: string }>;
  get(tenantId: string, id: string): Promise<ExportRecord | null>;
  /** The export a link names, when the token matches (any tenant: the link is the credential). */
  byLink(id: string, token: string): Promise<ExportRecord | null>;
  list(tenantId: string, limit?: number): Promise<ExportRecord[]>;
  /** Stores the file (read in chunks) and marks the export ready. */
  finish(tenantId: string, id: string, file: string, result: { rows: number; bytes: number; truncated: boolean }): Promise<void>;
  failed(tenantId: string, id: string, error: { code: string; message: string }): Promise<void>;
  /** The file's chunks in order, one query per chunk (bounded memory). */
  chunks(tenantId: string, id: string): AsyncIterable<Uint8Array>;
  /** Deletes expired exports (and their files); returns how many. */
  purgeExpired(now?: Date): Promise<number>;
}

const COLUMNS = 'id, tenant_id, created_by, source, format, status, rows, bytes, truncated, error_code, error, file_name, created_at, finished_at, expires_at';
const CHUNK_BYTES = 1 << 20;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function createExportRepo(db: Conn): ExportRepo {
  return {
    async create(input) {
      const token = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
      const rows = await db.query(
        `INSERT INTO report_exports (id, tenant_id, created_by, source, format, token_hash, file_name, expires_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          input.tenantId,
          input.createdBy,
          JSON.stringify(input.source),
          input.format,
          hashToken(token),
          input.fileName,
          input.expiresAt.toISOString(),
        ],
      );
      return { record: toExport(rows[0]), token };
    },
    async get(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${COLUMNS} FROM report_exports WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toExport(rows[0]) : null;
    },
    async byLink(id, token) {
      if (!isUuid(id) || typeof token !== 'string' || token.length < 16) return null;
      const rows = await db.query(`SELECT ${COLUMNS} FROM report_exports WHERE id = $1 AND token_hash = $2`, [id, hashToken(token)]);
      return rows[0] ? toExport(rows[0]) : null;
    },
    async list(tenantId, limit = 50) {
      const rows = await db.query(`SELECT ${COLUMNS} FROM report_exports WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2`, [tenantId, limit]);
      return rows.map(toExport);
    },
    async finish(tenantId, id, file, result) {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM report_artifact_chunks WHERE export_id = $1', [id]);
        let seq = 0;
        for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
          await tx.query('INSERT INTO report_artifact_chunks (export_id, seq, data) VALUES ($1, $2, $3)', [id, seq++, chunk as Buffer]);
        }
        await tx.query(
          `UPDATE report_exports SET status = 'ready', rows = $3, bytes = $4, truncated = $5, finished_at = now()
            WHERE tenant_id = $1 AND id = $2`,
          [tenantId, id, result.rows, result.bytes, result.truncated],
        );
      });
    },
    async failed(tenantId, id, error) {
      await db.query(`UPDATE report_exports SET status = 'failed', error_code = $3, error = $4, finished_at = now() WHERE tenant_id = $1 AND id = $2`, [
        tenantId,
        id,
        error.code,
        error.message.slice(0, 2_000),
      ]);
    },
    async *chunks(tenantId, id) {
      for (let seq = 0; ; seq++) {
        const rows = await db.query(
          `SELECT c.data FROM report_artifact_chunks c JOIN report_exports e ON e.id = c.export_id
            WHERE e.tenant_id = $1 AND c.export_id = $2 AND c.seq = $3`,
          [tenantId, id, seq],
        );
        if (!rows[0]) return;
        yield rows[0].data as Uint8Array;
      }
    },
    async purgeExpired(now = new Date()) {
      const rows = await db.query('DELETE FROM report_exports WHERE expires_at < $1 RETURNING id', [now.toISOString()]);
      return rows.length;
    },
  };
}

function toExport(r: Record<string, unknown>): ExportRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    createdBy: String(r.created_by),
    source: (typeof r.source === 'string' ? JSON.parse(r.source) : r.source) as Record<string, unknown>,
    format: String(r.format),
    status: r.status as ExportStatus,
    rows: r.rows === null ? null : toNumber(r.rows),
    bytes: r.bytes === null ? null : toNumber(r.bytes),
    truncated: Boolean(r.truncated),
    errorCode: (r.error_code as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    fileName: String(r.file_name),
    createdAt: toDate(r.created_at),
    finishedAt: toDateOrNull(r.finished_at),
    expiresAt: toDate(r.expires_at),
  };
}
