/**
 * Constant expressions on the value side of predicates and in LIMIT/OFFSET: literals, $n
 * parameters, casts, NOW()/CURRENT_DATE, intervals, date_trunc and +/- arithmetic. The result
 * is a typed value; nothing here is ever turned back into SQL text.
 */
import { DateTime } from 'luxon';
import { SQLSTATE } from '../sql-error.js';
import type { ParamValue } from '../pg-types.js';
import { OID } from '../pg-types.js';
import { type Node, kindOf, plainName, type Positioned } from './ast.js';
import type { Granularity } from '../../semantic/query.js';

export type Value =
  | { readonly t: 'null' }
  | { readonly t: 'number'; readonly v: number }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'timestamp'; readonly v: DateTime; readonly date: boolean }
  | { readonly t: 'interval'; readonly months: number; readonly days: number; readonly ms: number }
  /** A parameter whose value is not bound yet (Parse/Describe). */
  | { readonly t: 'unknown' };

export interface ParamSource {
  /** Bound value of $n, or undefined while describing a statement. */
  value(n: number): ParamValue | undefined;
  /** Records the type the context expects for $n (reported in ParameterDescription). */
  expect(n: number, oid: number): void;
  /** Number of bound values (Bind) — 0 while describing. */
  readonly count: number;
  /** True once values are bound; false while describing. */
  readonly bound: boolean;
}

export interface ValueContext {
  readonly at: Positioned;
  readonly params: ParamSource;
  readonly now: Date;
  readonly timezone: string;
}

const TRUNC_UNITS: Readonly<Record<string, Granularity>> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  day: 'day',
  week: 'week',
  month: 'month',
  quarter: 'quarter',
  year: 'year',
};

export function truncUnit(text: string, at: Positioned, node: Node): Granularity {
  const unit = TRUNC_UNITS[text.toLowerCase().replace(/s$/, '')];
  if (!unit) throw at.unsupported(`date_trunc unit "${text}" is not supported (use second, minute, hour, day, week, month, quarter or year)`, node);
  return unit;
}

/** Evaluates a constant expression. `expectOid` types a bare $n parameter. */
export function evalValue(node: Node, ctx: ValueContext, expectOid: number = OID.text): Value {
  const { at } = ctx;
  switch (kindOf(node)) {
    case 'A_Const': {
      const c = node.A_Const;
      if (c.isnull) return { t: 'null' };
      if (c.ival) return { t: 'number', v: c.ival.ival ?? 0 };
      if ('ival' in c) return { t: 'number', v: 0 };
      if (c.fval) return { t: 'number', v: Number(c.fval.fval) };
      if (c.boolval) return { t: 'bool', v: c.boolval.boolval === true };
      if ('boolval' in c) return { t: 'bool', v: false };
      if (c.sval) return { t: 'string', v: c.sval.sval ?? '' };
      if ('sval' in c) return { t: 'string', v: '' };
      throw at.unsupported('unsupported literal', node);
    }
    case 'ParamRef': {
      const n: number = node.ParamRef.number;
      if (n < 1 || (ctx.params.bound && n > ctx.params.count)) {
        throw at.error(SQLSTATE.UNDEFINED_OBJECT, `there is no parameter $${n}`, node);
      }
      ctx.params.expect(n, expectOid);
      const v = ctx.params.value(n);
      if (v === undefined) return { t: 'unknown' };
      if (v === null) return { t: 'null' };
      if (typeof v === 'number') return { t: 'number', v };
      if (typeof v === 'boolean') return { t: 'bool', v };
      return { t: 'string', v };
    }
    case 'TypeCast': {
      const type = plainName(node.TypeCast.typeName.names);
      const argOid = castOid(type) ?? OID.text;
      const v = evalValue(node.TypeCast.arg, ctx, argOid);
      return castValue(v, type, ctx, node, node.TypeCast.typeName.typmods);
    }
    case 'SQLValueFunction': {
      const op: string = node.SQLValueFunction.op;
      const now = nowIn(ctx);
      if (op === 'SVFOP_CURRENT_DATE') return { t: 'timestamp', v: now.startOf('day'), date: true };
      if (op.startsWith('SVFOP_CURRENT_TIMESTAMP') || op.startsWith('SVFOP_LOCALTIMESTAMP')) return { t: 'timestamp', v: now, date: false };
      throw at.unsupported(`${op.replace('SVFOP_', '').toLowerCase()} is not supported here`, node);
    }
    case 'FuncCall': {
      const fn = plainName(node.FuncCall.funcname);
      const args: Node[] = node.FuncCall.args ?? [];
      if (
        (fn === 'now' || fn === 'current_timestamp' || fn === 'localtimestamp' || fn === 'transaction_timestamp' || fn === 'statement_timestamp') &&
        args.length === 0
      ) {
        return { t: 'timestamp', v: nowIn(ctx), date: false };
      }
      if (fn === 'date_trunc' && args.length === 2) {
        const unitV = evalValue(args[0], ctx);
        const v = toTimestamp(evalValue(args[1], ctx, OID.timestamp), ctx, args[1]);
        if (unitV.t === 'unknown' || v.t === 'unknown') return { t: 'unknown' };
        if (unitV.t !== 'string') throw at.unsupported('date_trunc unit must be a string literal', args[0]);
        if (v.t !== 'timestamp') return { t: 'null' };
        return { t: 'timestamp', v: startOf(v.v, truncUnit(unitV.v, at, args[0])), date: false };
      }
      if (fn === 'date' && args.length === 1) return castValue(evalValue(args[0], ctx), 'date', ctx, node);
      // Superset's literals: TO_TIMESTAMP('2026-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US'), TO_DATE('2026-01-01', 'YYYY-MM-DD').
      if ((fn === 'to_timestamp' || fn === 'to_date') && args.length === 2) {
        const text = evalValue(args[0], ctx);
        const format = evalValue(args[1], ctx);
        if (text.t === 'unknown' || format.t === 'unknown') return { t: 'unknown' };
        if (text.t === 'null' || format.t === 'null') return { t: 'null' };
        if (text.t !== 'string' || format.t !== 'string' || !ISO_FORMATS.has(format.v.toUpperCase().replace(/\s+/g, ' '))) {
          throw at.unsupported(`${fn}() is supported with an ISO format such as 'YYYY-MM-DD HH24:MI:SS'`, args[1]);
        }
        return castValue(text, fn === 'to_date' ? 'date' : 'timestamp', ctx, node);
      }
      // to_timestamp(epoch seconds): Grafana's $__unixEpochFilter / $__timeFrom() values.
      if (fn === 'to_timestamp' && args.length === 1) {
        const v = toNumber(evalValue(args[0], ctx, OID.float8), ctx, args[0]);
        if (v.t !== 'number') return v;
        return { t: 'timestamp', v: DateTime.fromMillis(v.v * 1000, { zone: ctx.timezone }), date: false };
      }
      throw at.unsupported(`function ${fn}() is not supported in a filter value`, node);
    }
    case 'A_Expr': {
      const e = node.A_Expr;
      if (e.kind !== 'AEXPR_OP') break;
      const op = plainName(e.name);
      if (!e.lexpr && op === '-') {
        const v = evalValue(e.rexpr, ctx, OID.numeric);
        if (v.t === 'number') return { t: 'number', v: -v.v };
        if (v.t === 'interval') return negate(v);
        if (v.t === 'unknown') return v;
        throw at.error(SQLSTATE.UNDEFINED_FUNCTION, `operator does not exist: - ${v.t}`, node);
      }
      if (!e.lexpr) break;
      const l = evalValue(e.lexpr, ctx, OID.numeric);
      const r = evalValue(e.rexpr, ctx, l.t === 'timestamp' ? OID.interval : OID.numeric);
      return arithmetic(op, l, r, ctx, node);
    }
    default:
      break;
  }
  throw at.unsupported('only constant values are supported here (literals, $n parameters, NOW(), CURRENT_DATE, INTERVAL arithmetic)', node);
}

const ISO_FORMATS = new Set(['YYYY-MM-DD', 'YYYY-MM-DD HH24:MI:SS', 'YYYY-MM-DD HH24:MI:SS.US', 'YYYY-MM-DD HH24:MI:SS.MS', 'YYYY-MM-DD"T"HH24:MI:SS']);

function nowIn(ctx: ValueContext): DateTime {
  return DateTime.fromJSDate(ctx.now, { zone: ctx.timezone });
}

function negate(v: Extract<Value, { t: 'interval' }>): Value {
  return { t: 'interval', months: -v.months, days: -v.days, ms: -v.ms };
}

function arithmetic(op: string, l: Value, r: Value, ctx: ValueContext, node: Node): Value {
  if (l.t === 'unknown' || r.t === 'unknown') return { t: 'unknown' };
  if (l.t === 'null' || r.t === 'null') return { t: 'null' };
  const lv = l.t === 'string' ? coerceLiteral(l, r, ctx, node) : l;
  const rv = r.t === 'string' ? coerceLiteral(r, lv, ctx, node) : r;
  if (lv.t === 'number' && rv.t === 'number') {
    if (op === '+') return { t: 'number', v: lv.v + rv.v };
    if (op === '-') return { t: 'number', v: lv.v - rv.v };
    if (op === '*') return { t: 'number', v: lv.v * rv.v };
    if (op === '/' && rv.v !== 0) return { t: 'number', v: lv.v / rv.v };
  }
  if (lv.t === 'timestamp' && rv.t === 'interval' && (op === '+' || op === '-')) {
    return { t: 'timestamp', v: addInterval(lv.v, op === '+' ? rv : (negate(rv) as typeof rv)), date: false };
  }
  if (lv.t === 'interval' && rv.t === 'timestamp' && op === '+') return { t: 'timestamp', v: addInterval(rv.v, lv), date: false };
  if (lv.t === 'timestamp' && lv.date && rv.t === 'number' && (op === '+' || op === '-')) {
    return { t: 'timestamp', v: lv.v.plus({ days: op === '+' ? rv.v : -rv.v }), date: true };
  }
  if (lv.t === 'interval' && rv.t === 'number' && op === '*') return { t: 'interval', months: lv.months * rv.v, days: lv.days * rv.v, ms: lv.ms * rv.v };
  if (lv.t === 'number' && rv.t === 'interval' && op === '*') return { t: 'interval', months: rv.months * lv.v, days: rv.days * lv.v, ms: rv.ms * lv.v };
  throw ctx.at.error(SQLSTATE.UNDEFINED_FUNCTION, `operator does not exist: ${lv.t} ${op} ${rv.t}`, node);
}

/** An untyped string literal next to a typed operand takes the operand's type (Postgres "unknown"). */
function coerceLiteral(s: Extract<Value, { t: 'string' }>, other: Value, ctx: ValueContext, node: Node): Value {
  if (other.t === 'timestamp') return parseInterval(s.v, ctx, node);
  if (other.t === 'interval') return parseTimestamp(s.v, ctx, node);
  if (other.t === 'number') return toNumber(s, ctx, node);
  return s;
}

function addInterval(d: DateTime, i: Extract<Value, { t: 'interval' }>): DateTime {
  return d.plus({ months: i.months, days: i.days, milliseconds: i.ms });
}

export function startOf(d: DateTime, unit: Granularity): DateTime {
  return d.startOf(unit);
}

export function castOid(type: string): number | undefined {
  switch (type) {
    case 'date':
      return OID.date;
    case 'timestamp':
    case 'timestamptz':
      return OID.timestamp;
    case 'interval':
      return OID.interval;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'integer':
    case 'bigint':
    case 'smallint':
      return OID.int8;
    case 'numeric':
    case 'decimal':
    case 'float4':
    case 'float8':
    case 'real':
    case 'double precision':
      return OID.numeric;
    case 'bool':
    case 'boolean':
      return OID.bool;
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'char':
    case 'name':
      return OID.text;
    default:
      return undefined;
  }
}

function castValue(v: Value, type: string, ctx: ValueContext, node: Node, typmods?: Node[]): Value {
  if (v.t === 'unknown' || v.t === 'null') return v;
  const oid = castOid(type);
  if (oid === OID.date) {
    const ts = toTimestamp(v, ctx, node);
    return ts.t === 'timestamp' ? { t: 'timestamp', v: ts.v.startOf('day'), date: true } : ts;
  }
  if (oid === OID.timestamp) {
    const ts = toTimestamp(v, ctx, node);
    return ts.t === 'timestamp' ? { t: 'timestamp', v: ts.v, date: false } : ts;
  }
  if (oid === OID.interval) {
    if (typmods?.length && v.t === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v.v)) {
      throw ctx.at.unsupported("INTERVAL with a field qualifier is not supported; write INTERVAL '30 day'", node);
    }
    if (v.t === 'interval') return v;
    if (v.t === 'string') return parseInterval(v.v, ctx, node);
  }
  if (oid === OID.int8 || oid === OID.numeric) {
    const n = toNumber(v, ctx, node);
    return oid === OID.int8 && n.t === 'number' ? { t: 'number', v: Math.round(n.v) } : n;
  }
  if (oid === OID.bool) return toBool(v, ctx, node);
  if (oid === OID.text) {
    if (v.t === 'string') return v;
    if (v.t === 'number' || v.t === 'bool') return { t: 'string', v: v.t === 'bool' ? (v.v ? 'true' : 'false') : String(v.v) };
  }
  throw ctx.at.unsupported(`cast to ${type} is not supported here`, node);
}

export function toNumber(v: Value, ctx: ValueContext, node: Node): Value {
  if (v.t === 'number' || v.t === 'unknown' || v.t === 'null') return v;
  if (v.t === 'string' && v.v.trim() !== '' && Number.isFinite(Number(v.v))) return { t: 'number', v: Number(v.v) };
  if (v.t === 'bool') return { t: 'number', v: v.v ? 1 : 0 };
  throw ctx.at.error(SQLSTATE.INVALID_TEXT, `invalid input syntax for type numeric: "${describe(v)}"`, node);
}

export function toBool(v: Value, ctx: ValueContext, node: Node): Value {
  if (v.t === 'bool' || v.t === 'unknown' || v.t === 'null') return v;
  if (v.t === 'string') {
    const s = v.v.trim().toLowerCase();
    if (['t', 'true', 'yes', 'y', 'on', '1'].includes(s)) return { t: 'bool', v: true };
    if (['f', 'false', 'no', 'n', 'off', '0'].includes(s)) return { t: 'bool', v: false };
  }
  if (v.t === 'number' && (v.v === 0 || v.v === 1)) return { t: 'bool', v: v.v === 1 };
  throw ctx.at.error(SQLSTATE.INVALID_TEXT, `invalid input syntax for type boolean: "${describe(v)}"`, node);
}

export function toTimestamp(v: Value, ctx: ValueContext, node: Node): Value {
  if (v.t === 'timestamp' || v.t === 'unknown' || v.t === 'null') return v;
  if (v.t === 'string') return parseTimestamp(v.v, ctx, node);
  throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, `cannot compare a time column with a ${v.t} value`, node);
}

export function toText(v: Value): Value {
  if (v.t === 'number') return { t: 'string', v: String(v.v) };
  if (v.t === 'bool') return { t: 'string', v: v.v ? 'true' : 'false' };
  if (v.t === 'timestamp') return { t: 'string', v: localText(v.v) };
  return v;
}

function describe(v: Value): string {
  if (v.t === 'string') return v.v;
  if (v.t === 'number' || v.t === 'bool') return String(v.v);
  return v.t;
}

export function parseTimestamp(text: string, ctx: ValueContext, node: Node): Value {
  const s = text.trim().toLowerCase();
  const now = nowIn(ctx);
  if (s === 'now') return { t: 'timestamp', v: now, date: false };
  if (s === 'today') return { t: 'timestamp', v: now.startOf('day'), date: true };
  if (s === 'yesterday') return { t: 'timestamp', v: now.startOf('day').minus({ days: 1 }), date: true };
  if (s === 'tomorrow') return { t: 'timestamp', v: now.startOf('day').plus({ days: 1 }), date: true };
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ t](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/.exec(s);
  if (m && !m[2] && m[3]) {
    // A date with a zone (pgJDBC setDate() sends '2026-10-01 +00'): the zone does not move a date.
    const d = DateTime.fromISO(m[1], { zone: ctx.timezone });
    if (d.isValid) return { t: 'timestamp', v: d, date: true };
  }
  if (m) {
    const iso = `${m[1]}${m[2] ? `T${m[2].slice(0, 12)}` : ''}${m[3] ? (m[3] === 'z' ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3]) : ''}`;
    const d = DateTime.fromISO(iso, { zone: ctx.timezone });
    if (d.isValid) return { t: 'timestamp', v: d.setZone(ctx.timezone), date: !m[2] };
  }
  throw ctx.at.error(SQLSTATE.INVALID_DATETIME, `invalid input syntax for type timestamp: "${text}"`, node);
}

const INTERVAL_UNITS: Readonly<Record<string, [keyof IntervalParts, number]>> = {
  millisecond: ['ms', 1],
  ms: ['ms', 1],
  second: ['ms', 1000],
  sec: ['ms', 1000],
  s: ['ms', 1000],
  minute: ['ms', 60_000],
  min: ['ms', 60_000],
  m: ['ms', 60_000],
  hour: ['ms', 3_600_000],
  hr: ['ms', 3_600_000],
  h: ['ms', 3_600_000],
  day: ['days', 1],
  d: ['days', 1],
  week: ['days', 7],
  w: ['days', 7],
  month: ['months', 1],
  mon: ['months', 1],
  quarter: ['months', 3],
  year: ['months', 12],
  yr: ['months', 12],
  y: ['months', 12],
};

interface IntervalParts {
  months: number;
  days: number;
  ms: number;
}

export function parseInterval(text: string, ctx: ValueContext, node: Node): Value {
  const parts: IntervalParts = { months: 0, days: 0, ms: 0 };
  let rest = text.trim().toLowerCase().replace(/^@\s*/, '');
  const ago = /\s+ago$/.test(rest);
  rest = rest.replace(/\s+ago$/, '');
  let matched = false;
  const re = /([+-]?\d+(?:\.\d+)?)\s*([a-z]+)|([+-]?)(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?/gy;
  rest = rest.replace(/,/g, ' ');
  let pos = 0;
  while (pos < rest.length) {
    while (rest[pos] === ' ') pos++;
    if (pos >= rest.length) break;
    re.lastIndex = pos;
    const m = re.exec(rest);
    if (!m) throw ctx.at.error(SQLSTATE.INVALID_DATETIME, `invalid input syntax for type interval: "${text}"`, node);
    if (m[2]) {
      const unit = INTERVAL_UNITS[m[2].replace(/s$/, '')] ?? INTERVAL_UNITS[m[2]];
      if (!unit) throw ctx.at.error(SQLSTATE.INVALID_DATETIME, `invalid input syntax for type interval: "${text}"`, node);
      parts[unit[0]] += Number(m[1]) * unit[1];
    } else {
      const sign = m[3] === '-' ? -1 : 1;
      parts.ms += sign * ((Number(m[4]) * 60 + Number(m[5])) * 60_000 + Number(m[6] ?? 0) * 1000);
    }
    matched = true;
    pos = re.lastIndex;
  }
  if (!matched) throw ctx.at.error(SQLSTATE.INVALID_DATETIME, `invalid input syntax for type interval: "${text}"`, node);
  const sign = ago ? -1 : 1;
  return { t: 'interval', months: sign * parts.months, days: sign * parts.days, ms: sign * parts.ms };
}

/** Local "YYYY-MM-DDTHH:mm:ss.SSS" in the value's zone (the query time zone). */
export function localText(d: DateTime): string {
  return d.toFormat("yyyy-LL-dd'T'HH:mm:ss.SSS");
}
