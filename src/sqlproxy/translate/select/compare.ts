/**
 * The value side of a condition: a target column compared with constants/parameters (typed for
 * the column, so parameters learn their type here), IN lists and arrays, BETWEEN, LIKE patterns.
 */
import { DateTime } from 'luxon';
import { OID } from '../../pg-types.js';
import { SQLSTATE } from '../../sql-error.js';
import { FALSE, filter, member, type Predicate, TRUE } from '../filters.js';
import { evalValue, localText, toBool, toNumber, toText, toTimestamp, type Value } from '../values.js';
import { derive } from './post-plan.js';
import { type Ctx, nodeAs, type PgNode, type Target } from './state.js';
import { timeBetween, timeOp } from './time-idioms.js';
import { booleanIs, negate, or } from './where.js';

/** The elements of ARRAY[...], ARRAY[...]::type, or a '{a,b}' literal (also as a bound parameter). */
export function arrayItems(ctx: Ctx, node: PgNode): PgNode[] {
  const array = nodeAs(node, 'A_ArrayExpr');
  if (array) return array.elements ?? [];
  const cast = nodeAs(node, 'TypeCast');
  const castArray = nodeAs(cast?.arg, 'A_ArrayExpr');
  if (castArray) return castArray.elements ?? [];
  // '{a,b}' or $1 bound to an array literal.
  const v = evalValue(cast ? cast.arg! : node, ctx.vctx);
  if (v.t === 'unknown') return [];
  if (v.t === 'string' && /^\{.*\}$/s.test(v.v)) {
    return parseArrayLiteral(v.v).map((s) => (s === null ? { A_Const: { isnull: true } } : { A_Const: { sval: { sval: s } } }));
  }
  throw ctx.at.unsupported('ANY() needs an ARRAY[...] or an array literal', node);
}

/** A condition without a column (e.g. `1 = 1` from a BI tool): decided here. */
export function constComparison(ctx: Ctx, op: string, l: PgNode, r: PgNode, node: PgNode): Predicate {
  const a = evalValue(l, ctx.vctx);
  const b = evalValue(r, ctx.vctx);
  if (a.t === 'unknown' || b.t === 'unknown') throw ctx.at.unsupported('a condition must involve a column', node);
  if (a.t === 'null' || b.t === 'null') return FALSE;
  const av = comparable(a);
  const bv = comparable(b.t === 'string' && a.t === 'number' ? toNumber(b, ctx.vctx, r) : a.t === 'string' && b.t === 'number' ? b : b);
  const an = a.t === 'string' && b.t === 'number' ? comparable(toNumber(a, ctx.vctx, l)) : av;
  const c = an < bv ? -1 : an > bv ? 1 : 0;
  const result = op === '=' ? c === 0 : op === '<>' || op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  return result ? TRUE : FALSE;
}

/** A value typed for the target column (parameters learn their type here). */
function value(ctx: Ctx, t: Target, node: PgNode): Value {
  const expect =
    t.type === 'time' ? OID.timestamp : t.type === 'number' ? (t.oid === OID.int8 ? OID.int8 : OID.numeric) : t.type === 'boolean' ? OID.bool : OID.text;
  const v = evalValue(node, ctx.vctx, t.epoch ? OID.float8 : expect);
  switch (t.type) {
    case 'time': {
      if (t.epoch) {
        const n = toNumber(v, ctx.vctx, node);
        // Nominal epoch of a timestamp without time zone: the wall time read as UTC.
        return n.t === 'number'
          ? { t: 'timestamp', v: DateTime.fromMillis(n.v * 1000, { zone: 'UTC' }).setZone(ctx.opts.timezone, { keepLocalTime: true }), date: false }
          : n;
      }
      return toTimestamp(v, ctx.vctx, node);
    }
    case 'number':
      return toNumber(v, ctx.vctx, node);
    case 'boolean':
      return toBool(v, ctx.vctx, node);
    default:
      if (v.t === 'timestamp' || v.t === 'interval') throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, 'cannot compare a text column with a time value', node);
      return toText(v);
  }
}

/** target op value(s); op is a comparison operator, or 'in'/'notin' for lists. */
export function compare(ctx: Ctx, t: Target, op: string, valueNodes: PgNode[], node: PgNode): Predicate {
  if (t.kind === 'segment') {
    if (valueNodes.length !== 1 || !['=', '<>', '!='].includes(op)) throw ctx.at.unsupported('a segment column can only be tested with = true', node);
    const v = toBool(evalValue(valueNodes[0], ctx.vctx, OID.bool), ctx.vctx, valueNodes[0]);
    if (v.t === 'unknown') return TRUE;
    if (v.t !== 'bool') return FALSE;
    return booleanIs(ctx, t, op === '=' ? v.v : !v.v, node);
  }
  if (t.folded) throw ctx.at.unsupported('LOWER()/UPPER() is only supported with LIKE/ILIKE', node);
  if (t.type === 'time' && t.kind === 'dimension') return timeCompare(ctx, t, op, valueNodes, node);
  const values = valueNodes.map((n) => value(ctx, t, n));
  if (values.some((v) => v.t === 'unknown')) return filter(member(t.path, 'equals', []));
  const known = values.filter((v) => v.t !== 'null').map(plain);
  if (op === 'in' || op === 'notin') {
    if (!known.length) return op === 'in' ? FALSE : FALSE;
    return filter(member(t.path, op === 'in' ? 'equals' : 'notEquals', known));
  }
  if (!known.length) return FALSE; // col = NULL is never true
  if ((op === '<' || op === '<=' || op === '>' || op === '>=') && t.type !== 'number' && t.type !== 'time') {
    throw ctx.at.unsupported(`ordering comparisons (${op}) are only supported on numeric and time columns`, node);
  }
  const operator = ({ '=': 'equals', '<>': 'notEquals', '!=': 'notEquals', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const)[op as '='];
  return filter(member(t.path, operator, known));
}

function timeCompare(ctx: Ctx, t: Target, op: string, valueNodes: PgNode[], node: PgNode): Predicate {
  const values = valueNodes.map((n) => value(ctx, t, n));
  if (values.some((v) => v.t === 'unknown')) return filter(member(t.path, 'inDateRange', []));
  if (op === 'in' || op === 'notin') {
    const eq = values.map((v) => timeOp(t, '=', v));
    const any = or(ctx, eq, node);
    return op === 'in' ? any : negate(ctx, any, node);
  }
  return timeOp(t, op, values[0]);
}

export function between(ctx: Ctx, t: Target, loNode: PgNode, hiNode: PgNode, symmetric: boolean, node: PgNode): Predicate {
  if (t.kind === 'segment' || t.folded) throw ctx.at.unsupported('BETWEEN is not supported on this column', node);
  let lo = value(ctx, t, loNode);
  let hi = value(ctx, t, hiNode);
  if (lo.t === 'unknown' || hi.t === 'unknown') return filter(member(t.path, t.type === 'time' ? 'inDateRange' : 'gte', []));
  if (lo.t === 'null' || hi.t === 'null') return FALSE;
  if (symmetric && comparable(lo) > comparable(hi)) [lo, hi] = [hi, lo];
  if (t.type === 'time' && t.kind === 'dimension') {
    if (lo.t !== 'timestamp' || hi.t !== 'timestamp') return FALSE;
    return timeBetween(t, lo.v, hi.v);
  }
  if (t.type !== 'number') throw ctx.at.unsupported('BETWEEN is only supported on numeric and time columns', node);
  return filter({ and: [member(t.path, 'gte', [plain(lo)]), member(t.path, 'lte', [plain(hi)])] });
}

export function like(ctx: Ctx, t: Target, negated: boolean, patternNode: PgNode, node: PgNode, caseSensitive = false): Predicate {
  if (t.kind !== 'dimension' || t.type !== 'string') throw ctx.at.unsupported('LIKE is only supported on text dimensions', node);
  const v = evalValue(patternNode, ctx.vctx, OID.text);
  if (v.t === 'unknown') return filter(member(t.path, 'contains', []));
  if (v.t === 'null') return FALSE;
  if (v.t !== 'string') throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, 'LIKE pattern must be text', patternNode);
  const parsed = parseLike(v.v);
  if (!parsed && ctx.state && ctx.scopeForRowFilter) {
    // Any other pattern ('g%_ads', 'a_c'): checked over the loaded rows, nothing to push down.
    derive(ctx, node, ctx.scopeForRowFilter, ctx.state);
    ctx.rowFilters.push(node);
    return TRUE;
  }
  if (!parsed) {
    throw ctx.at.unsupported(
      "only LIKE patterns of the form 'x', '%x%', 'x%' and '%x' are supported",
      patternNode,
      "Matching is case-insensitive, as Cube's contains/startsWith/endsWith.",
    );
  }
  const op = parsed.kind;
  const f = member(t.path, op, [parsed.text]);
  if (caseSensitive && !t.folded && parsed.text.toLowerCase() !== parsed.text.toUpperCase()) {
    // Postgres LIKE is case-sensitive, Cube's startsWith/contains are not: the members' filter
    // narrows the rows, the exact test runs over them (finished rows, translate/post.ts).
    if (!ctx.state || !ctx.scopeForRowFilter) throw ctx.at.unsupported('case-sensitive LIKE is supported in the outer query only; use ILIKE', node);
    derive(ctx, node, ctx.scopeForRowFilter, ctx.state);
    ctx.rowFilters.push(node);
    return negated ? TRUE : filter(f);
  }
  return negated ? negate(ctx, filter(f), node) : filter(f);
}

function comparable(v: Value): number | string {
  switch (v.t) {
    case 'number':
      return v.v;
    case 'string':
      return v.v;
    case 'bool':
      return v.v ? 1 : 0;
    case 'timestamp':
      return v.v.toMillis();
    default:
      return 0;
  }
}

function plain(v: Value): string | number | boolean {
  switch (v.t) {
    case 'number':
    case 'string':
    case 'bool':
      return v.v;
    case 'timestamp':
      return localText(v.v);
    default:
      return '';
  }
}

/** '%x%' -> contains x; 'x%' -> startsWith; '%x' -> endsWith; 'x' -> equals. */
export function parseLike(pattern: string): { kind: 'contains' | 'startsWith' | 'endsWith' | 'equals'; text: string } | undefined {
  const chars: { c: string; wild: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      chars.push({ c: pattern[++i], wild: false });
    } else chars.push({ c, wild: c === '%' || c === '_' });
  }
  const lead = chars.length > 0 && chars[0].wild && chars[0].c === '%';
  const trail = chars.length > 1 && chars[chars.length - 1].wild && chars[chars.length - 1].c === '%';
  const body = chars.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (body.some((x) => x.wild)) return undefined;
  const text = body.map((x) => x.c).join('');
  if (lead && trail) return text ? { kind: 'contains', text } : undefined;
  if (lead) return { kind: 'endsWith', text };
  if (trail) return { kind: 'startsWith', text };
  return { kind: 'equals', text };
}

/** Postgres array literal text '{a,"b c",NULL}' -> elements. */
function parseArrayLiteral(s: string): (string | null)[] {
  const body = s.slice(1, -1);
  const out: (string | null)[] = [];
  let i = 0;
  while (i < body.length) {
    while (body[i] === ' ') i++;
    if (body[i] === '"') {
      let v = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        v += body[i++];
      }
      i++;
      out.push(v);
    } else {
      let j = body.indexOf(',', i);
      if (j < 0) j = body.length;
      const v = body.slice(i, j).trim();
      out.push(v.toUpperCase() === 'NULL' ? null : v);
      i = j;
    }
    while (i < body.length && body[i] !== ',') i++;
    i++;
  }
  return body.trim() === '' ? [] : out;
}
