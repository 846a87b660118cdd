/**
 * Filters -> boolean expressions. Values become typed parameters here and nowhere else;
 * member expressions come from the caller (row-level for WHERE, aggregates for HAVING).
 */
import { invariant } from '../errors.js';
import type { Dimension, Measure, Model } from '../semantic/model.js';
import type { FilterValue, NormalizedFilter } from '../semantic/query.js';
import { resolveFilterMember } from './members.js';
import { atOrBefore, timeBound } from './time-bounds.js';
import { TRUE, and, binary, ilike, inList, isNull, not, or, type Expr, type ParamBag, type ParamType } from './plan-tree.js';
import { coerceValue, escapeLike, normalizeFilterValues, valueTypeOf, type ValueType } from './values.js';

export interface FilterContext {
  readonly model: Model;
  readonly params: ParamBag;
  /** The query time zone as an expression ({tz:String}). */
  readonly tz: Expr;
  /** The expression a filter on this member compares. */
  memberExpr(member: Measure | Dimension, path: string): Expr;
  /** The measure's own filters (operator measureFilter). */
  measureFilters(member: Measure): Expr | undefined;
}

const PARAM_TYPE: Readonly<Record<Exclude<ValueType, 'time'>, ParamType>> = { string: 'String', number: 'Float64', boolean: 'Bool' };

/** A user value as a parameter of the member's type; times are local to the query zone. */
export function valueParam(ctx: Pick<FilterContext, 'params' | 'tz'>, path: string, type: ValueType, value: FilterValue): Expr {
  const v = coerceValue(path, type, value);
  if (type === 'time') return timeBound(ctx.params, ctx.tz, v as string);
  return ctx.params.add(v, PARAM_TYPE[type]);
}

/** LIKE pattern around the escaped value, and whether the operator negates it. */
const LIKE = {
  contains: ['%', '%', false],
  startsWith: ['', '%', false],
  endsWith: ['%', '', false],
  notContains: ['%', '%', true],
  notStartsWith: ['', '%', true],
  notEndsWith: ['%', '', true],
} as const;

export function filterExpr(f: NormalizedFilter, ctx: FilterContext): Expr {
  if (f.kind === 'and') return and(...f.filters.map((x) => filterExpr(x, ctx))) ?? TRUE;
  if (f.kind === 'or') return or(...f.filters.map((x) => filterExpr(x, ctx))) ?? TRUE;
  const { member, path } = resolveFilterMember(ctx.model, f.member);
  const type = valueTypeOf(member);
  // Re-checked here too: the compiler does not trust that its input was normalized.
  const values = normalizeFilterValues(path, member, f.operator, f.values ?? []);
  if (f.operator === 'measureFilter') {
    invariant(member.kind === 'measure', 'measureFilter applies to measures');
    return ctx.measureFilters(member) ?? TRUE;
  }
  const x = ctx.memberExpr(member, path);
  const val = (v: FilterValue) => valueParam(ctx, path, type, v);
  const pattern = (v: FilterValue, before: string, after: string) =>
    ctx.params.add(`${before}${escapeLike(String(coerceValue(path, 'string', v)))}${after}`, 'String');
  const orNull = (e: Expr) => or(e, isNull(x))!;
  switch (f.operator) {
    case 'equals':
      return values.length === 1 ? binary('=', x, val(values[0])) : inList(x, values.map(val));
    case 'notEquals':
      return orNull(values.length === 1 ? binary('!=', x, val(values[0])) : inList(x, values.map(val), true));
    case 'contains':
    case 'startsWith':
    case 'endsWith':
    case 'notContains':
    case 'notStartsWith':
    case 'notEndsWith': {
      const [before, after, negated] = LIKE[f.operator];
      const matches = values.map((v) => ilike(x, pattern(v, before, after), negated));
      // Positive: any value matches. Negative: no value matches, or the member is NULL (Cube).
      return negated ? orNull(and(...matches)!) : or(...matches)!;
    }
    case 'gt':
    case 'afterDate':
      return binary('>', x, val(values[0]));
    case 'gte':
    case 'afterOrOnDate':
      return binary('>=', x, val(values[0]));
    case 'lt':
    case 'beforeDate':
      return binary('<', x, val(values[0]));
    case 'lte':
    case 'beforeOrOnDate':
      return type === 'time' ? atOrBefore(ctx.params, ctx.tz, x, coerceValue(path, 'time', values[0]) as string) : binary('<=', x, val(values[0]));
    case 'set':
      return isNull(x, true);
    case 'notSet':
      return isNull(x);
    case 'inDateRange':
    case 'notInDateRange': {
      invariant(values.length === 2, 'date ranges are normalized to two bounds');
      const from = val(values[0]);
      const end = atOrBefore(ctx.params, ctx.tz, x, coerceValue(path, 'time', values[1]) as string);
      return f.operator === 'inDateRange' ? and(binary('>=', x, from), end)! : or(binary('<', x, from), not(end))!;
    }
  }
}
