/**
 * The audit trail: data reads, changes (who changed what, before/after) and refusals (FORBIDDEN,
 * UNAUTHENTICATED with a tenant, RATE_LIMITED, QUOTA_EXCEEDED). record() never blocks and never throws: entries are buffered
 * and written in multi-row batches (when maxBatch is reached or every flushIntervalMs). If the
 * database fails, the batch is dropped with a warning; serving queries matters more than the trail.
 */
import { errInfo, type Queryable, type StoreLogger } from './db.js';
import { toDate, toNumber } from './sql.js';

export interface AuditEntry {
  /** Defaults to the moment record() is called. */
  readonly at?: Date;
  readonly tenantId: string;
  readonly subject: string;
  /** graphql | rest | sqlproxy | live | cli */
  readonly door: string;
  readonly queryFingerprint?: string | null;
  readonly members?: readonly string[];
  readonly rows?: number | null;
  readonly durationMs?: number | null;
  /** e.g. "ok", "error", "denied" */
  readonly status: string;
  readonly errorCode?: string | null;
  readonly clientAddress?: string | null;
  readonly requestId?: string | null;
  /** read (default) | change | refusal */
  readonly kind?: AuditKind;
  /** What was done: "api_key.create", "dashboard.update", "role.delete", "ingest.batch", "query" ... */
  readonly action?: string | null;
  /** The changed object's id. */
  readonly target?: string | null;
  /** The object before and after a change (JSON-safe, never a secret). */
  readonly before?: unknown;
  readonly after?: unknown;
  readonly userAgent?: string | null;
}

export type AuditKind = 'read' | 'change' | 'refusal';

export interface AuditRecord {
  readonly id: number;
  readonly at: Date;
  readonly tenantId: string;
  readonly subject: string;
  readonly door: string;
  readonly queryFingerprint: string | null;
  readonly members: readonly string[];
  readonly rows: number | null;
  readonly durationMs: number | null;
  readonly status: string;
  readonly errorCode: string | null;
  readonly clientAddress: string | null;
  readonly requestId: string | null;
  readonly kind: AuditKind;
  readonly action: string | null;
  readonly target: string | null;
  readonly before: unknown;
  readonly after: unknown;
  readonly userAgent: string | null;
}

export interface AuditLog {
  /** Buffers the entry; returns at once; never throws. */
  record(entry: AuditEntry): void;
  /** Writes everything buffered so far. Never rejects (failures are logged). */
  flush(): Promise<void>;
  /** Newest first; `before` is an id cursor (records with a smaller id). */
  list(tenantId: string, options?: { limit?: number; before?: number; kind?: AuditKind }): Promise<AuditRecord[]>;
  /** Every tenant's records with an id above `afterId`, oldest first (the ClickHouse mirror reads forward). */
  since(afterId: number, limit: number): Promise<AuditRecord[]>;
  /** Flushes and stops the timer; later records are dropped with a warning. */
  close(): Promise<void>;
}

export interface AuditOptions {
  readonly maxBatch?: number;
  readonly flushIntervalMs?: number;
  /** Beyond this many unwritten entries the oldest are dropped (a stuck database must not eat memory). */
  readonly maxBuffered?: number;
}

const COLUMNS = [
  'at',
  'tenant_id',
  'subject',
  'door',
  'query_fingerprint',
  'members',
  'rows',
  'duration_ms',
  'status',
  'error_code',
  'client_address',
  'request_id',
  'kind',
  'action',
  'target',
  'before',
  'after',
  'user_agent',
] as const;
const CASTS = ['::timestamptz', '', '', '', '', '::text[]', '::int', '::int', '', '', '', '', '', '', '', '::jsonb', '::jsonb', ''];
/** A before/after image larger than this is replaced by a note (an audit row must stay small). */
const MAX_IMAGE_BYTES = 32_768;

export function createAuditLog(db: Queryable, logger: StoreLogger, options: AuditOptions = {}): AuditLog {
  const maxBatch = options.maxBatch ?? 100;
  const interval = options.flushIntervalMs ?? 500;
  const maxBuffered = Math.max(options.maxBuffered ?? 10_000, maxBatch);
  const buffer: AuditEntry[] = [];
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const writeBatch = async (batch: AuditEntry[]) => {
    const params: unknown[] = [];
    const tuples = batch.map((e) => {
      const values = [
        e.at ?? new Date(),
        e.tenantId,
        e.subject,
        e.door,
        e.queryFingerprint ?? null,
        [...(e.members ?? [])],
        int32(e.rows),
        int32(e.durationMs),
        e.status,
        e.errorCode ?? null,
        e.clientAddress ?? null,
        e.requestId ?? null,
        e.kind ?? 'read',
        e.action ?? null,
        e.target ?? null,
        image(e.before),
        image(e.after),
        e.userAgent ? e.userAgent.slice(0, 512) : null,
      ];
      const slots = values.map((v, i) => `$${params.push(v)}${CASTS[i]}`);
      return `(${slots.join(', ')})`;
    });
    await db.query(`INSERT INTO audit_log (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  };

  const drain = async () => {
    while (buffer.length > 0) {
      const batch = buffer.splice(0, maxBatch);
      try {
        await writeBatch(batch);
      } catch (err) {
        logger.warn({ err: errInfo(err), dropped: batch.length }, 'audit: could not write a batch; entries dropped');
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    chain = chain.then(drain, drain);
    return chain;
  };

  return {
    record(entry) {
      try {
        if (closed) {
          logger.warn({ tenantId: entry.tenantId }, 'audit: record after close; entry dropped');
          return;
        }
        buffer.push({ ...entry, at: entry.at ?? new Date() });
        if (buffer.length > maxBuffered) {
          const dropped = buffer.splice(0, buffer.length - maxBuffered).length;
          logger.warn({ dropped }, 'audit: buffer full; oldest entries dropped');
        }
        if (buffer.length >= maxBatch) void flush();
        else if (!timer) {
          timer = setTimeout(() => void flush(), interval);
          timer.unref();
        }
      } catch (err) {
        logger.warn({ err: errInfo(err) }, 'audit: record failed');
      }
    },
    flush,
    async list(tenantId, { limit = 100, before, kind } = {}) {
      const rows = await db.query(
        `SELECT id, ${COLUMNS.join(', ')} FROM audit_log
          WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) AND ($4::text IS NULL OR kind = $4::text)
          ORDER BY id DESC LIMIT $3`,
        [tenantId, before ?? null, Math.min(Math.max(1, Math.floor(limit)), 1_000), kind ?? null],
      );
      return rows.map(toRecord);
    },
    async since(afterId, limit) {
      const rows = await db.query(`SELECT id, ${COLUMNS.join(', ')} FROM audit_log WHERE id > $1::bigint ORDER BY id LIMIT $2`, [
        afterId,
        Math.min(Math.max(1, Math.floor(limit)), 10_000),
      ]);
      return rows.map(toRecord);
    },
    async close() {
      closed = true;
      await flush();
    },
  };
}

function int32(n: number | null | undefined): number | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null;
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Math.round(n)));
}

/** JSON text for a jsonb column; null when absent; a note when too large. */
function image(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const text = JSON.stringify(v);
  if (text === undefined) return null;
  return Buffer.byteLength(text) > MAX_IMAGE_BYTES ? JSON.stringify({ truncated: true, bytes: Buffer.byteLength(text) }) : text;
}

function toRecord(r: Record<string, unknown>): AuditRecord {
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: toNumber(r.id),
    at: toDate(r.at),
    tenantId: String(r.tenant_id),
    subject: String(r.subject),
    door: String(r.door),
    queryFingerprint: str(r.query_fingerprint),
    members: (r.members as string[] | null) ?? [],
    rows: r.rows === null ? null : toNumber(r.rows),
    durationMs: r.duration_ms === null ? null : toNumber(r.duration_ms),
    status: String(r.status),
    errorCode: str(r.error_code),
    clientAddress: str(r.client_address),
    requestId: str(r.request_id),
    kind: (str(r.kind) ?? 'read') as AuditKind,
    action: str(r.action),
    target: str(r.target),
    before: r.before ?? null,
    after: r.after ?? null,
    userAgent: str(r.user_agent),
  };
}
