/**
 * Where validated rows go: chunks inserted through the engine, pipelined so ClickHouse parses
 * chunk k (on its own threads) while JS validates chunk k+1. At most one insert is in flight, so
 * memory stays bounded by two chunks beyond the input itself.
 *
 * Fast path: an engine that offers `insertRaw` (pre-serialized JSONEachRow bytes, handed to
 * chDB's native parser without clickhouse-js' per-row streaming) is used when present.
 */
import type { Engine } from '../engine/engine.js';

/** Optional engine capability: insert pre-serialized rows. */
export interface RawInsertCapable {
  insertRaw(table: string, body: Buffer, format: 'JSONEachRow'): Promise<void>;
}

export function canInsertRaw(engine: Engine): engine is Engine & RawInsertCapable {
  return typeof (engine as Partial<RawInsertCapable>).insertRaw === 'function';
}

export interface RowSink {
  add(row: Record<string, unknown>): void;
  /** Rows added so far. */
  readonly count: number;
  /** Starts inserting the buffered rows once the previous chunk is in; resolves when it may continue. */
  cut(): Promise<void>;
  /** Inserts the rest and waits for every insert. */
  finish(): Promise<void>;
}

export function createRowSink(engine: Engine, table: string): RowSink {
  const raw = canInsertRaw(engine) ? engine : undefined;
  let objects: Record<string, unknown>[] = [];
  let lines: string[] = [];
  let count = 0;
  let inFlight: Promise<void> | undefined;

  const track = (p: Promise<void>): Promise<void> => {
    p.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
    return p;
  };

  const start = (): void => {
    if (raw) {
      if (lines.length === 0) return;
      const body = Buffer.from(lines.join('\n'));
      lines = [];
      inFlight = track(raw.insertRaw(table, body, 'JSONEachRow'));
    } else {
      if (objects.length === 0) return;
      const chunk = objects;
      objects = [];
      inFlight = track(engine.insert(table, chunk));
    }
  };

  return {
    add(row) {
      count++;
      if (raw) lines.push(JSON.stringify(row));
      else objects.push(row);
    },
    get count() {
      return count;
    },
    async cut() {
      if (inFlight) await inFlight;
      inFlight = undefined;
      start();
      // Let the engine begin before the caller goes back to validating.
      await new Promise<void>((r) => setImmediate(r));
    },
    async finish() {
      if (inFlight) await inFlight;
      inFlight = undefined;
      start();
      if (inFlight) await inFlight;
      inFlight = undefined;
    },
  };
}
