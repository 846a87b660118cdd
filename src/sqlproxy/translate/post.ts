/**
 * Post-processing over the rows the query service returned (already authorized and tenant-scoped):
 * expressions BI tools put around columns and aggregates — epoch buckets, week starts, date parts,
 * ratios of aggregates, CASE/COALESCE/NULLIF/ROUND — evaluated here with Postgres semantics, then
 * regrouped and ordered. Nothing here becomes SQL; the semantic query is always a plain one.
 */
import { STRING_FUNCTIONS, stringFunction } from './string-functions.js';
import { DateTime } from 'luxon';
import type { CellValue } from '../../query/types.js';
import type { Cell } from '../pg-types.js';
import { OID } from '../pg-types.js';
import { SqlError, SQLSTATE } from '../sql-error.js';
import { type Node, kindOf, plainName, strings } from './ast.js';
import { castOid, evalValue, localText, parseTimestamp, truncUnit, type Value, type ValueContext } from './values.js';

export type Row = Readonly<Record<string, CellValue>>;

/** How a measure combines when rows of the semantic result merge into one output group. */
export type Merge = 'sum' | 'min' | 'max' | 'none';

/** Resolves the leaves of an expression for one row. */
export interface Env {
  /** A column reference (a dimension value of the semantic row). */
  column(node: Node): Value;
  /** An aggregate call (a measure value, or an accumulated dimension aggregate). */
  aggregate(node: Node): Value;
}

const EPOCH_PARTS = new Set(['epoch']);

/** Evaluates an expression over one row with Postgres semantics (NULL propagates). */
export function evalRow(node: Node, env: Env, ctx: ValueContext): Value {
  const ev = (n: Node) => evalRow(n, env, ctx);
  switch (kindOf(node)) {
    case 'ColumnRef':
      return env.column(node);
    case 'FuncCall': {
      const fc = node.FuncCall;
      const fn = plainName(fc.funcname).replace(/^pg_catalog\./, '');
      const args: Node[] = fc.args ?? [];
      if (AGGREGATE_FUNCTIONS.has(fn)) return env.aggregate(node);
      switch (fn) {
        case 'extract':
        case 'date_part': {
          const part = evalValue(args[0], ctx);
          const v = toTs(ev(args[1]), ctx, args[1]);
          if (part.t !== 'string') throw ctx.at.unsupported(`${fn}() needs a field name`, args[0]);
          if (v.t !== 'timestamp') return { t: 'null' };
          return { t: 'number', v: datePart(part.v.toLowerCase(), v.v, ctx, args[0]) };
        }
        case 'date_trunc': {
          const unit = evalValue(args[0], ctx);
          const v = toTs(ev(args[1]), ctx, args[1]);
          if (unit.t !== 'string') throw ctx.at.unsupported('date_trunc unit must be a string literal', args[0]);
          if (v.t !== 'timestamp') return { t: 'null' };
          return { t: 'timestamp', v: v.v.startOf(truncUnit(unit.v, ctx.at, args[0])), date: false };
        }
        case 'floor':
        case 'ceil':
        case 'ceiling':
        case 'abs':
        case 'round':
        case 'trunc': {
          const v = num(ev(args[0]), ctx, args[0]);
          if (v === null) return { t: 'null' };
          const digits = args[1] ? num(ev(args[1]), ctx, args[1]) : 0;
          if (digits === null) return { t: 'null' };
          const f = 10 ** digits;
          const out =
            fn === 'floor'
              ? Math.floor(v)
              : fn === 'abs'
                ? Math.abs(v)
                : fn === 'round'
                  ? (Math.sign(v) * Math.round(Math.abs(v) * f)) / f
                  : fn === 'trunc'
                    ? Math.trunc(v * f) / f
                    : Math.ceil(v);
          return { t: 'number', v: out };
        }
        case 'coalesce': {
          for (const a of args) {
            const v = ev(a);
            if (v.t !== 'null') return v;
          }
          return { t: 'null' };
        }
        case 'nullif': {
          const a = ev(args[0]);
          const b = ev(args[1]);
          return a.t !== 'null' && b.t !== 'null' && compare(a, b) === 0 ? { t: 'null' } : a;
        }
        case 'to_char': {
          const v = toTs(ev(args[0]), ctx, args[0]);
          const f = evalValue(args[1], ctx);
          if (v.t !== 'timestamp' || f.t !== 'string') return { t: 'null' };
          return { t: 'string', v: toChar(v.v, f.v) };
        }
        default:
          if (STRING_FUNCTIONS.has(fn)) return stringFunction(fn, args.map(ev));
          throw ctx.at.unsupported(`function ${fn}() is not supported over cube columns`, node);
      }
    }
    case 'MinMaxExpr': {
      // GREATEST/LEAST ignore NULLs; NULL only when every argument is.
      const vals = (node.MinMaxExpr.args as Node[]).map(ev).filter((v) => v.t !== 'null');
      if (!vals.length) return { t: 'null' };
      const greatest = node.MinMaxExpr.op === 'IS_GREATEST';
      return vals.reduce((best, v) => {
        const c = compare(asTypeOf(v, best, ctx, node), asTypeOf(best, v, ctx, node));
        return (greatest ? c > 0 : c < 0) ? v : best;
      });
    }
    case 'CoalesceExpr':
      return evalRow({ FuncCall: { funcname: [{ String: { sval: 'coalesce' } }], args: node.CoalesceExpr.args } }, env, ctx);
    case 'A_Expr': {
      const e = node.A_Expr;
      const op = plainName(e.name);
      if (e.kind === 'AEXPR_LIKE' || e.kind === 'AEXPR_ILIKE') {
        const l = ev(e.lexpr);
        const r = ev(e.rexpr);
        if (l.t === 'null' || r.t === 'null') return { t: 'null' };
        const hit = likeRegExp(text(r), e.kind === 'AEXPR_ILIKE').test(text(l));
        return { t: 'bool', v: op.startsWith('!') ? !hit : hit };
      }
      if (e.kind === 'AEXPR_NULLIF')
        return evalRow({ FuncCall: { funcname: [{ String: { sval: 'nullif' } }], args: e.lexpr ? [e.lexpr, e.rexpr] : e.rexpr } }, env, ctx);
      if (e.kind !== 'AEXPR_OP') throw ctx.at.unsupported('this expression is not supported over cube columns', node);
      if (!e.lexpr) {
        const v = ev(e.rexpr);
        if (op === '-' && v.t === 'number') return { t: 'number', v: -v.v };
        return v;
      }
      const l = ev(e.lexpr);
      const r = ev(e.rexpr);
      if (l.t === 'null' || r.t === 'null') return { t: 'null' };
      if (['=', '<>', '!=', '<', '<=', '>', '>='].includes(op)) {
        // A string literal takes the other side's type, as Postgres resolves an unknown literal.
        const c = compare(asTypeOf(l, r, ctx, e.lexpr), asTypeOf(r, l, ctx, e.rexpr));
        const b = op === '=' ? c === 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c !== 0;
        return { t: 'bool', v: b };
      }
      if (op === '||') return { t: 'string', v: text(l) + text(r) };
      if (op === '~' || op === '~*' || op === '!~' || op === '!~*') {
        const hit = posixRegExp(text(r), op.includes('*'), ctx, e.rexpr).test(text(l));
        return { t: 'bool', v: op.startsWith('!') ? !hit : hit };
      }
      if (l.t === 'number' && r.t === 'number') {
        if (op === '/' && r.v === 0) throw new SqlError('22012', 'division by zero');
        const v = op === '+' ? l.v + r.v : op === '-' ? l.v - r.v : op === '*' ? l.v * r.v : op === '/' ? l.v / r.v : op === '%' ? l.v % r.v : Number.NaN;
        if (Number.isNaN(v)) throw ctx.at.unsupported(`operator ${op} is not supported here`, node);
        return { t: 'number', v };
      }
      // Time arithmetic (date + interval, ...): the constant evaluator's rules.
      return evalValue({ A_Expr: { ...e, lexpr: constNode(l), rexpr: constNode(r) } }, ctx);
    }
    case 'CaseExpr': {
      const c = node.CaseExpr;
      const subject = c.arg ? ev(c.arg) : undefined;
      for (const w of c.args ?? []) {
        const when = w.CaseWhen;
        const cond = ev(when.expr);
        const hit = subject
          ? subject.t !== 'null' && cond.t !== 'null' && compare(subject, asTypeOf(cond, subject, ctx, when.expr)) === 0
          : cond.t === 'bool' && cond.v;
        if (hit) return ev(when.result);
      }
      return c.defresult ? ev(c.defresult) : { t: 'null' };
    }
    case 'NullTest': {
      const v = ev(node.NullTest.arg);
      return { t: 'bool', v: (v.t === 'null') === (node.NullTest.nulltesttype === 'IS_NULL') };
    }
    case 'BoolExpr': {
      const b = node.BoolExpr;
      const vals = (b.args as Node[]).map(ev);
      if (b.boolop === 'NOT_EXPR') return vals[0].t === 'bool' ? { t: 'bool', v: !vals[0].v } : { t: 'null' };
      const and = b.boolop === 'AND_EXPR';
      if (vals.some((v) => v.t === 'bool' && v.v === !and)) return { t: 'bool', v: !and };
      return vals.some((v) => v.t === 'null') ? { t: 'null' } : { t: 'bool', v: and };
    }
    case 'TypeCast': {
      const type = plainName(node.TypeCast.typeName.names).replace(/^pg_catalog\./, '');
      const v = ev(node.TypeCast.arg);
      if (v.t === 'null') return v;
      const oid = castOid(type);
      if (oid === OID.int8 || type === 'int4' || type === 'integer' || type === 'int2' || type === 'smallint') {
        const n = num(v, ctx, node);
        return n === null ? { t: 'null' } : { t: 'number', v: Math.sign(n) * Math.round(Math.abs(n)) };
      }
      if (oid === OID.numeric) return { t: 'number', v: num(v, ctx, node) ?? 0 };
      if (oid === OID.date) {
        const ts = toTs(v, ctx, node);
        return ts.t === 'timestamp' ? { t: 'timestamp', v: ts.v.startOf('day'), date: true } : ts;
      }
      if (oid === OID.timestamp) {
        const ts = toTs(v, ctx, node);
        return ts.t === 'timestamp' ? { ...ts, date: false } : ts;
      }
      if (oid === OID.text) return { t: 'string', v: text(v) };
      return evalValue({ TypeCast: { ...node.TypeCast, arg: constNode(v) } }, ctx);
    }
    default:
      return evalValue(node, ctx);
  }
}

export const AGGREGATE_FUNCTIONS = new Set(['sum', 'count', 'avg', 'min', 'max', 'measure']);

/** Functions `evalRow` evaluates; anything else is refused when the statement is translated. */
export const ROW_FUNCTIONS = new Set([
  'extract',
  'date_part',
  'date_trunc',
  'floor',
  'ceil',
  'ceiling',
  'abs',
  'round',
  'trunc',
  'coalesce',
  'nullif',
  'to_char',
]);

/** The first function call an expression uses that evalRow does not evaluate (window calls included). */
export function unsupportedCall(node: Node): Node | undefined {
  let found: Node | undefined;
  const visit = (n: unknown): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Node;
    if ('SubLink' in o || 'SelectStmt' in o) {
      found = o;
      return;
    }
    if ('FuncCall' in o) {
      const fn = plainName(o.FuncCall.funcname).replace(/^pg_catalog\./, '');
      // FILTER is taken by SUM/COUNT over dimensions only (select/conditional.ts decides, or refuses).
      const filterOk = !o.FuncCall.agg_filter || fn === 'sum' || fn === 'count';
      if (o.FuncCall.over || !filterOk || !(AGGREGATE_FUNCTIONS.has(fn) || ROW_FUNCTIONS.has(fn) || STRING_FUNCTIONS.has(fn))) {
        found = o;
        return;
      }
    }
    for (const v of Object.values(o)) visit(v);
  };
  visit(node);
  return found;
}

/** Cell <-> Value for a column of the semantic result. */
export function cellValue(cell: CellValue | undefined, isTime: boolean, ctx: ValueContext): Value {
  if (cell === null || cell === undefined) return { t: 'null' };
  if (isTime && typeof cell === 'string') return { t: 'timestamp', v: DateTime.fromISO(cell, { zone: ctx.timezone }), date: false };
  if (typeof cell === 'number') return { t: 'number', v: cell };
  if (typeof cell === 'boolean') return { t: 'bool', v: cell };
  if (typeof cell === 'string' && /^-?\d+(\.\d+)?$/.test(cell) && !isTime) return { t: 'string', v: cell };
  return { t: 'string', v: String(cell) };
}

export function valueCell(v: Value): Cell {
  switch (v.t) {
    case 'null':
    case 'unknown':
    case 'interval':
      return null;
    case 'timestamp':
      return localText(v.v);
    default:
      return v.v;
  }
}

/** The output type of a value (for RowDescription), given a sample of its kind. */
export function valueOid(v: Value | undefined, fallback: number): number {
  if (!v) return fallback;
  switch (v.t) {
    case 'number':
      return Number.isInteger(v.v) ? OID.int8 : OID.numeric;
    case 'timestamp':
      return v.date ? OID.date : OID.timestamp;
    case 'bool':
      return OID.bool;
    case 'string':
      return OID.text;
    default:
      return fallback;
  }
}

/** Postgres ordering: NULLs last ascending (first descending), numbers and times by value, text by code point. */
export function compare(a: Value, b: Value): number {
  if (a.t === 'null' || b.t === 'null') return a.t === b.t ? 0 : a.t === 'null' ? 1 : -1;
  const av = a.t === 'timestamp' ? a.v.toMillis() : a.t === 'number' || a.t === 'bool' ? Number(a.v) : a.t === 'string' ? a.v : 0;
  const bv = b.t === 'timestamp' ? b.v.toMillis() : b.t === 'number' || b.t === 'bool' ? Number(b.v) : b.t === 'string' ? b.v : 0;
  if (typeof av === 'string' && typeof bv === 'number') return Number(av) - bv;
  if (typeof av === 'number' && typeof bv === 'string') return av - Number(bv);
  return av < bv ? -1 : av > bv ? 1 : 0;
}

/** Combines the values of one measure across merged rows. */
export function merge(how: Merge, a: CellValue, b: CellValue): CellValue {
  if (a === null || a === undefined) return b;
  if (b === null || b === undefined) return a;
  const x = Number(a);
  const y = Number(b);
  return how === 'sum' ? x + y : how === 'min' ? Math.min(x, y) : Math.max(x, y);
}

/** `v` as `other`'s type when `v` is a string and `other` a time or a boolean (unknown literal resolution). */
function asTypeOf(v: Value, other: Value, ctx: ValueContext, node: Node): Value {
  if (v.t !== 'string') return v;
  if (other.t === 'timestamp') return toTs(v, ctx, node);
  if (other.t === 'bool') {
    const s = v.v.trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', 'on', '1'].includes(s)) return { t: 'bool', v: true };
    if (['f', 'false', 'n', 'no', 'off', '0'].includes(s)) return { t: 'bool', v: false };
    throw new SqlError(SQLSTATE.INVALID_TEXT, `invalid input syntax for type boolean: "${v.v}"`);
  }
  return v;
}

function toTs(v: Value, ctx: ValueContext, node: Node): Value {
  if (v.t === 'string') return parseTimestamp(v.v, ctx, node);
  return v;
}

function num(v: Value, ctx: ValueContext, node: Node): number | null {
  if (v.t === 'null') return null;
  if (v.t === 'number') return v.v;
  if (v.t === 'bool') return v.v ? 1 : 0;
  if (v.t === 'string' && v.v.trim() !== '' && Number.isFinite(Number(v.v))) return Number(v.v);
  throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, `a number was expected, not a ${v.t}`, node);
}

function text(v: Value): string {
  if (v.t === 'timestamp') return v.date ? v.v.toFormat('yyyy-LL-dd') : v.v.toFormat('yyyy-LL-dd HH:mm:ss');
  if (v.t === 'number' || v.t === 'string') return String(v.v);
  if (v.t === 'bool') return v.v ? 'true' : 'false';
  return '';
}

function constNode(v: Value): Node {
  switch (v.t) {
    case 'number':
      return Number.isInteger(v.v) ? { A_Const: { ival: { ival: v.v } } } : { A_Const: { fval: { fval: String(v.v) } } };
    case 'string':
      return { A_Const: { sval: { sval: v.v } } };
    case 'bool':
      return { A_Const: { boolval: { boolval: v.v } } };
    case 'timestamp':
      return { TypeCast: { arg: { A_Const: { sval: { sval: localText(v.v) } } }, typeName: { names: [{ String: { sval: v.date ? 'date' : 'timestamp' } }] } } };
    case 'interval':
      return {
        TypeCast: {
          arg: { A_Const: { sval: { sval: `${v.months} months ${v.days} days ${v.ms} milliseconds` } } },
          typeName: { names: [{ String: { sval: 'interval' } }] },
        },
      };
    default:
      return { A_Const: { isnull: true } };
  }
}

/** extract/date_part fields; epoch is "nominal" seconds (the local wall time read as UTC), as for timestamp without time zone. */
function datePart(part: string, d: DateTime, ctx: ValueContext, node: Node): number {
  if (EPOCH_PARTS.has(part)) return DateTime.fromObject(d.toObject(), { zone: 'UTC' }).toMillis() / 1000;
  switch (part) {
    case 'year':
      return d.year;
    case 'quarter':
      return d.quarter;
    case 'month':
      return d.month;
    case 'week':
      return d.weekNumber;
    case 'day':
      return d.day;
    case 'dow':
      return d.weekday % 7;
    case 'isodow':
      return d.weekday;
    case 'doy':
      return d.ordinal;
    case 'hour':
      return d.hour;
    case 'minute':
      return d.minute;
    case 'second':
      return d.second + d.millisecond / 1000;
    default:
      throw ctx.at.unsupported(`date part "${part}" is not supported`, node);
  }
}

const TO_CHAR: readonly [string, string][] = [
  ['YYYY', 'yyyy'],
  ['MM', 'LL'],
  ['DD', 'dd'],
  ['HH24', 'HH'],
  ['HH12', 'hh'],
  ['MI', 'mm'],
  ['SS', 'ss'],
  ['Month', 'LLLL'],
  ['Mon', 'LLL'],
  ['Day', 'cccc'],
  ['Dy', 'ccc'],
  ['IW', 'WW'],
  ['Q', 'q'],
];

/** to_char for the date patterns BI tools use ('YYYY-MM', 'YYYY-MM-DD HH24:MI', 'Mon YYYY'...). */
function toChar(d: DateTime, format: string): string {
  let out = '';
  let i = 0;
  outer: while (i < format.length) {
    for (const [pg, lx] of TO_CHAR) {
      if (format.startsWith(pg, i)) {
        out += d.toFormat(lx);
        i += pg.length;
        continue outer;
      }
    }
    out += format[i++];
  }
  return out;
}

/** Keys of the semantic row an expression reads, for its column references. */
export function columnRefs(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: unknown, inAggregate: boolean): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, inAggregate);
      return;
    }
    const o = n as Node;
    if ('ColumnRef' in o && !inAggregate) {
      if (strings(o.ColumnRef.fields).at(-1) !== '*') out.push(o);
      return;
    }
    if ('FuncCall' in o && AGGREGATE_FUNCTIONS.has(plainName(o.FuncCall.funcname))) return;
    for (const v of Object.values(o)) visit(v, inAggregate);
  };
  visit(node, false);
  return out;
}

/** Aggregate calls of an expression (not nested in one another). */
export function aggregateCalls(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const o = n as Node;
    if ('SelectStmt' in o) return;
    if ('FuncCall' in o && AGGREGATE_FUNCTIONS.has(plainName(o.FuncCall.funcname)) && !o.FuncCall.over) {
      out.push(o);
      return;
    }
    for (const v of Object.values(o)) visit(v);
  };
  visit(node);
  return out;
}

/** A stable key for an expression (ignores locations), so GROUP BY/ORDER BY repeats of a select expression match. */
export function exprKey(node: Node): string {
  return `x:${JSON.stringify(node, (k, v) => (k === 'location' ? undefined : v))}`;
}

/**
 * A Postgres (POSIX ARE) pattern as a JavaScript one. The common subset reads the same; the
 * constructs that do not (bracket classes like [[:alpha:]], \m \M \y word bounds, embedded options)
 * are refused rather than matched differently.
 */
function posixRegExp(pattern: string, insensitive: boolean, ctx: ValueContext, node: Node): RegExp {
  if (/\[\[:|\\[mMyYZA]|^\*\*\*|\(\?[a-z]/.test(pattern)) {
    throw ctx.at.unsupported('this regular expression uses Postgres-only syntax (POSIX classes, \\m/\\M/\\y, embedded options)', node);
  }
  try {
    return new RegExp(pattern, insensitive ? 'i' : '');
  } catch (e) {
    throw new SqlError('2201B', `invalid regular expression: ${(e as Error).message}`);
  }
}

/** A LIKE pattern as a regular expression (% any, _ one, backslash escapes). */
function likeRegExp(pattern: string, insensitive: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, insensitive ? 'i' : '');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
