/**
 * Bounds on the JSON a door accepts (GraphQL variables, REST queries, NDJSON lines), checked before
 * any other work and without recursion: a value nested 10,000 deep is a coded BAD_USER_INPUT, never a
 * stack overflow deeper in. Semantic-query bounds (filter depth, `in` list length) are the compiler's
 * (compiler/bounds.ts), the same for every door.
 */
import { UserError } from '../errors.js';

/** Deepest JSON nesting (objects + arrays) a door accepts. Real queries stay under 20. */
export const MAX_JSON_DEPTH = 64;

function tooDeep(what: string, max: number): UserError {
  return new UserError('BAD_USER_INPUT', `${what} is nested deeper than ${max} levels`, { limit: max });
}

/** Throws when JSON text nests deeper than `max` (a scan of brackets outside strings: no parse). */
export function assertJsonTextDepth(text: string, what: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) throw tooDeep(what, max);
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
}

/**
 * The same bound for NDJSON, where each line is its own document (depth counts per line). Most
 * bodies are flat rows: with no "[" and at most one "{" per line no line nests deeper than 1, and
 * that is checked with native indexOf scans (a 30 MB batch in a few ms instead of ~100 ms of
 * per-character loop); anything else gets the exact per-line scan.
 */
export function assertNdjsonDepth(text: string | Buffer, what: string, max = MAX_JSON_DEPTH): void {
  // Bytes (an ingestion body's segment) or text: the brackets, quotes and newlines are ASCII, and
  // no byte of a multi-byte UTF-8 character is, so both scans see the same structure.
  const code = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i] ?? Number.NaN;
  if (max >= 1 && text.indexOf('[') === -1) {
    let flat = true;
    for (let b = text.indexOf('{'); b !== -1; ) {
      const next = text.indexOf('{', b + 1);
      if (next === -1) break;
      const nl = text.indexOf('\n', b + 1);
      if (nl === -1 || nl > next) {
        flat = false;
        break;
      }
      b = next;
    }
    if (flat) return;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = code(i);
    if (c === 10 /* \n: the next line */) {
      depth = 0;
      inString = false;
    } else if (inString) {
      if (c === 92 /* \ */ && code(i + 1) !== 10)
        i++; // an escape never hides a line end
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) throw tooDeep(what, max);
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
}

/** Throws when a parsed value nests deeper than `max` (iterative walk). */
export function assertValueDepth(value: unknown, what: string, max = MAX_JSON_DEPTH): void {
  if (typeof value !== 'object' || value === null) return;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [object, number];
    if (d > max) throw tooDeep(what, max);
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
}
