/**
 * Where validated rows go: chunks inserted through the engine, pipelined so ClickHouse parses
 * chunk k (on its own threads) while JS validates chunk k+1. At most one insert is in flight, so
 * memory stays bounded by two chunks beyond the input itself.
 *
 * Rows arrive as values in `columns` order and leave as one pre-serialized buffer per chunk
 * (engine.insertRaw): JSONCompactEachRow when the table allows it (no key names to write or for
 * ClickHouse to match: ~1.5x faster to parse than JSONEachRow), else JSONEachRow objects.
 */
import type { Engine } from '../engine/engine.js';
import { rowObject } from './validate.js';

export interface RowSink {
  add(values: readonly unknown[]): void;
  /** Rows added so far. */
  readonly count: number;
  /** Starts inserting the buffered rows once the previous chunk is in; resolves when it may continue. */
  cut(): Promise<void>;
  /** Inserts the rest and waits for every insert. */
  finish(): Promise<void>;
}

export interface SinkTarget {
  readonly table: string;
  /** Insert order of the values handed to add(). */
  readonly columns: readonly string[];
  /** Absent values may travel as null (see RowEncoder.compact). */
  readonly compact: boolean;
  /**
   * Chunk k is inserted with deduplication token `${token}/k`: the same batch cut the same way
   * (chunk size is fixed) yields the same tokens, so a retried chunk ClickHouse already holds is dropped.
   */
  readonly token?: string;
  /** Called once chunk k is stored (progress logs). */
  readonly onStored?: (chunk: number, rows: number) => void;
}

/**
 * Chunk buffers, reused across chunks and batches: a fresh multi-megabyte allocation costs its
 * page faults every time (on the bench VM a 6 MB chunk's join + Buffer.from took ~25 ms, most of
 * it first-touch faults). A few are kept; a batch takes two (one filling, one being inserted).
 */
const POOL_MAX = 4;
const POOLED_MAX_BYTES = 64 * 1024 * 1024;
const INITIAL_BYTES = 1024 * 1024;
const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafe(INITIAL_BYTES);
}

function giveBack(buffer: Buffer): void {
  if (pool.length < POOL_MAX && buffer.length <= POOLED_MAX_BYTES) pool.push(buffer);
}

export function createRowSink(engine: Engine, target: SinkTarget): RowSink {
  const { table, columns, compact, token } = target;
  // filling: where add() writes; sent: the chunk being inserted (never written while in flight).
  let filling = takeBuffer();
  let sent = takeBuffer();
  let used = 0;
  let rowsInChunk = 0;
  let count = 0;
  let chunk = 0;
  let inFlight: Promise<void> | undefined;

  const track = (p: Promise<void>): Promise<void> => {
    p.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
    return p;
  };

  const reserve = (bytes: number): void => {
    if (used + bytes <= filling.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(filling.length * 2, used + bytes));
    filling.copy(bigger, 0, 0, used);
    filling = bigger;
  };

  const start = (): void => {
    if (rowsInChunk === 0) return;
    // The previous chunk's insert has settled (cut/finish awaited it): its buffer is free.
    const body = filling.subarray(0, used - 1); // without the last newline
    [filling, sent] = [sent, filling];
    used = 0;
    const k = chunk++;
    const rows = rowsInChunk;
    rowsInChunk = 0;
    const options = token ? { deduplicationToken: `${token}/${k}` } : {};
    const insert = compact
      ? engine.insertRaw(table, body, 'JSONCompactEachRow', columns, options)
      : engine.insertRaw(table, body, 'JSONEachRow', undefined, options);
    inFlight = track(insert.then(() => target.onStored?.(k, rows)));
  };

  return {
    add(values) {
      count++;
      rowsInChunk++;
      // Holes (absent values) serialize as null, which the engine turns into the column default.
      const line = JSON.stringify(compact ? values : rowObject(columns, values));
      reserve(line.length * 3 + 1); // UTF-8 takes at most 3 bytes per UTF-16 unit
      used += filling.write(line, used);
      filling[used++] = 10;
    },
    get count() {
      return count;
    },
    async cut() {
      if (await inFlight) await inFlight;
      inFlight = undefined;
      start();
      // Let the engine begin before the caller goes back to validating.
      await new Promise<void>((r) => setImmediate(r));
    },
    async finish() {
      if (await inFlight) await inFlight;
      inFlight = undefined;
      start();
      if (await inFlight) await inFlight;
      inFlight = undefined;
      // Every insert has settled: both buffers are free for the next batch.
      giveBack(filling);
      giveBack(sent);
    },
  };
}
