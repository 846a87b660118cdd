/**
 * The durable job queue's SQL (migration 0009): plain `FOR UPDATE SKIP LOCKED` over the Db
 * interface, so the same statements run on a Postgres server shared by N instances and on
 * embedded PGlite. A claim takes due queued jobs and running jobs whose lease ran out (their
 * instance died) and leases them to one worker; only the lease holder may finish or renew a job.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './db.js';
import { toDate, toNumber } from './sql.js';

export interface Job {
  readonly id: string;
  readonly tenantId: string | null;
  readonly kind: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly runAt: Date;
  readonly lockedBy: string | null;
  readonly status: 'queued' | 'running' | 'done' | 'failed';
  readonly lastError: string | null;
}

export interface NewJob {
  readonly kind: string;
  readonly tenantId?: string | null;
  readonly payload?: Readonly<Record<string, unknown>>;
  /** Enqueueing the same key twice keeps the first job (returns null the second time). */
  readonly dedupeKey?: string;
  readonly runAt?: Date;
  readonly maxAttempts?: number;
}

export interface JobQueue {
  enqueue(job: NewJob, tx?: Queryable): Promise<Job | null>;
  /** Leases up to `limit` due jobs of these kinds to `worker` for `leaseMs`; attempts + 1 each. */
  claim(worker: string, kinds: readonly string[], limit: number, leaseMs: number): Promise<Job[]>;
  /** Extends the lease; false when the worker no longer holds it (another took the job over). */
  heartbeat(id: string, worker: string, leaseMs: number): Promise<boolean>;
  complete(id: string, worker: string, result?: unknown): Promise<boolean>;
  /** Failed attempt: queued again at `retryAt`, or failed for good when it is null. */
  fail(id: string, worker: string, error: string, retryAt: Date | null): Promise<boolean>;
  /** Hands a job back unfinished (drain): queued now, this attempt not counted. */
  release(id: string, worker: string): Promise<boolean>;
  get(id: string): Promise<Job | null>;
}

const COLUMNS = 'id, tenant_id, kind, payload, attempts, max_attempts, run_at, locked_by, status, last_error';

export function createJobQueue(db: Queryable): JobQueue {
  const mine = async (sql: string, params: readonly unknown[]) => (await db.query(sql, params)).length > 0;
  return {
    async enqueue(job, tx = db) {
      const rows = await tx.query(
        `INSERT INTO jobs (id, tenant_id, kind, payload, dedupe_key, run_at, max_attempts)
         VALUES ($1, $2, $3, $4::jsonb, $5, COALESCE($6::timestamptz, now()), $7)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          job.tenantId ?? null,
          job.kind,
          JSON.stringify(job.payload ?? {}),
          job.dedupeKey ?? null,
          job.runAt?.toISOString() ?? null,
          job.maxAttempts ?? 5,
        ],
      );
      return rows[0] ? toJob(rows[0]) : null;
    },
    async claim(worker, kinds, limit, leaseMs) {
      if (kinds.length === 0 || limit <= 0) return [];
      const rows = await db.query(
        `UPDATE jobs SET status = 'running', locked_by = $1, attempts = attempts + 1,
                lease_until = now() + ($2::double precision * interval '1 millisecond')
          WHERE id IN (
            SELECT id FROM jobs
             WHERE kind = ANY($3::text[])
               AND ((status = 'queued' AND run_at <= now()) OR (status = 'running' AND lease_until < now()))
             ORDER BY run_at
             LIMIT $4
             FOR UPDATE SKIP LOCKED)
          RETURNING ${COLUMNS}`,
        [worker, leaseMs, [...kinds], limit],
      );
      return rows.map(toJob);
    },
    heartbeat: (id, worker, leaseMs) =>
      mine(
        `UPDATE jobs SET lease_until = now() + ($3::double precision * interval '1 millisecond')
          WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING id`,
        [id, worker, leaseMs],
      ),
    complete: (id, worker, result) =>
      mine(
        `UPDATE jobs SET status = 'done', result = $3::jsonb, finished_at = now(), lease_until = NULL
          WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING id`,
        [id, worker, JSON.stringify(result ?? null)],
      ),
    fail: (id, worker, error, retryAt) =>
      mine(
        `UPDATE jobs SET status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'queued' END,
                run_at = COALESCE($4::timestamptz, run_at), last_error = $3, lease_until = NULL,
                finished_at = CASE WHEN $4::timestamptz IS NULL THEN now() ELSE NULL END
          WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING id`,
        [id, worker, error.slice(0, 2_000), retryAt?.toISOString() ?? null],
      ),
    release: (id, worker) =>
      mine(
        `UPDATE jobs SET status = 'queued', run_at = now(), attempts = GREATEST(attempts - 1, 0), locked_by = NULL, lease_until = NULL
          WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING id`,
        [id, worker],
      ),
    async get(id) {
      const rows = await db.query(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
      return rows[0] ? toJob(rows[0]) : null;
    },
  };
}

function toJob(r: Record<string, unknown>): Job {
  return {
    id: String(r.id),
    tenantId: (r.tenant_id as string | null) ?? null,
    kind: String(r.kind),
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    attempts: toNumber(r.attempts),
    maxAttempts: toNumber(r.max_attempts),
    runAt: toDate(r.run_at),
    lockedBy: (r.locked_by as string | null) ?? null,
    status: r.status as Job['status'],
    lastError: (r.last_error as string | null) ?? null,
  };
}
