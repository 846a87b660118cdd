/**
 * Fair sharing of the engine between tenants: every engine statement of the query service runs
 * through `run(tenantId, fn)`. At most `slots` statements run at once (the engine's useful
 * parallelism: embedded chDB runs one statement at a time), and at most `perTenant` of one tenant.
 * Waiting statements queue per tenant (FIFO); a free slot goes to the waiting tenant that started a
 * statement least recently — a tenant that just arrived goes first. So one tenant's burst delays
 * another tenant's statement by at most the statements already running, never by its queue.
 */
import { EngineError, UserError } from '../errors.js';

/** A caller that went away while queued: the same code as a cancelled engine query, not a bug. */
const cancelled = () => new EngineError('QUERY_CANCELLED', 'query was cancelled while waiting for the engine');

export interface EngineSlots {
  run<T>(tenantId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  stats(): { running: number; queued: number };
  /** Observes each start (tests assert ordering with it; metrics count waits). */
  onStart(listener: (e: SlotStart) => void): void;
}

export interface SlotStart {
  readonly tenantId: string;
  /** Global start order, from 1. */
  readonly seq: number;
  /** Starts (any tenant) between this statement's arrival and its start. */
  readonly overtakenBy: number;
  /** Of those, starts of other tenants. */
  readonly overtakenByOthers: number;
}

export interface EngineSlotOptions {
  readonly slots: number;
  readonly perTenant: number;
  /** Past this many waiting statements of one tenant, more are refused (RATE_LIMITED). */
  readonly maxQueuedPerTenant?: number;
}

interface Waiter {
  /** Global starts, and this tenant's starts, when it arrived. */
  readonly arrivedAt: number;
  readonly ownAt: number;
  readonly start: () => void;
}

interface TenantQueue {
  running: number;
  /** Global sequence number of its last start (0: none yet). */
  lastStart: number;
  starts: number;
  readonly waiting: Waiter[];
}

export function createEngineSlots(options: EngineSlotOptions): EngineSlots {
  const slots = Math.max(1, options.slots);
  const perTenant = Math.max(1, Math.min(options.perTenant, slots));
  const maxQueued = options.maxQueuedPerTenant ?? 10_000;
  const tenants = new Map<string, TenantQueue>();
  const listeners: ((e: SlotStart) => void)[] = [];
  let running = 0;
  let queued = 0;
  let seq = 0;

  const queueOf = (id: string) => {
    let q = tenants.get(id);
    if (!q) {
      q = { running: 0, lastStart: 0, starts: 0, waiting: [] };
      tenants.set(id, q);
    }
    return q;
  };

  const begin = (id: string, q: TenantQueue, w?: Waiter) => {
    running++;
    q.running++;
    const overtakenBy = w ? seq - w.arrivedAt : 0;
    const overtakenByOthers = w ? overtakenBy - (q.starts - w.ownAt) : 0;
    q.lastStart = ++seq;
    q.starts++;
    const e: SlotStart = { tenantId: id, seq, overtakenBy, overtakenByOthers };
    for (const l of listeners) l(e);
  };

  /** Hands free slots to waiting tenants, least recently started first. */
  const dispatch = () => {
    while (running < slots && queued > 0) {
      let pick: [string, TenantQueue] | undefined;
      for (const entry of tenants) {
        const q = entry[1];
        if (q.waiting.length === 0 || q.running >= perTenant) continue;
        if (!pick || q.lastStart < pick[1].lastStart) pick = entry;
      }
      if (!pick) return;
      const w = pick[1].waiting.shift()!;
      queued--;
      begin(pick[0], pick[1], w);
      w.start();
    }
  };

  const end = (id: string, q: TenantQueue) => {
    running--;
    q.running--;
    if (q.running === 0 && q.waiting.length === 0) tenants.delete(id);
    dispatch();
  };

  return {
    async run(tenantId, fn, signal) {
      const q = queueOf(tenantId);
      if (running < slots && q.running < perTenant && q.waiting.length === 0) {
        begin(tenantId, q);
      } else {
        if (q.waiting.length >= maxQueued) {
          throw new UserError('RATE_LIMITED', 'too many queries of your tenant are waiting for the engine; retry later', { tenantId, retryAfterMs: 1_000 });
        }
        if (signal?.aborted) throw cancelled();
        await new Promise<void>((resolve, reject) => {
          const w: Waiter = {
            arrivedAt: seq,
            ownAt: q.starts,
            start: () => {
              signal?.removeEventListener('abort', onAbort);
              resolve();
            },
          };
          const onAbort = () => {
            const i = q.waiting.indexOf(w);
            if (i >= 0) {
              q.waiting.splice(i, 1);
              queued--;
              if (q.running === 0 && q.waiting.length === 0) tenants.delete(tenantId);
              reject(cancelled());
            }
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          q.waiting.push(w);
          queued++;
          dispatch();
        });
      }
      try {
        return await fn();
      } finally {
        end(tenantId, q);
      }
    },
    stats: () => ({ running, queued }),
    onStart(listener) {
      listeners.push(listener);
    },
  };
}
