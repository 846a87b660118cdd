/**
 * Change signals: "the data of these cubes changed for this tenant". Ingestion publishes them;
 * the live service listens, drops cached results and re-evaluates the affected subscriptions.
 * Two transports: in-process (one instance, embedded store) and Postgres LISTEN/NOTIFY (several
 * instances share one store; PGlite delivers NOTIFY in-process, so it works there too).
 */
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

export interface ChangeSignals {
  publish(event: ChangeEvent): Promise<void>;
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

/** In one process nothing is lost in transit: resync never fires. */
export function createInProcessSignals(logger?: WarnLogger): ChangeSignals {
  const handlers = new Set<ChangeHandler>();
  return {
    async publish(event) {
      fanOut(handlers, freezeEvent(event), logger);
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
 * this instance too. Our own NOTIFY comes back through LISTEN: publish does not dispatch locally,
 * except when NOTIFY fails (then at least this instance stays correct).
 */
export async function createNotifySignals(bus: NotifyBus, options: { channel?: string; logger?: WarnLogger } = {}): Promise<ChangeSignals> {
  const channel = options.channel ?? CHANGES_CHANNEL;
  const logger = options.logger;
  const handlers = new Set<ChangeHandler>();
  const resyncHandlers = new Set<() => void>();
  const unlisten = await bus.listen(
    channel,
    (payload) => {
      const event = parseChangePayload(payload);
      if (!event) {
        logger?.warn({ channel, bytes: payload.length }, 'live: ignoring malformed change notification');
        return;
      }
      fanOut(handlers, event, logger);
    },
    () => {
      logger?.warn({ channel }, 'live: change signals may have been lost (LISTEN reconnected); resyncing');
      fanOutResync(resyncHandlers, logger);
    },
  );
  let closed = false;
  return {
    async publish(event) {
      const e = freezeEvent(event);
      try {
        await bus.notify(channel, encodeChangePayload(e));
      } catch (err) {
        logger?.warn({ err: (err as Error).message }, 'live: NOTIFY failed; delivering the change in this instance only');
        fanOut(handlers, e, logger);
      }
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

export function encodeChangePayload(event: ChangeEvent): string {
  const text = JSON.stringify({ tenantId: event.tenantId, cubes: event.cubes });
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES) return text;
  return JSON.stringify({ tenantId: event.tenantId, cubes: [] });
}

/** A notification comes from the database: trust nothing about its shape. */
export function parseChangePayload(payload: string): ChangeEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { tenantId, cubes } = v as { tenantId?: unknown; cubes?: unknown };
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) return null;
  if (!Array.isArray(cubes) || !cubes.every((c) => typeof c === 'string')) return null;
  return freezeEvent({ tenantId, cubes: cubes as string[] });
}

function freezeEvent(e: ChangeEvent): ChangeEvent {
  return Object.freeze({ tenantId: e.tenantId, cubes: Object.freeze([...new Set(e.cubes)]) });
}
