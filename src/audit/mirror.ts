/**
 * The audit trail as a cube: audit rows live in Postgres (written first, never lost to a warehouse
 * outage) and are copied forward by id into ClickHouse's `audit_events` (migration 0014) in batches,
 * every intervalMs, so cube-models/audit.yml answers "actions by user per day" like any other query —
 * tenant-scoped by the compiler, behind scope audit:read. The cursor is the highest id already in
 * ClickHouse, so a restart resumes where it stopped; instances that copy the same rows are harmless
 * (ReplacingMergeTree on (tenant_id, id), read with FINAL).
 */
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import type { AuditLog, AuditRecord } from '../store/audit.js';

export const AUDIT_TABLE = 'audit_events';

export interface AuditMirror {
  /** Copies everything recorded so far (tests, shutdown). */
  sync(): Promise<number>;
  close(): Promise<void>;
}

export function startAuditMirror(options: {
  audit: Pick<AuditLog, 'since' | 'flush'>;
  engine: Pick<Engine, 'query' | 'insert'>;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** Resolves when the warehouse (its migrations) is ready. */
  ready: Promise<unknown>;
  intervalMs?: number;
  batch?: number;
  /** Tenants whose events were just copied: cached results of the audit cube are stale. */
  onCopied?: (tenantIds: readonly string[]) => void;
}): AuditMirror {
  const batch = options.batch ?? 5_000;
  let cursor: number | undefined;
  let running: Promise<number> | undefined;
  let closed = false;
  let failing = false;

  const pass = async (): Promise<number> => {
    await options.ready;
    if (cursor === undefined) {
      // Upkeep, not a request's statement: not counted in engine.stats().queries (tests count those).
      const { rows } = await options.engine.query<{ id: number | string }>(`SELECT max(id) AS id FROM ${AUDIT_TABLE}`, {}, { internal: true });
      cursor = Number(rows[0]?.id ?? 0);
    }
    let copied = 0;
    for (;;) {
      const records = await options.audit.since(cursor, batch);
      if (records.length === 0) break;
      await options.engine.insert(AUDIT_TABLE, records.map(toRow));
      cursor = records[records.length - 1].id;
      options.onCopied?.([...new Set(records.map((r) => r.tenantId))]);
      copied += records.length;
      if (records.length < batch) break;
    }
    return copied;
  };

  const sync = (): Promise<number> => {
    running ??= pass()
      .then((n) => {
        if (failing) options.logger.warn({ copied: n }, 'audit mirror: copying again');
        failing = false;
        return n;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const timer = setInterval(() => {
    if (closed || running !== undefined) return;
    sync().catch((e) => {
      if (!failing) options.logger.warn({ err: (e as Error).message }, 'audit mirror: copy to ClickHouse failed; retrying (the audit cube lags meanwhile)');
      failing = true;
    });
  }, options.intervalMs ?? 1_000);
  timer.unref();

  return {
    async sync() {
      await options.audit.flush();
      await (running ?? Promise.resolve(0)).catch(() => 0);
      return sync();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await (running ?? Promise.resolve(0)).catch(() => 0);
    },
  };
}

function toRow(r: AuditRecord): Record<string, unknown> {
  return {
    tenant_id: r.tenantId,
    id: r.id,
    at: r.at.toISOString(),
    kind: r.kind,
    action: r.action ?? (r.kind === 'read' ? 'query' : ''),
    subject: r.subject,
    door: r.door,
    status: r.status,
    error_code: r.errorCode ?? '',
    target: r.target ?? '',
    client_address: r.clientAddress ?? '',
    user_agent: r.userAgent ?? '',
    request_id: r.requestId ?? '',
    rows: r.rows ?? 0,
    duration_ms: r.durationMs ?? 0,
  };
}
