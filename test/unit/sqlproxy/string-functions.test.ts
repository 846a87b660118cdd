/** Post mode's string functions against what Postgres 18 answers for the same calls (values from its docs and psql). */
import { describe, expect, it } from 'vitest';
import { stringFunction, stringFunctionOid } from '../../../src/sqlproxy/translate/string-functions.js';
import type { Value } from '../../../src/sqlproxy/translate/values.js';

const s = (v: string): Value => ({ t: 'string', v });
const n = (v: number): Value => ({ t: 'number', v });
const NULL: Value = { t: 'null' };
const call = (fn: string, ...args: Value[]) => {
  const r = stringFunction(fn, args);
  return r.t === 'null' ? null : (r as { v: unknown }).v;
};

describe('string functions (Postgres semantics)', () => {
  it('answer as Postgres does', () => {
    expect(call('upper', s('google_ads'))).toBe('GOOGLE_ADS');
    expect(call('initcap', s('hi THOMAS'))).toBe('Hi Thomas');
    expect(call('length', s('jöse'))).toBe(4);
    expect(call('substring', s('Thomas'), n(2), n(3))).toBe('hom');
    expect(call('substring', s('Thomas'), n(0), n(3))).toBe('Th'); // counted from 1: characters 0..2
    expect(call('substr', s('alphabet'), n(3))).toBe('phabet');
    expect(call('left', s('abcde'), n(2))).toBe('ab');
    expect(call('left', s('abcde'), n(-2))).toBe('abc');
    expect(call('right', s('abcde'), n(2))).toBe('de');
    expect(call('right', s('abcde'), n(-2))).toBe('cde');
    expect(call('btrim', s('xyxtrimyyx'), s('xyz'))).toBe('trim');
    expect(call('ltrim', s('  trim  '))).toBe('trim  ');
    expect(call('replace', s('abcdefabcdef'), s('cd'), s('XX'))).toBe('abXXefabXXef');
    expect(call('split_part', s('abc~@~def~@~ghi'), s('~@~'), n(2))).toBe('def');
    expect(call('split_part', s('abc,def,ghi,jkl'), s(','), n(-2))).toBe('ghi');
    expect(call('strpos', s('high'), s('ig'))).toBe(2);
    expect(call('strpos', s('high'), s('x'))).toBe(0);
    expect(call('concat', s('abcde'), n(2), NULL, n(22))).toBe('abcde222');
  });

  it('NULL in, NULL out (CONCAT skips NULLs)', () => {
    expect(call('upper', NULL)).toBeNull();
    expect(call('substring', s('abc'), NULL)).toBeNull();
    expect(call('replace', s('abc'), NULL, s('x'))).toBeNull();
    expect(call('concat', NULL, NULL)).toBe('');
  });

  it('reports the result types', () => {
    expect(stringFunctionOid('length')).toBe(23);
    expect(stringFunctionOid('upper')).toBe(25);
  });
});
