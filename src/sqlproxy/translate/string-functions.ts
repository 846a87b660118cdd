/**
 * Postgres' common string functions over one row (post mode): what BI tools put around text columns
 * (UPPER for case-insensitive grouping, LEFT/SUBSTRING for prefixes, CONCAT for labels). NULL in,
 * NULL out, as in Postgres (CONCAT skips NULLs). Positions are 1-based characters.
 */
import { OID } from '../pg-types.js';
import { toText, type Value } from './values.js';

type Fn = (args: readonly Value[]) => Value;

const text = (v: Value): string | null => {
  const t = toText(v);
  return t.t === 'string' ? t.v : null;
};
const int = (v: Value | undefined): number | null => (v && v.t === 'number' ? Math.trunc(v.v) : null);
const str = (v: string | null): Value => (v === null ? { t: 'null' } : { t: 'string', v });
/** Applies `f` when every argument is present (strict functions). */
const strict =
  (f: (s: string[], raw: readonly Value[]) => Value): Fn =>
  (args) => {
    const s = args.map(text);
    return s.some((x) => x === null) ? { t: 'null' } : f(s as string[], args);
  };
const trimmer = (side: 'both' | 'start' | 'end'): Fn =>
  strict(([s, chars]) => {
    const set = new Set(chars ?? ' ');
    let a = 0;
    let b = s.length;
    if (side !== 'end') while (a < b && set.has(s[a])) a++;
    if (side !== 'start') while (b > a && set.has(s[b - 1])) b--;
    return str(s.slice(a, b));
  });

const FUNCTIONS: Readonly<Record<string, Fn>> = {
  upper: strict(([s]) => str(s.toUpperCase())),
  lower: strict(([s]) => str(s.toLowerCase())),
  initcap: strict(([s]) => str(s.toLowerCase().replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()))),
  length: strict(([s]) => ({ t: 'number', v: [...s].length })),
  char_length: strict(([s]) => ({ t: 'number', v: [...s].length })),
  btrim: trimmer('both'),
  ltrim: trimmer('start'),
  rtrim: trimmer('end'),
  substring: (args) => substring(args),
  substr: (args) => substring(args),
  left: (args) => {
    const [s, n] = [text(args[0]), int(args[1])];
    if (s === null || n === null) return { t: 'null' };
    const chars = [...s];
    return str((n >= 0 ? chars.slice(0, n) : chars.slice(0, Math.max(0, chars.length + n))).join(''));
  },
  right: (args) => {
    const [s, n] = [text(args[0]), int(args[1])];
    if (s === null || n === null) return { t: 'null' };
    const chars = [...s];
    return str((n >= 0 ? chars.slice(Math.max(0, chars.length - n)) : chars.slice(-n)).join(''));
  },
  replace: strict(([s, from, to]) => str(from === '' ? s : s.split(from).join(to))),
  split_part: (args) => {
    const [s, sep, n] = [text(args[0]), text(args[1]), int(args[2])];
    if (s === null || sep === null || n === null) return { t: 'null' };
    const parts = sep === '' ? [s] : s.split(sep);
    return str((n > 0 ? parts[n - 1] : parts[parts.length + n]) ?? '');
  },
  strpos: strict(([s, sub]) => {
    const i = s.indexOf(sub);
    return { t: 'number', v: i < 0 ? 0 : [...s.slice(0, i)].length + 1 };
  }),
  concat: (args) =>
    str(
      args
        .map(text)
        .filter((x) => x !== null)
        .join(''),
    ),
};

function substring(args: readonly Value[]): Value {
  const s = text(args[0]);
  const from = int(args[1]);
  if (s === null || from === null) return { t: 'null' };
  const chars = [...s];
  if (args.length < 3) return str(chars.slice(Math.max(0, from - 1)).join(''));
  const len = int(args[2]);
  if (len === null) return { t: 'null' };
  // Postgres: characters from..from+len-1, counted from 1 even when `from` is below 1.
  const end = from + len - 1;
  return str(chars.slice(Math.max(0, from - 1), Math.max(0, end)).join(''));
}

export const STRING_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(FUNCTIONS));

export function stringFunction(fn: string, args: readonly Value[]): Value {
  return FUNCTIONS[fn](args);
}

/** Result type of a string function for RowDescription. */
export function stringFunctionOid(fn: string): number {
  return fn === 'length' || fn === 'char_length' || fn === 'strpos' ? OID.int4 : OID.text;
}
