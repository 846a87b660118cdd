/**
 * Schedules, their runs, snapshots and the per-tenant webhook secret (migration 0010). Due
 * schedules are taken with FOR UPDATE SKIP LOCKED and their next time written in the same
 * transaction that enqueues the run's job (dedupe key schedule:<id>:<due>): with N instances a
 * due time is enqueued once. Every statement names the tenant, except the due scan (all tenants).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import type { Conn, Queryable } from './db.js';
import { isUuid, toDate, toDateOrNull, toNumber } from './sql.js';

export interface RunAs {
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** How the author signed in (absent on rows saved before it was kept: read as a token). */
  readonly via?: 'jwt' | 'api_key' | 'cli' | 'link';
  /** The scopes the credential itself carried, before roles: roles re-resolve from them at run time. */
  readonly grantedScopes?: readonly string[];
}

export interface ScheduleRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly owner: string;
  readonly ownerEmail: string | null;
  readonly name: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly format: string;
  readonly cron: string;
  readonly timezone: string;
  readonly destinations: readonly Readonly<Record<string, unknown>>[];
  readonly enabled: boolean;
  readonly nextRunAt: Date;
  readonly failures: number;
  readonly runAs: RunAs;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type ScheduleInput = Omit<ScheduleRecord, 'id' | 'createdAt' | 'updatedAt' | 'failures' | 'enabled'> & { readonly enabled?: boolean };

export interface RunRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly scheduleId: string;
  readonly dueAt: Date;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly attempt: number;
  readonly worker: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly rows: number | null;
  readonly bytes: number | null;
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly deliveries: readonly Readonly<Record<string, unknown>>[];
}

export interface SnapshotRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly createdBy: string;
  readonly name: string | null;
  readonly source: Readonly<Record<string, unknown>>;
  readonly results: unknown;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
}

export interface ReportRepo {
  createSchedule(input: ScheduleInput): Promise<ScheduleRecord>;
  getSchedule(tenantId: string, id: string): Promise<ScheduleRecord | null>;
  listSchedules(tenantId: string): Promise<ScheduleRecord[]>;
  updateSchedule(tenantId: string, id: string, change: Partial<ScheduleInput>): Promise<ScheduleRecord | null>;
  deleteSchedule(tenantId: string, id: string): Promise<boolean>;
  /**
   * Takes up to `limit` due schedules (every tenant), writes each one's next time (`next`) and lets
   * `enqueue` add its job in the same transaction.
   */
  takeDue(now: Date, limit: number, next: (s: ScheduleRecord) => Date, enqueue: (s: ScheduleRecord, tx: Queryable) => Promise<void>): Promise<number>;
  /** After a run: failures reset (ok) or counted, and the next time pushed back (backoff) when given. */
  recordOutcome(tenantId: string, id: string, ok: boolean, backoffUntil?: Date): Promise<ScheduleRecord | null>;

  /** The run of (schedule, due time): created on the first attempt, its attempt counted on the next. */
  startRun(tenantId: string, scheduleId: string, dueAt: Date, worker: string): Promise<RunRecord>;
  finishRun(
    tenantId: string,
    id: string,
    outcome: { status: 'succeeded' | 'failed'; rows?: number; bytes?: number; errorCode?: string; error?: string; deliveries: readonly object[] },
  ): Promise<void>;
  listRuns(tenantId: string, scheduleId: string, limit?: number): Promise<RunRecord[]>;

  createSnapshot(input: {
    tenantId: string;
    createdBy: string;
    name?: string | null;
    source: object;
    results: unknown;
    expiresAt?: Date | null;
  }): Promise<SnapshotRecord>;
  getSnapshot(tenantId: string, id: string): Promise<SnapshotRecord | null>;
  listSnapshots(tenantId: string, limit?: number): Promise<Omit<SnapshotRecord, 'results'>[]>;
  deleteSnapshot(tenantId: string, id: string): Promise<boolean>;
  purgeSnapshots(now?: Date): Promise<number>;

  /** The tenant's webhook signing secret, made on first use. */
  webhookSecret(tenantId: string): Promise<string>;
  rotateWebhookSecret(tenantId: string): Promise<string>;
}

const SCHEDULE =
  'id, tenant_id, owner, owner_email, name, source, format, cron, timezone, destinations, enabled, next_run_at, failures, run_as, created_at, updated_at';
const RUN = 'id, tenant_id, schedule_id, due_at, status, attempt, worker, started_at, finished_at, rows, bytes, error_code, error, deliveries';
const SNAPSHOT = 'id, tenant_id, created_by, name, source, created_at, expires_at';

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

export function createReportRepo(db: Conn): ReportRepo {
  return {
    async createSchedule(s) {
      const rows = await db.query(
        `INSERT INTO report_schedules (id, tenant_id, owner, owner_email, name, source, format, cron, timezone, destinations, enabled, next_run_at, run_as)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13::jsonb) RETURNING ${SCHEDULE}`,
        [
          randomUUID(),
          s.tenantId,
          s.owner,
          s.ownerEmail,
          s.name,
          JSON.stringify(s.source),
          s.format,
          s.cron,
          s.timezone,
          JSON.stringify(s.destinations),
          s.enabled ?? true,
          s.nextRunAt.toISOString(),
          JSON.stringify(s.runAs),
        ],
      );
      return toSchedule(rows[0]);
    },
    async getSchedule(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${SCHEDULE} FROM report_schedules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toSchedule(rows[0]) : null;
    },
    async listSchedules(tenantId) {
      const rows = await db.query(`SELECT ${SCHEDULE} FROM report_schedules WHERE tenant_id = $1 ORDER BY name, id`, [tenantId]);
      return rows.map(toSchedule);
    },
    async updateSchedule(tenantId, id, c) {
      if (!isUuid(id)) return null;
      const rows = await db.query(
        `UPDATE report_schedules SET
            name = COALESCE($3, name), source = COALESCE($4::jsonb, source), format = COALESCE($5, format),
            cron = COALESCE($6, cron), timezone = COALESCE($7, timezone), destinations = COALESCE($8::jsonb, destinations),
            enabled = COALESCE($9, enabled), next_run_at = COALESCE($10::timestamptz, next_run_at),
            owner_email = COALESCE($11, owner_email),
            failures = CASE WHEN $9 IS TRUE THEN 0 ELSE failures END, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING ${SCHEDULE}`,
        [
          tenantId,
          id,
          c.name ?? null,
          c.source ? JSON.stringify(c.source) : null,
          c.format ?? null,
          c.cron ?? null,
          c.timezone ?? null,
          c.destinations ? JSON.stringify(c.destinations) : null,
          c.enabled ?? null,
          c.nextRunAt?.toISOString() ?? null,
          c.ownerEmail ?? null,
        ],
      );
      return rows[0] ? toSchedule(rows[0]) : null;
    },
    async deleteSchedule(tenantId, id) {
      if (!isUuid(id)) return false;
      return (await db.query('DELETE FROM report_schedules WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, id])).length > 0;
    },
    takeDue(now, limit, next, enqueue) {
      return db.transaction(async (tx) => {
        const due = await tx.query(
          `SELECT ${SCHEDULE} FROM report_schedules WHERE enabled AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now.toISOString(), limit],
        );
        for (const row of due) {
          const s = toSchedule(row);
          await enqueue(s, tx);
          await tx.query('UPDATE report_schedules SET next_run_at = $2 WHERE id = $1', [s.id, next(s).toISOString()]);
        }
        return due.length;
      });
    },
    async recordOutcome(tenantId, id, ok, backoffUntil) {
      const rows = await db.query(
        `UPDATE report_schedules SET failures = CASE WHEN $3 THEN 0 ELSE failures + 1 END,
            next_run_at = GREATEST(next_run_at, COALESCE($4::timestamptz, next_run_at))
          WHERE tenant_id = $1 AND id = $2 RETURNING ${SCHEDULE}`,
        [tenantId, id, ok, backoffUntil?.toISOString() ?? null],
      );
      return rows[0] ? toSchedule(rows[0]) : null;
    },

    async startRun(tenantId, scheduleId, dueAt, worker) {
      const rows = await db.query(
        `INSERT INTO report_runs (id, tenant_id, schedule_id, due_at, worker) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (schedule_id, due_at) DO UPDATE SET attempt = report_runs.attempt + 1, worker = EXCLUDED.worker,
            status = 'running', started_at = now(), finished_at = NULL
         RETURNING ${RUN}`,
        [randomUUID(), tenantId, scheduleId, dueAt.toISOString(), worker],
      );
      return toRun(rows[0]);
    },
    async finishRun(tenantId, id, o) {
      await db.query(
        `UPDATE report_runs SET status = $3, rows = $4, bytes = $5, error_code = $6, error = $7, deliveries = $8::jsonb, finished_at = now()
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id, o.status, o.rows ?? null, o.bytes ?? null, o.errorCode ?? null, o.error?.slice(0, 2_000) ?? null, JSON.stringify(o.deliveries)],
      );
    },
    async listRuns(tenantId, scheduleId, limit = 50) {
      if (!isUuid(scheduleId)) return [];
      const rows = await db.query(`SELECT ${RUN} FROM report_runs WHERE tenant_id = $1 AND schedule_id = $2 ORDER BY due_at DESC, started_at DESC LIMIT $3`, [
        tenantId,
        scheduleId,
        limit,
      ]);
      return rows.map(toRun);
    },

    async createSnapshot(s) {
      const rows = await db.query(
        `INSERT INTO report_snapshots (id, tenant_id, created_by, name, source, results, expires_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7) RETURNING ${SNAPSHOT}, results`,
        [randomUUID(), s.tenantId, s.createdBy, s.name ?? null, JSON.stringify(s.source), JSON.stringify(s.results), s.expiresAt?.toISOString() ?? null],
      );
      return toSnapshot(rows[0]);
    },
    async getSnapshot(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${SNAPSHOT}, results FROM report_snapshots WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toSnapshot(rows[0]) : null;
    },
    async listSnapshots(tenantId, limit = 100) {
      const rows = await db.query(`SELECT ${SNAPSHOT} FROM report_snapshots WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT $2`, [tenantId, limit]);
      return rows.map((r) => {
        const { results: _r, ...rest } = toSnapshot({ ...r, results: null });
        return rest;
      });
    },
    async deleteSnapshot(tenantId, id) {
      if (!isUuid(id)) return false;
      return (await db.query('DELETE FROM report_snapshots WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, id])).length > 0;
    },
    async purgeSnapshots(now = new Date()) {
      return (await db.query('DELETE FROM report_snapshots WHERE expires_at < $1 RETURNING id', [now.toISOString()])).length;
    },

    async webhookSecret(tenantId) {
      await db.query('INSERT INTO report_secrets (tenant_id, webhook_secret) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING', [
        tenantId,
        randomBytes(32).toString('base64url'),
      ]);
      const rows = await db.query('SELECT webhook_secret FROM report_secrets WHERE tenant_id = $1', [tenantId]);
      if (!rows[0]) throw new UserError('NOT_FOUND', `tenant "${tenantId}" does not exist`);
      return String(rows[0].webhook_secret);
    },
    async rotateWebhookSecret(tenantId) {
      const secret = randomBytes(32).toString('base64url');
      await db.query(
        `INSERT INTO report_secrets (tenant_id, webhook_secret) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET webhook_secret = EXCLUDED.webhook_secret, created_at = now()`,
        [tenantId, secret],
      );
      return secret;
    },
  };
}

function toSchedule(r: Record<string, unknown>): ScheduleRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    owner: String(r.owner),
    ownerEmail: (r.owner_email as string | null) ?? null,
    name: String(r.name),
    source: json(r.source),
    format: String(r.format),
    cron: String(r.cron),
    timezone: String(r.timezone),
    destinations: json(r.destinations),
    enabled: Boolean(r.enabled),
    nextRunAt: toDate(r.next_run_at),
    failures: toNumber(r.failures),
    runAs: json(r.run_as),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

function toRun(r: Record<string, unknown>): RunRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    scheduleId: String(r.schedule_id),
    dueAt: toDate(r.due_at),
    status: r.status as RunRecord['status'],
    attempt: toNumber(r.attempt),
    worker: (r.worker as string | null) ?? null,
    startedAt: toDate(r.started_at),
    finishedAt: toDateOrNull(r.finished_at),
    rows: r.rows === null || r.rows === undefined ? null : toNumber(r.rows),
    bytes: r.bytes === null || r.bytes === undefined ? null : toNumber(r.bytes),
    errorCode: (r.error_code as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    deliveries: json(r.deliveries) ?? [],
  };
}

function toSnapshot(r: Record<string, unknown>): SnapshotRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    createdBy: String(r.created_by),
    name: (r.name as string | null) ?? null,
    source: json(r.source),
    results: json(r.results),
    createdAt: toDate(r.created_at),
    expiresAt: toDateOrNull(r.expires_at),
  };
}
