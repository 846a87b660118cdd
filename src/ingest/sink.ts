/**
 * Where validated rows go: chunks inserted through the engine, pipelined so ClickHouse parses
 * chunk k (on its own threads) while JS validates chunk k+1. Inserts wait for the target's gate
 * (the batch's admission, which needs the whole body): chunks cut before it opens are held, so
 * validation goes on while the body arrives. Once inserting, at most one insert is in flight, so
 * memory stays bounded by the held chunks plus two.
 *
 * Rows arrive as values in `columns` order and leave as one pre-serialized buffer per chunk
 * (engine.insertRaw): RowBinaryWithDefaults when the target has a binary writer (row-binary.ts:
 * nothing for the engine to parse), else JSONCompactEachRow when the table allows it (no key
 * names to write or for ClickHouse to match: ~1.5x faster to parse than JSONEachRow), else
 * JSONEachRow objects.
 */
import type { Engine } from '../engine/engine.js';
import type { ByteWriter, RowBinaryWriter } from './row-binary.js';
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
  /** Set when the engine reads RowBinaryWithDefaults and every column has a binary layout. */
  readonly binary?: RowBinaryWriter;
  /**
   * Chunk k is inserted with deduplication token `${token}/k`: the same batch cut the same way
   * (chunk size is fixed) yields the same tokens, so a retried chunk ClickHouse already holds is dropped.
   */
  readonly token?: string;
  /** Called once chunk k is stored (progress logs). */
  readonly onStored?: (chunk: number, rows: number) => void;
  /** No insert starts before it resolves; when it rejects, none does and cut/finish reject with it. */
  readonly gate?: Promise<unknown>;
}

/**
 * Chunk buffers, reused across chunks and batches: a fresh multi-megabyte allocation costs its
 * page faults every time (on the bench VM a 6 MB chunk's join + Buffer.from took ~25 ms, most of
 * it first-touch faults). A few are kept; a batch takes two (one filling, one being inserted), and
 * one per chunk held before its gate opens.
 */
const POOL_MAX = 6;
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
  const { table, columns, compact, token, binary } = target;
  // out.buf: where add() writes; a cut chunk keeps its buffer until its insert is done.
  const out: ByteWriter = {
    buf: takeBuffer(),
    pos: 0,
    ensure(bytes) {
      if (this.pos + bytes <= this.buf.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    },
  };
  let rowsInChunk = 0;
  let count = 0;
  let chunk = 0;
  let gateOpen = target.gate === undefined;
  let gateFailed = false;
  // The inserts run one after another: each link waits for the gate and the chunk before it.
  let last: Promise<void> = (target.gate ?? Promise.resolve()).then(
    () => {
      gateOpen = true;
    },
    (e: unknown) => {
      gateFailed = true;
      throw e;
    },
  );
  let previous: Promise<void> | undefined;

  const track = (p: Promise<void>): Promise<void> => {
    p.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
    return p;
  };
  void track(last);

  const insert = (body: Buffer, k: number): Promise<void> => {
    const options = token ? { deduplicationToken: `${token}/${k}` } : {};
    if (binary) return engine.insertRaw(table, body, 'RowBinaryWithDefaults', columns, options);
    return compact ? engine.insertRaw(table, body, 'JSONCompactEachRow', columns, options) : engine.insertRaw(table, body, 'JSONEachRow', undefined, options);
  };

  /** Queues the rows written so far as the next chunk; returns its insert. */
  const start = (): Promise<void> | undefined => {
    if (rowsInChunk === 0) return undefined;
    const buffer = out.buf;
    const body = buffer.subarray(0, binary ? out.pos : out.pos - 1); // JSON: without the last newline
    out.buf = takeBuffer();
    out.pos = 0;
    const k = chunk++;
    const rows = rowsInChunk;
    rowsInChunk = 0;
    last = track(
      last.then(async () => {
        await insert(body, k);
        giveBack(buffer);
        target.onStored?.(k, rows);
      }),
    );
    return last;
  };

  return {
    add(values) {
      count++;
      rowsInChunk++;
      if (binary) {
        binary(out, values);
        return;
      }
      // Holes (absent values) serialize as null, which the engine turns into the column default.
      const line = JSON.stringify(compact ? values : rowObject(columns, values));
      out.ensure(line.length * 3 + 1); // UTF-8 takes at most 3 bytes per UTF-16 unit
      out.pos += out.buf.write(line, out.pos);
      out.buf[out.pos++] = 10;
    },
    get count() {
      return count;
    },
    async cut() {
      // Once inserting: the chunk before has to be in first (one insert in flight).
      if (gateFailed) await last; // throws the gate's reason: no point validating on
      if (gateOpen && previous) await previous;
      previous = start() ?? previous;
      // Let the engine begin before the caller goes back to validating.
      await new Promise<void>((r) => setImmediate(r));
    },
    async finish() {
      void start(); // awaited through `last`
      await last;
      // Every insert has settled: their buffers are back in the pool; so goes the filling one.
      giveBack(out.buf);
    },
  };
}
