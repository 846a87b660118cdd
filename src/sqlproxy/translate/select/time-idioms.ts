/**
 * Time idioms over a time column: date_trunc('unit', t), date(t), CAST(t AS date|timestamp), and
 * the exact ranges a comparison on a truncated column becomes (the raw column is what Cube filters).
 * Values themselves (NOW(), intervals, TO_TIMESTAMP, epochs) are evaluated in values.ts.
 */
import type { DateTime } from 'luxon';
import type { CatalogMember } from '../../../query/types.js';
import { GRANULARITIES, type Granularity } from '../../../semantic/query.js';
import { OID } from '../../pg-types.js';
import { SQLSTATE } from '../../sql-error.js';
import { plainName, strings } from '../ast.js';
import { FALSE, filter, member, type Predicate, TRUE } from '../filters.js';
import { castOid, evalValue, localText, truncUnit, type Value } from '../values.js';
import { resolve } from './scope.js';
import { type Ctx, mentionsColumn, nodeAs, type PgNode, type ScopeEntry, type Target } from './state.js';

export const GRANULARITY_RANK = new Map(GRANULARITIES.map((g, i) => [g, i]));

const LUXON_UNIT: Readonly<Record<Granularity, string>> = {
  second: 'seconds',
  minute: 'minutes',
  hour: 'hours',
  day: 'days',
  week: 'weeks',
  month: 'months',
  quarter: 'quarters',
  year: 'years',
};

/** Whether a column at grain `b` can be truncated to `a` (weeks only from a day or finer). */
export function coarserOrEqual(a: Granularity, b: Granularity): boolean {
  if (a === b) return true;
  if (a === 'week' || b === 'week') return a === 'week' && (GRANULARITY_RANK.get(b) ?? 9) <= (GRANULARITY_RANK.get('day') ?? 0);
  return (GRANULARITY_RANK.get(a) ?? 0) >= (GRANULARITY_RANK.get(b) ?? 0);
}

/** Coarser than a day: CAST(... AS date) keeps it, a finer grain becomes day. */
export function coarserThanDay(g: Granularity | undefined): boolean {
  return !!g && (GRANULARITY_RANK.get(g) ?? 0) > (GRANULARITY_RANK.get('day') ?? 0);
}

export type TimeTarget = { path: string; granularity: Granularity; member: CatalogMember };

/** date_trunc('unit', col) / date(col) / CAST(col AS date) over a time column. */
export function timeTarget(ctx: Ctx, node: PgNode, scope: ScopeEntry[]): TimeTarget | undefined {
  const fc = nodeAs(node, 'FuncCall');
  if (fc) {
    const fn = plainName(fc.funcname);
    const args = fc.args ?? [];
    if (fn === 'date_trunc') {
      if (args.length !== 2) throw ctx.at.error(SQLSTATE.UNDEFINED_FUNCTION, 'date_trunc() takes a unit and a time column', node);
      if (!mentionsColumn(args[1])) return undefined;
      const unitV = evalValue(args[0], ctx.vctx);
      if (unitV.t !== 'string') throw ctx.at.unsupported("date_trunc unit must be a string literal such as 'month'", args[0]);
      const unit = truncUnit(unitV.v, ctx.at, args[0]);
      const base = timeBase(ctx, args[1], scope);
      if (base.granularity && !coarserOrEqual(unit, base.granularity)) {
        throw ctx.at.unsupported(`cannot truncate a ${base.granularity} column to ${unit}`, node);
      }
      return { path: base.member.path, granularity: unit, member: base.member };
    }
    if (fn === 'date' && args.length === 1) {
      if (!mentionsColumn(args[0])) return undefined;
      const base = timeBase(ctx, args[0], scope);
      return {
        path: base.member.path,
        granularity: base.granularity && coarserOrEqual(base.granularity, 'day') && base.granularity !== 'week' ? base.granularity : 'day',
        member: base.member,
      };
    }
  }
  const cast = nodeAs(node, 'TypeCast');
  if (cast && castOid(plainName(cast.typeName!.names)) === OID.date && mentionsColumn(cast.arg)) {
    const base = timeBase(ctx, cast.arg!, scope);
    const g = coarserThanDay(base.granularity) ? base.granularity! : 'day';
    return { path: base.member.path, granularity: g, member: base.member };
  }
  return undefined;
}

/** The time column under truncations/casts, with any truncation already applied by a subquery. */
function timeBase(ctx: Ctx, node: PgNode, scope: ScopeEntry[]): { member: CatalogMember; granularity?: Granularity } {
  const cast = nodeAs(node, 'TypeCast');
  if (cast && castOid(plainName(cast.typeName!.names)) === OID.timestamp) return timeBase(ctx, cast.arg!, scope);
  if (cast || nodeAs(node, 'FuncCall')) {
    const t = timeTarget(ctx, node, scope);
    if (t) return { member: t.member, granularity: t.granularity };
  }
  const ref = nodeAs(node, 'ColumnRef');
  if (ref) {
    const raw = resolve(ctx, node, scope);
    if (raw.kind === 'column' && raw.member.type === 'time' && raw.member.kind === 'dimension') return { member: raw.member };
    if (raw.kind === 'time') return { member: raw.member, granularity: raw.granularity };
    throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, `column "${strings(ref.fields).at(-1)}" is not a time dimension`, node);
  }
  throw ctx.at.unsupported('expected a time column (optionally wrapped in date_trunc or CAST)', node);
}

/** The first instant at or after x on the grain (ceil), the start of the next period, and whether x is aligned. */
function bounds(g: Granularity | undefined, x: DateTime): { ceil: DateTime; next: DateTime; aligned: boolean } {
  if (!g) return { ceil: x, next: x.plus({ milliseconds: 1 }), aligned: true };
  const floor = x.startOf(g);
  const aligned = floor.toMillis() === x.toMillis();
  const next = floor.plus({ [LUXON_UNIT[g]]: 1 });
  return { ceil: aligned ? x : next, next, aligned };
}

/** trunc(col) op X, rewritten as a range on the raw column. */
export function timeOp(t: Target, op: string, v: Value): Predicate {
  if (v.t !== 'timestamp') return FALSE;
  const { ceil, next, aligned } = bounds(t.trunc, v.v);
  const raw = !t.trunc;
  switch (op) {
    case '>=':
      return filter(member(t.path, 'afterOrOnDate', [localText(ceil)]));
    case '>':
      return filter(raw ? member(t.path, 'afterDate', [localText(v.v)]) : member(t.path, 'afterOrOnDate', [localText(next)]));
    case '<':
      return filter(member(t.path, 'beforeDate', [localText(ceil)]));
    case '<=':
      return filter(raw ? member(t.path, 'beforeOrOnDate', [localText(v.v)]) : member(t.path, 'beforeDate', [localText(next)]));
    case '=':
      if (!aligned) return FALSE;
      return filter(member(t.path, 'inDateRange', [localText(v.v), localText(next.minus({ milliseconds: 1 }))]));
    default:
      if (!aligned) return TRUE;
      return filter(member(t.path, 'notInDateRange', [localText(v.v), localText(next.minus({ milliseconds: 1 }))]));
  }
}

/** trunc(col) BETWEEN lo AND hi: from the first whole period at lo to the end of hi's period. */
export function timeBetween(t: Target, lo: DateTime, hi: DateTime): Predicate {
  const start = bounds(t.trunc, lo).ceil;
  const end = t.trunc ? bounds(t.trunc, hi).next.minus({ milliseconds: 1 }) : hi;
  if (end < start) return FALSE;
  return filter(member(t.path, 'inDateRange', [localText(start), localText(end)]));
}
