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
export function segmentAtLines(chunks: readonly Uint8Array[]): NdjsonSegments {
  const out: Buffer[] = [];
  // The current line's pieces from earlier chunks: joined once, when its line ends (a long line
  // over many chunks costs one copy, not one per chunk).
  let carry: Buffer[] = [];
  for (const c of chunks) {
    const chunk = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const last = chunk.lastIndexOf(10);
    if (last === -1) {
      if (chunk.length > 0) carry.push(chunk);
      continue;
    }
    if (carry.length === 0) out.push(chunk.subarray(0, last));
    else {
      // Only the line begun in earlier chunks is copied; the lines after it stay a view.
      const first = chunk.indexOf(10);
      out.push(Buffer.concat([...carry, chunk.subarray(0, first)]));
      if (first < last) out.push(chunk.subarray(first + 1, last));
    }
    carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
  }
  out.push(carry.length > 0 ? Buffer.concat(carry) : Buffer.alloc(0));
  return new NdjsonSegments(out);
}
