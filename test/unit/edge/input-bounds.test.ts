import { describe, expect, it } from 'vitest';
import { checkQueryBounds, QUERY_BOUNDS } from '../../../src/compiler/bounds.js';
import { assertJsonTextDepth, assertNdjsonDepth, assertValueDepth, MAX_JSON_DEPTH } from '../../../src/edge/input-bounds.js';
import { UserError } from '../../../src/errors.js';

const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof UserError ? `${e.code}:${e.details.limit}` : `bug:${(e as Error).message}`;
  }
};

describe('JSON bounds at the edge', () => {
  it('measures depth in text without parsing, ignoring brackets inside strings', () => {
    expect(code(() => assertJsonTextDepth('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH), 'x'))).toBe('ok');
    expect(code(() => assertJsonTextDepth('['.repeat(MAX_JSON_DEPTH + 1), 'x'))).toBe(`BAD_USER_INPUT:${MAX_JSON_DEPTH}`);
    expect(code(() => assertJsonTextDepth(`{"a":"${'['.repeat(500)}\\"["}`, 'x'))).toBe('ok');
  });
  it('NDJSON: depth per line, the flat fast path and the exact scan agree', () => {
    const deep = (d: number) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    const flat = Array.from({ length: 1_000 }, (_, i) => `{"i":${i},"s":"a{b"}`).join('\n');
    expect(code(() => assertNdjsonDepth(flat, 'x'))).toBe('ok');
    // Many lines each one deep: not a deep document (each line is its own).
    expect(code(() => assertNdjsonDepth(`${deep(MAX_JSON_DEPTH)}\n${deep(MAX_JSON_DEPTH)}\r\n{"x":[1]}`, 'x'))).toBe('ok');
    expect(code(() => assertNdjsonDepth(`${flat}\n${deep(MAX_JSON_DEPTH + 1)}\n{"z":1}`, 'x'))).toBe(`BAD_USER_INPUT:${MAX_JSON_DEPTH}`);
    expect(code(() => assertNdjsonDepth(`{"a":[${'['.repeat(MAX_JSON_DEPTH)}`, 'x'))).toBe(`BAD_USER_INPUT:${MAX_JSON_DEPTH}`);
    // An escape at a line's end does not hide the next line's brackets.
    expect(code(() => assertNdjsonDepth(`{"a":"x\\\n${'['.repeat(MAX_JSON_DEPTH + 1)}`, 'x'))).toBe(`BAD_USER_INPUT:${MAX_JSON_DEPTH}`);
    // Brackets inside strings do not count.
    expect(code(() => assertNdjsonDepth(`{"a":"${'{['.repeat(500)}"}`, 'x'))).toBe('ok');
  });
  it('measures depth of a value without recursion (100,000 deep)', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = { a: v };
    expect(code(() => assertValueDepth(v, 'x'))).toBe(`BAD_USER_INPUT:${MAX_JSON_DEPTH}`);
    expect(code(() => assertValueDepth({ a: [1, { b: 2 }] }, 'x'))).toBe('ok');
  });
});

describe('semantic query bounds', () => {
  const leaf = { member: 'a.b', operator: 'equals', values: ['x'] };
  const nest = (depth: number): unknown => (depth === 1 ? leaf : { or: [nest(depth - 1)] });
  it('refuses filters nested too deep, too many, too many values or too long ones', () => {
    expect(code(() => checkQueryBounds({ filters: [nest(QUERY_BOUNDS.maxFilterDepth)] }))).toBe('ok');
    expect(code(() => checkQueryBounds({ filters: [nest(QUERY_BOUNDS.maxFilterDepth + 1)] }))).toBe(`BAD_USER_INPUT:${QUERY_BOUNDS.maxFilterDepth}`);
    expect(code(() => checkQueryBounds({ filters: Array.from({ length: QUERY_BOUNDS.maxFilterNodes + 1 }, () => leaf) }))).toBe(
      `BAD_USER_INPUT:${QUERY_BOUNDS.maxFilterNodes}`,
    );
    const values = Array.from({ length: QUERY_BOUNDS.maxFilterValues + 1 }, (_, i) => String(i));
    expect(code(() => checkQueryBounds({ filters: [{ ...leaf, values }] }))).toBe(`BAD_USER_INPUT:${QUERY_BOUNDS.maxFilterValues}`);
    expect(code(() => checkQueryBounds({ filters: [{ ...leaf, values: ['x'.repeat(QUERY_BOUNDS.maxValueLength + 1)] }] }))).toBe(
      `BAD_USER_INPUT:${QUERY_BOUNDS.maxValueLength}`,
    );
    const long = Array.from({ length: 300 }, () => 'y'.repeat(1_000));
    expect(code(() => checkQueryBounds({ filters: [{ ...leaf, values: long }] }))).toBe(`BAD_USER_INPUT:${QUERY_BOUNDS.maxTotalValueChars}`);
  });
});
