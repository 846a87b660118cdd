/**
 * Change signals: "the data of these cubes changed for this tenant". Ingestion publishes them;
 * the live service listens, drops cached results and re-evaluates the affected subscriptions.
 * Two transports: in-process (one instance, embedded store) and Postgres LISTEN/NOTIFY (several
 * instances share one store; PGlite delivers NOTIFY in-process, so it works there too).
 */
import { randomUUID } from 'node:crypto';
import { TENANT_ID_PATTERN } from '../auth/principal.js';

export interface ChangeEvent {
  readonly tenantId: string;
  /** Cubes whose data changed. Empty means "every cube of the tenant". */
  readonly cubes: readonly string[];
  /**
   * Rows left without an insert (a deletion, retention): rollups of these cubes are rebuilt for the
   * tenant rather than refreshed by bucket. Read where it is published (server.ts), not transported.
   */
  readonly removed?: boolean;
}

export type ChangeHandler = (event: ChangeEvent) => void;

/** Writes of this process to one (tenant, cube): how many began, how many are still open. */
export interface WriteState {
  readonly begun: number;
  readonly open: number;
}

/**
 * A writer of this process announces a change before it makes it and releases the announcement
 * once its change signal went out (or it failed). A refresh-key check meanwhile would see the
 * write before its signal and re-evaluate the same change twice: it skips an open write and
 * discards a read that overlapped one (live/refresh.ts).
 */
export interface LocalWrites {
  /** Returns the release (idempotent). Call it after the change signal was published. */
  beginWrite(tenantId: string, cubes: readonly string[]): () => void;
  writeState(tenantId: string, cube: string): WriteState;
}

/** Who a published change reaches: everyone (default), this process only, or the other instances only. */
export type SignalAudience = 'everyone' | 'here' | 'others';

export interface ChangeSignals extends LocalWrites {
  /**
   * Delivered to this process's handlers before it resolves, then to other instances. `here` /
   * `others` split the two (rollups/writer-signals.ts tells the other instances only once the
   * rollups caught up; this process's handlers it reaches itself).
   */
  publish(event: ChangeEvent, to?: SignalAudience): Promise<void>;
  /** Returns the unsubscribe. Handlers run synchronously and must not throw (errors are swallowed). */
  onChange(handler: ChangeHandler): () => void;
  /**
   * "Signals may have been lost" (the LISTEN connection dropped and is back): every cache and
   * live query of every tenant must be re-checked. Returns the unsubscribe.
   */
  onResync(handler: () => void): () => void;
  close(): Promise<void>;
}

/** What LISTEN/NOTIFY needs from the store (src/store/db.ts `Db` satisfies it). */
export interface NotifyBus {
  listen(channel: string, handler: (payload: string) => void, onResync?: () => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
}

export const CHANGES_CHANNEL = 'strata_changes';

/** Postgres refuses NOTIFY payloads of 8000 bytes or more; a longer cube list becomes "all cubes". */
const MAX_PAYLOAD_BYTES = 7_000;

interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

function fanOut(handlers: Set<ChangeHandler>, event: ChangeEvent, logger?: WarnLogger): void {
  for (const h of [...handlers]) {
    try {
      h(event);
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, 'live: change handler threw');
    }
  }
}

function fanOutResync(handlers: Set<() => void>, logger?: WarnLogger): void {
  for (const h of [...handlers]) {
    try {
      h();
    } catch (err) {
      logger?.warn({ err: (err as Error).message }, 'live: resync handler threw');
    }
  }
}

const NO_WRITES: WriteState = Object.freeze({ begun: 0, open: 0 });

export function createLocalWrites(): LocalWrites {
  /** tenant\0cube → state; bounded by tenants × cubes. */
  const states = new Map<string, WriteState>();
  const keyOf = (tenantId: string, cube: string) => `${tenantId}\u0000${cube}`;
  return {
    beginWrite(tenantId, cubes) {
      const keys = [...new Set(cubes)].map((c) => keyOf(tenantId, c));
      for (const k of keys) {
        const st = states.get(k) ?? NO_WRITES;
        states.set(k, { begun: st.begun + 1, open: st.open + 1 });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const k of keys) {
          const st = states.get(k) ?? NO_WRITES;
          states.set(k, { begun: st.begun, open: Math.max(0, st.open - 1) });
        }
      };
    },
    writeState: (tenantId, cube) => states.get(keyOf(tenantId, cube)) ?? NO_WRITES,
  };
}

/** In one process nothing is lost in transit: resync never fires. */
export function createInProcessSignals(logger?: WarnLogger): ChangeSignals {
  const handlers = new Set<ChangeHandler>();
  return {
    ...createLocalWrites(),
    async publish(event, to = 'everyone') {
      if (to !== 'others') fanOut(handlers, freezeEvent(event), logger);
    },
    onChange(handler) {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
    onResync: () => () => undefined,
    async close() {
      handlers.clear();
    },
  };
}

/**
 * Signals over LISTEN/NOTIFY. Resolves once listening, so a publish right after creation reaches
 * this instance too. Publish delivers to this instance's handlers itself, at once (also when
 * NOTIFY fails); our own NOTIFY coming back through LISTEN carries our origin id and is skipped.
 * So a local writer's signal has arrived when publish resolves: no window in which a refresh-key
 * check sees the write without its signal.
 */
export async function createNotifySignals(bus: NotifyBus, options: { channel?: string; logger?: WarnLogger } = {}): Promise<ChangeSignals> {
  const channel = options.channel ?? CHANGES_CHANNEL;
  const logger = options.logger;
  const handlers = new Set<ChangeHandler>();
  const resyncHandlers = new Set<() => void>();
  const origin = randomUUID();
  const unlisten = await bus.listen(
    channel,
    (payload) => {
      const event = parseChangePayload(payload);
      if (!event) {
        logger?.warn({ channel, bytes: payload.length }, 'live: ignoring malformed change notification');
        return;
      }
      if (event.origin === origin) return; // delivered locally by publish
      fanOut(handlers, freezeEvent(event), logger);
    },
    () => {
      logger?.warn({ channel }, 'live: change signals may have been lost (LISTEN reconnected); resyncing');
      fanOutResync(resyncHandlers, logger);
    },
  );
  let closed = false;
  return {
    ...createLocalWrites(),
    async publish(event, to = 'everyone') {
      const e = freezeEvent(event);
      if (to !== 'here') {
        try {
          await bus.notify(channel, encodeChangePayload(e, origin));
        } catch (err) {
          logger?.warn({ err: (err as Error).message }, 'live: NOTIFY failed; the other instances see the change on their next refresh-key check');
        }
      }
      if (to !== 'others') fanOut(handlers, e, logger);
    },
    onChange(handler) {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
    onResync(handler) {
      resyncHandlers.add(handler);
      return () => void resyncHandlers.delete(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      resyncHandlers.clear();
      await unlisten();
    },
  };
}

/** `origin`: the publishing instance, which skips its own notification (it delivered it already). */
export function encodeChangePayload(event: ChangeEvent, origin?: string): string {
  const o = origin === undefined ? {} : { origin };
  const text = JSON.stringify({ tenantId: event.tenantId, cubes: event.cubes, ...o });
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES) return text;
  return JSON.stringify({ tenantId: event.tenantId, cubes: [], ...o });
}

/** A notification comes from the database: trust nothing about its shape. */
export function parseChangePayload(payload: string): (ChangeEvent & { readonly origin?: string }) | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { tenantId, cubes, origin } = v as { tenantId?: unknown; cubes?: unknown; origin?: unknown };
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) return null;
  if (!Array.isArray(cubes) || !cubes.every((c) => typeof c === 'string')) return null;
  const event = freezeEvent({ tenantId, cubes: cubes as string[] });
  return typeof origin === 'string' ? Object.freeze({ ...event, origin }) : event;
}

function freezeEvent(e: ChangeEvent): ChangeEvent {
  return Object.freeze({ tenantId: e.tenantId, cubes: Object.freeze([...new Set(e.cubes)]) });
}
