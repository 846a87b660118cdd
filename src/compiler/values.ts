/**
 * Filter operators: how many values each takes, which member types it accepts, and how its
 * values are checked and put in canonical form. Shared by normalization (which reports errors)
 * and the planner (which re-checks what it binds as parameters).
 */
import { UserError } from '../errors.js';
import type { Dimension, Measure } from '../semantic/model.js';
import type { FilterOperator, FilterValue } from '../semantic/query.js';
import { isLocalDateTime, parseDatePoint, resolveDateRange, toLocal } from './dates.js';

export type ValueType = 'string' | 'number' | 'time' | 'boolean';

interface OperatorSpec {
  /** none: no values; one: exactly one; many: at least one; range: a date range (2 dates or 1 relative text). */
  readonly arity: 'none' | 'one' | 'many' | 'range';
  /** Member types the operator applies to (all when absent). */
  readonly types?: readonly ValueType[];
  /** For date values given as a bare day: which end of the day it means. */
  readonly dayEdge?: 'start' | 'end';
}

export const OPERATOR_SPECS: Readonly<Record<FilterOperator, OperatorSpec>> = {
  equals: { arity: 'many' },
  notEquals: { arity: 'many' },
  contains: { arity: 'many', types: ['string'] },
  notContains: { arity: 'many', types: ['string'] },
  startsWith: { arity: 'many', types: ['string'] },
  notStartsWith: { arity: 'many', types: ['string'] },
  endsWith: { arity: 'many', types: ['string'] },
  notEndsWith: { arity: 'many', types: ['string'] },
  gt: { arity: 'one', types: ['number', 'time'], dayEdge: 'start' },
  gte: { arity: 'one', types: ['number', 'time'], dayEdge: 'start' },
  lt: { arity: 'one', types: ['number', 'time'], dayEdge: 'start' },
  lte: { arity: 'one', types: ['number', 'time'], dayEdge: 'start' },
  set: { arity: 'none' },
  notSet: { arity: 'none' },
  inDateRange: { arity: 'range', types: ['time'] },
  notInDateRange: { arity: 'range', types: ['time'] },
  beforeDate: { arity: 'one', types: ['time'], dayEdge: 'start' },
  beforeOrOnDate: { arity: 'one', types: ['time'], dayEdge: 'end' },
  afterDate: { arity: 'one', types: ['time'], dayEdge: 'end' },
  afterOrOnDate: { arity: 'one', types: ['time'], dayEdge: 'start' },
  measureFilter: { arity: 'none' },
};

export function valueTypeOf(member: Measure | Dimension): ValueType {
  if (member.kind === 'dimension') return member.type;
  if (member.type === 'string' || member.type === 'time' || member.type === 'boolean') return member.type;
  return 'number';
}

function bad(message: string, member: string): UserError {
  return new UserError('BAD_USER_INPUT', message, { member });
}

/**
 * Check a filter's values against its operator and member; return them in canonical form.
 * With `clock` (normalization) dates may be relative and are resolved; without it (the planner)
 * they must already be normalized local date-times.
 */
export function normalizeFilterValues(
  memberPath: string,
  member: Measure | Dimension,
  operator: FilterOperator,
  values: readonly unknown[],
  clock?: { tz: string; now: Date },
): FilterValue[] {
  const spec = OPERATOR_SPECS[operator];
  const type = valueTypeOf(member);
  if (operator === 'measureFilter' && member.kind !== 'measure') {
    throw bad(`operator "measureFilter" needs a measure; "${memberPath}" is a dimension`, memberPath);
  }
  if (spec.types && !spec.types.includes(type)) {
    throw bad(`operator "${operator}" does not apply to "${memberPath}" of type ${type} (expects ${spec.types.join(' or ')})`, memberPath);
  }
  const count = values.length;
  const arityError = (expected: string) =>
    bad(`operator "${operator}" on "${memberPath}" expects ${expected}, got ${count} value${count === 1 ? '' : 's'}`, memberPath);
  switch (spec.arity) {
    case 'none':
      if (count !== 0) throw arityError('no values');
      return [];
    case 'one':
      if (count !== 1) throw arityError('exactly 1 value');
      break;
    case 'many':
      if (count < 1) throw arityError('at least 1 value');
      break;
    case 'range': {
      if (clock && count === 1 && typeof values[0] === 'string') return resolveDateRange(values[0], clock.tz, clock.now);
      if (count !== 2) throw arityError('2 dates (or 1 relative range such as "last 7 days")');
      if (!clock) return values.map((v) => coerceValue(memberPath, 'time', v));
      return resolveDateRange([values[0], values[1]], clock.tz, clock.now);
    }
  }
  return values.map((v) => coerceValue(memberPath, type, v, clock && { ...clock, edge: spec.dayEdge ?? 'start' }));
}

/**
 * One value in the member's type. With a clock (normalization), dates are parsed in the query
 * zone; without one (the planner), they must already be normalized local date-times.
 */
export function coerceValue(
  memberPath: string,
  type: ValueType,
  value: unknown,
  dates?: { tz: string; now: Date; edge: 'start' | 'end' },
): string | number | boolean {
  const describe = () => (typeof value === 'string' ? `"${value}"` : shown(value));
  if (value === null || value === undefined) {
    throw bad(`filter values for "${memberPath}" must not be null (use the set / notSet operators)`, memberPath);
  }
  switch (type) {
    case 'string':
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
      break;
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : NaN;
      if (Number.isFinite(n)) return n;
      throw bad(`invalid number ${describe()} for "${memberPath}"`, memberPath);
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 1) return true;
      if (value === 'false' || value === '0' || value === 0) return false;
      throw bad(`invalid boolean ${describe()} for "${memberPath}" (use true or false)`, memberPath);
    case 'time':
      if (typeof value === 'string') {
        if (dates) return toLocal(parseDatePoint(value, dates.tz, dates.now, dates.edge));
        if (isLocalDateTime(value)) return value;
      }
      throw bad(`invalid date ${describe()} for "${memberPath}"`, memberPath);
  }
  throw bad(`invalid value ${describe()} for "${memberPath}" of type ${type}`, memberPath);
}

/** Escape LIKE wildcards so a user's text matches literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Text for an error message about any user value; never throws (objects may have a hostile toString). */
export function shown(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
}
