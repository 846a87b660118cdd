/**
 * Runs the durable queue's jobs on this instance: polls for due jobs (store/job-queue.ts claims
 * them with FOR UPDATE SKIP LOCKED, so N instances never run one job twice at a time), renews each
 * job's lease while its handler works, and finishes it. A handler that throws is retried with
 * exponential backoff until its attempts are used up; an instance that dies stops renewing, its
 * lease runs out and another instance claims the job again. On drain: no new claims, running jobs
 * get until the deadline, then are handed back (queued again, the attempt not counted).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Job, JobQueue } from '../store/job-queue.js';

export interface JobContext {
  readonly job: Job;
  /** Aborted when the lease is lost (another instance took the job) or the drain deadline passed. */
  readonly signal: AbortSignal;
  readonly worker: string;
}

/** A job's work. Its result is stored with the job. Throw PermanentJobError to stop retrying. */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export class PermanentJobError extends Error {}

export interface JobRunnerOptions {
  readonly queue: JobQueue;
  readonly logger: Logger;
  /** This instance's name in the queue (locked_by); default host-pid-random. */
  readonly worker?: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly concurrency: number;
  /** First retry delay; doubled per attempt, capped at 1 hour. */
  readonly retryBaseMs?: number;
  /** Called on every poll before claiming (the scheduler enqueues due schedules here). */
  readonly beforePoll?: () => Promise<void>;
}

export interface JobRunner {
  readonly worker: string;
  /** Registers the handler of a job kind (before start). */
  handle(kind: string, handler: JobHandler): void;
  start(): void;
  /** Polls now (tests, and right after an enqueue). */
  poke(): void;
  /** Stop claiming; running jobs finish until `deadlineMs`, then are handed back. */
  drain(deadlineMs: number): Promise<void>;
  /** Jobs running now. */
  running(): number;
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { queue, logger } = options;
  const worker = options.worker ?? `w-${process.pid}-${randomUUID().slice(0, 8)}`;
  const handlers = new Map<string, JobHandler>();
  const active = new Map<string, { promise: Promise<void>; abort: AbortController }>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let polling: Promise<void> | undefined;
  let again = false;
  const retryBase = options.retryBaseMs ?? 5_000;

  async function poll(): Promise<void> {
    if (stopped) return;
    try {
      await options.beforePoll?.();
      const free = options.concurrency - active.size;
      if (free <= 0 || stopped) return;
      const jobs = await queue.claim(worker, [...handlers.keys()], free, options.leaseMs);
      for (const job of jobs) run(job);
    } catch (e) {
      logger.warn({ err: (e as Error).message, worker }, 'job poll failed');
    }
  }

  function schedulePoll(): void {
    if (polling !== undefined) {
      again = true;
      return;
    }
    polling = poll().finally(() => {
      polling = undefined;
      if (again && !stopped) {
        again = false;
        schedulePoll();
      }
    });
  }

  function run(job: Job): void {
    const abort = new AbortController();
    const handler = handlers.get(job.kind)!;
    // Renew at a third of the lease: two renewals may fail before another instance may claim it.
    const beat = setInterval(
      () => {
        queue.heartbeat(job.id, worker, options.leaseMs).then(
          (held) => {
            if (!held) abort.abort(new Error('lease lost'));
          },
          (e) => logger.warn({ err: (e as Error).message, jobId: job.id }, 'job heartbeat failed'),
        );
      },
      Math.max(50, Math.floor(options.leaseMs / 3)),
    );
    const promise = (async () => {
      try {
        const result = await handler({ job, signal: abort.signal, worker });
        if (abort.signal.aborted) return;
        await queue.complete(job.id, worker, result ?? null);
      } catch (e) {
        if (abort.signal.aborted) return; // handed back or taken over: not a failed attempt
        const permanent = e instanceof PermanentJobError || job.attempts >= job.maxAttempts;
        const retryAt = permanent ? null : new Date(Date.now() + Math.min(retryBase * 2 ** (job.attempts - 1), 3_600_000));
        logger.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, err: (e as Error).message, retryAt }, 'job failed');
        await queue.fail(job.id, worker, (e as Error).message ?? String(e), retryAt).catch(() => undefined);
      } finally {
        clearInterval(beat);
        active.delete(job.id);
        if (!stopped) schedulePoll();
      }
    })();
    active.set(job.id, { promise, abort });
  }

  return {
    worker,
    handle(kind, handler) {
      handlers.set(kind, handler);
    },
    start() {
      if (timer || stopped) return;
      timer = setInterval(schedulePoll, options.pollMs);
      timer.unref();
      schedulePoll();
    },
    poke: () => schedulePoll(),
    running: () => active.size,
    async drain(deadlineMs) {
      stopped = true;
      if (timer) clearInterval(timer);
      await polling;
      const all = [...active.entries()];
      const late = new Promise<'late'>((r) => setTimeout(() => r('late'), Math.max(0, deadlineMs - Date.now())).unref());
      const done = await Promise.race([Promise.all(all.map(([, a]) => a.promise)).then(() => 'done' as const), late]);
      if (done === 'late') {
        for (const [id, a] of active) {
          a.abort.abort(new Error('draining'));
          await queue.release(id, worker).catch(() => undefined);
          logger.info({ jobId: id, worker }, 'job handed back on drain');
        }
      }
    },
  };
}
