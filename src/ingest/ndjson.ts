/** NDJSON without copies of the body: walks the text once, one JSON.parse per non-blank line. */

const NON_BLANK = /\S/;

export type LineVisitor = (value: unknown, lineNo: number, text: string) => void;
export type LineErrorVisitor = (reason: string, lineNo: number, text: string) => void;

/** Where a walk stopped; pass it back in to continue. */
export interface NdjsonCursor {
  readonly offset: number;
  readonly lineNo: number;
  readonly done: boolean;
}

export const NDJSON_START: NdjsonCursor = { offset: 0, lineNo: 0, done: false };

/** Visits up to `maxRows` non-blank lines from `from` (line numbers are physical, 1-based). */
export function walkNdjson(body: string, onValue: LineVisitor, onError: LineErrorVisitor, from: NdjsonCursor = NDJSON_START, maxRows = Infinity): NdjsonCursor {
  let { offset: start, lineNo } = from;
  let rows = 0;
  const n = body.length;
  while (start <= n && rows < maxRows) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = n;
    lineNo++;
    // One slice per line (a CR before the LF is left out first); a line starting with "{" is not blank.
    const text = body.slice(start, end > start && body.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    if (text.charCodeAt(0) !== 123 && !NON_BLANK.test(text)) continue;
    rows++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      onError(`invalid JSON: ${(e as Error).message}`, lineNo, text);
      continue;
    }
    onValue(value, lineNo, text);
  }
  return { offset: start, lineNo, done: start > n };
}

/** The whole body at once; returns the number of non-blank lines. */
export function forEachNdjsonLine(body: string, onValue: LineVisitor, onError: LineErrorVisitor): number {
  let count = 0;
  walkNdjson(
    body,
    (v, l, t) => {
      count++;
      onValue(v, l, t);
    },
    (r, l, t) => {
      count++;
      onError(r, l, t);
    },
  );
  return count;
}

/**
 * An NDJSON body kept as the bytes it arrived in, cut at line ends into segments (each without
 * its final "\n": the body is the segments joined by "\n"). A 30 MB batch is never copied into
 * one buffer and one string: each segment is decoded only when it is walked, and dies after.
 */
export class NdjsonSegments {
  constructor(readonly segments: readonly Buffer[]) {}
}

/**
 * Cuts byte chunks at their last "\n" (a byte that never occurs inside a multi-byte UTF-8
 * sequence, so each segment is valid UTF-8 on its own iff the body is). Only the partial line
 * carried from one chunk to the next is copied.
 */
export class LineCutter {
  // The current line's pieces from earlier chunks: joined once, when its line ends (a long line
  // over many chunks costs one copy, not one per chunk).
  private carry: Buffer[] = [];

  /** The segments this chunk completes (none when it ends no line). */
  push(c: Uint8Array): Buffer[] {
    const chunk = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const last = chunk.lastIndexOf(10);
    if (last === -1) {
      if (chunk.length > 0) this.carry.push(chunk);
      return [];
    }
    const out: Buffer[] = [];
    if (this.carry.length === 0) out.push(chunk.subarray(0, last));
    else {
      // Only the line begun in earlier chunks is copied; the lines after it stay a view.
      const first = chunk.indexOf(10);
      out.push(Buffer.concat([...this.carry, chunk.subarray(0, first)]));
      if (first < last) out.push(chunk.subarray(first + 1, last));
    }
    this.carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    return out;
  }

  /** The last segment: what follows the body's last "\n" (possibly empty). */
  end(): Buffer {
    const rest = this.carry.length > 0 ? Buffer.concat(this.carry) : Buffer.alloc(0);
    this.carry = [];
    return rest;
  }
}

export function segmentAtLines(chunks: readonly Uint8Array[]): NdjsonSegments {
  const cutter = new LineCutter();
  const out = chunks.flatMap((c) => cutter.push(c));
  out.push(cutter.end());
  return new NdjsonSegments(out);
}

/**
 * An NDJSON body still arriving (the HTTP door): its segments (as NdjsonSegments', each checked by
 * the door before it is pushed) can be walked while the rest is read, and its sha256 is known once
 * all of it has arrived and passed the checks. A failure (too large, not UTF-8, cut short) ends
 * both: the walk throws it, the hash rejects with it.
 */
export class NdjsonStream {
  readonly sha256: Promise<string>;
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private settle!: { resolve: (sha256: string) => void; reject: (e: unknown) => void };

  constructor() {
    this.sha256 = new Promise<string>((resolve, reject) => (this.settle = { resolve, reject }));
    this.sha256.catch(() => undefined); // a caller that stops early never awaits it
  }

  push(segment: Buffer): void {
    this.queue.push(segment);
    this.notify();
  }

  end(sha256: string): void {
    this.ended = true;
    this.settle.resolve(sha256);
    this.notify();
  }

  fail(e: unknown): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = e;
    this.settle.reject(e);
    this.notify();
  }

  async *segments(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const next = this.queue.shift();
      if (next) yield next;
      else if (this.ended) return;
      else await new Promise<void>((r) => (this.wake = r));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
