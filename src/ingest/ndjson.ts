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
