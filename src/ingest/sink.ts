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

export function createRowSink(engine: Engine, target: SinkTarget): RowSink {
  const { table, columns, compact, token } = target;
  let lines: string[] = [];
  let count = 0;
  let chunk = 0;
  let inFlight: Promise<void> | undefined;

  const track = (p: Promise<void>): Promise<void> => {
    p.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
    return p;
  };

  const start = (): void => {
    if (lines.length === 0) return;
    const body = Buffer.from(lines.join('\n'));
    const k = chunk++;
    const rows = lines.length;
    lines = [];
    const options = token ? { deduplicationToken: `${token}/${k}` } : {};
    const insert = compact
      ? engine.insertRaw(table, body, 'JSONCompactEachRow', columns, options)
      : engine.insertRaw(table, body, 'JSONEachRow', undefined, options);
    inFlight = track(insert.then(() => target.onStored?.(k, rows)));
  };

  return {
    add(values) {
      count++;
      // Holes (absent values) serialize as null, which the engine turns into the column default.
      lines.push(JSON.stringify(compact ? values : rowObject(columns, values)));
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
    },
  };
}
