/**
 * Row checks, compiled once per table into a flat list of closures so the per-row loop does no
 * type dispatch. A row either becomes an insertable object (known columns only, tenant column
 * set from the credential) or a reason string for the quarantine.
 *
 * Checks, in order: shape, no tenant column, unknown fields, required fields, types (dates,
 * date-times, numbers, strings, enums), non-negative numbers, cross-field rules
 * (clicks <= impressions, conversions <= clicks, ... when both columns exist).
 */
import { suggest } from '../semantic/suggest.js';
import { compileRowBinary, type RowBinaryWriter } from './row-binary.js';
import type { ColumnSpec, TableSchema } from './table-schema.js';

export const TENANT_COLUMN = 'tenant_id';

/** "a <= b" data-quality rules, applied to every table holding both columns. */
export const ORDERED_PAIRS: readonly (readonly [string, string])[] = [
  // ad_performance
  ['clicks', 'impressions'],
  ['conversions', 'clicks'],
  // email_activity
  ['delivered', 'sent'],
  ['bounced', 'sent'],
  ['opened', 'delivered'],
  ['clicked', 'delivered'],
  ['replied', 'delivered'],
  // mailbox_warmup, conversion_touchpoints
  ['inboxed', 'delivered'],
  ['position', 'path_length'],
  // social_posts, influencer_partnerships
  ['reach', 'impressions'],
  ['deliverables_completed', 'deliverables_planned'],
];

/** Inclusive value ranges of bounded columns ("table.column"): probabilities, 0/1 flags. */
export const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  'clients.churn_score': [0, 1],
  'web_sessions.bounced': [0, 1],
};

/** Numeric columns that may legitimately be negative (none of the marketing metrics may). */
export const SIGNED_COLUMNS: ReadonlySet<string> = new Set(['adjustment', 'delta', 'latitude', 'longitude']);

export type RowOutcome = Record<string, unknown> | string;

export type RowValidator = (row: unknown) => RowOutcome;

type Coerce = (v: unknown) => unknown;

/** Sentinel for "not of this type"; the column check turns it into a reason. */
const BAD: unique symbol = Symbol('bad');

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NUMERIC_RE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT_RE = /^-?\d+$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2299) return false;
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Batches repeat the same few dates: remember which strings were valid (bounded). */
const validDates = new Set<string>();

function coerceDate(v: unknown): unknown {
  if (typeof v !== 'string') return BAD;
  if (validDates.has(v)) return v;
  const m = DATE_RE.exec(v);
  if (!m || !validDate(+m[1], +m[2], +m[3])) return BAD;
  if (validDates.size > 50_000) validDates.clear();
  validDates.add(v);
  return v;
}

/** Naive date-times pass as written; an explicit zone (Z, +02:00) is converted to UTC. */
function coerceDateTime(fraction: boolean): Coerce {
  return (v) => {
    if (typeof v !== 'string') return BAD;
    const m = DATETIME_RE.exec(v);
    if (!m || !validDate(+m[1], +m[2], +m[3])) return BAD;
    const [hh, mi, ss] = [+(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)];
    if (hh > 23 || mi > 59 || ss > 59) return BAD;
    let frac = m[7] ?? '';
    if (m[8]) {
      const ms = Date.parse(
        `${m[1]}-${m[2]}-${m[3]}T${pad(hh)}:${pad(mi)}:${pad(ss)}${frac.slice(0, 4)}${m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]}`,
      );
      if (Number.isNaN(ms)) return BAD;
      const d = new Date(ms);
      const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      return fraction ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
    }
    if (!fraction) frac = '';
    return `${m[1]}-${m[2]}-${m[3]} ${pad(hh)}:${pad(mi)}:${pad(ss)}${frac}`;
  };
}

function coerceFloat(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : BAD;
  if (typeof v === 'string' && NUMERIC_RE.test(v)) return Number(v);
  return BAD;
}

function coerceInt(min: number, max: number): Coerce {
  return (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && INT_RE.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) return BAD;
    return n;
  };
}

function coercerFor(c: ColumnSpec): { coerce: Coerce; expected: string; numeric: boolean } {
  const k = c.kind;
  switch (k.kind) {
    case 'string':
      return {
        coerce: k.fixedLength ? (v) => (typeof v === 'string' && Buffer.byteLength(v) <= k.fixedLength! ? v : BAD) : (v) => (typeof v === 'string' ? v : BAD),
        expected: k.fixedLength ? `a string of at most ${k.fixedLength} bytes` : 'a string',
        numeric: false,
      };
    case 'enum':
      return {
        coerce: (v) => (typeof v === 'string' && k.values.has(v) ? v : BAD),
        expected: `one of ${[...k.values].map((s) => `"${s}"`).join(', ')}`,
        numeric: false,
      };
    case 'uuid':
      return { coerce: (v) => (typeof v === 'string' && UUID_RE.test(v) ? v : BAD), expected: 'a UUID', numeric: false };
    case 'date':
      return { coerce: coerceDate, expected: 'a date "YYYY-MM-DD"', numeric: false };
    case 'datetime':
      return { coerce: coerceDateTime(k.fraction), expected: 'a date-time "YYYY-MM-DD HH:MM:SS" (ISO 8601 accepted)', numeric: false };
    case 'int':
      return { coerce: coerceInt(k.min, k.max), expected: k.min === 0 ? 'a non-negative integer' : 'an integer', numeric: true };
    case 'float':
      return { coerce: coerceFloat, expected: 'a number', numeric: true };
    case 'bool':
      return { coerce: (v) => (typeof v === 'boolean' ? v : v === 0 || v === 1 ? v === 1 : BAD), expected: 'a boolean', numeric: false };
    case 'stringArray':
      return { coerce: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : BAD), expected: 'an array of strings', numeric: false };
    case 'other':
      return { coerce: (v) => v, expected: 'a value', numeric: false };
  }
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function jsType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

interface ColumnCheck {
  readonly name: string;
  readonly required: boolean;
  readonly nullable: boolean;
  readonly coerce: Coerce;
  readonly expected: string;
  readonly nonNegative: boolean;
  readonly range?: readonly [number, number];
}

/**
 * The checks as an encoder: a good row becomes its values in `columns` order, ready for the
 * engine's compact format (no per-row object, no key names). `undefined` = absent: the column's
 * default applies.
 */
export interface RowEncoder {
  /** Insert order: the tenant column first (when the table has one), then the writable columns. */
  readonly columns: readonly string[];
  /**
   * True when an absent value may be sent as null (null_as_default gives the default). False when
   * a Nullable column has a DEFAULT: there null and "absent" differ, so rows must go as objects.
   */
  readonly compact: boolean;
  /** Writes an encoded row as RowBinaryWithDefaults; undefined when a column's type has no binary writer. */
  readonly binary: RowBinaryWriter | undefined;
  encode(row: unknown): unknown[] | string;
}

export function compileRowEncoder(schema: TableSchema, tenantId: string): RowEncoder {
  const tenantCol = schema.columns.find((c) => c.name === TENANT_COLUMN);
  const writable = schema.columns.filter((c) => c.writable && c.name !== TENANT_COLUMN);
  const known = new Set(writable.map((c) => c.name));
  const computed = new Set(schema.columns.filter((c) => !c.writable).map((c) => c.name));
  const checks: ColumnCheck[] = writable.map((c) => {
    const { coerce, expected, numeric } = coercerFor(c);
    return {
      name: c.name,
      required: !c.nullable && !c.hasDefault,
      nullable: c.nullable,
      coerce,
      expected,
      nonNegative: numeric && !SIGNED_COLUMNS.has(c.name),
      range: numeric ? RANGES[`${schema.table}.${c.name}`] : undefined,
    };
  });
  const offset = tenantCol ? 1 : 0;
  const columns = [...(tenantCol ? [TENANT_COLUMN] : []), ...writable.map((c) => c.name)];
  const width = columns.length;
  // "a <= b" rules as positions in the value array.
  const pairs = ORDERED_PAIRS.filter(([a, b]) => known.has(a) && known.has(b)).map(([a, b]) => [a, b, columns.indexOf(a), columns.indexOf(b)] as const);
  const allNames = [...known];

  function unknownField(row: Record<string, unknown>): string {
    for (const key of Object.keys(row)) {
      if (known.has(key)) continue;
      if (computed.has(key)) return `field "${key}" is computed by the warehouse and cannot be written`;
      const s = suggest(key, allNames);
      return `unknown field "${key}"${s ? ` — did you mean "${s}"?` : ''}`;
    }
    return 'unknown field';
  }

  function encode(input: unknown): unknown[] | string {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return `row must be a JSON object, got ${jsType(input)}`;
    const row = input as Record<string, unknown>;
    if (TENANT_COLUMN in row) return `field "${TENANT_COLUMN}" must not be sent: the tenant comes from the credential`;
    const out: unknown[] = new Array(width);
    if (tenantCol) out[0] = tenantId;
    let seen = 0;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const v = row[c.name];
      if (v === undefined) {
        if (c.required) return `missing required field "${c.name}"`;
        continue;
      }
      seen++;
      if (v === null) {
        if (c.nullable) {
          out[i + offset] = null;
          continue;
        }
        if (c.required) return `field "${c.name}" must not be null`;
        continue; // null on a defaulted column: let the default apply
      }
      const x = c.coerce(v);
      if (x === BAD) return `field "${c.name}": expected ${c.expected}, got ${show(v)}`;
      if (c.nonNegative && (x as number) < 0) return `field "${c.name}" must not be negative, got ${show(v)}`;
      if (c.range && ((x as number) < c.range[0] || (x as number) > c.range[1]))
        return `field "${c.name}" must be between ${c.range[0]} and ${c.range[1]}, got ${show(v)}`;
      out[i + offset] = x;
    }
    let keys = 0;
    for (const _ in row) keys++;
    if (seen !== keys) return unknownField(row);
    for (let i = 0; i < pairs.length; i++) {
      const [a, b, ia, ib] = pairs[i];
      const x = out[ia];
      const y = out[ib];
      if (typeof x === 'number' && typeof y === 'number' && x > y) return `${a} (${x}) must not exceed ${b} (${y})`;
    }
    return out;
  }

  return {
    columns,
    compact: !writable.some((c) => c.nullable && c.hasDefault),
    binary: compileRowBinary([...(tenantCol ? [tenantCol] : []), ...writable]),
    encode,
  };
}

/** Values in `columns` order -> the row object (absent values left out). */
export function rowObject(columns: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) if (values[i] !== undefined) out[columns[i]] = values[i];
  return out;
}

/** The checks with an object result: known columns only, tenant column set from the credential. */
export function compileValidator(schema: TableSchema, tenantId: string): RowValidator {
  const { columns, encode } = compileRowEncoder(schema, tenantId);
  return (input) => {
    const r = encode(input);
    return typeof r === 'string' ? r : rowObject(columns, r);
  };
}
