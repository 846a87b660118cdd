/**
 * Arguments of a typed root field -> parts of a SemanticQuery. Only member paths found in the
 * generated input types reach the query; values travel as filter values (never SQL).
 */
import { UserError } from '../errors.js';
import type { DateRange, Filter, FilterOperator, FilterValue, MemberFilter, OrderDirection } from '../semantic/query.js';
import type { ExposedMember } from './members.js';
import type { AnyFilterInput } from './shared-types.js';

export type WhereInput = { AND?: WhereInput[] | null; OR?: WhereInput[] | null } & Record<string, unknown>;

/** GraphQL filter field -> Cube operator. `in`/`notIn` are Cube's multi-value equals/notEquals. */
const OPERATORS: Readonly<Record<string, FilterOperator>> = {
  equals: 'equals',
  notEquals: 'notEquals',
  in: 'equals',
  notIn: 'notEquals',
  contains: 'contains',
  notContains: 'notContains',
  startsWith: 'startsWith',
  notStartsWith: 'notStartsWith',
  endsWith: 'endsWith',
  notEndsWith: 'notEndsWith',
  gt: 'gt',
  gte: 'gte',
  lt: 'lt',
  lte: 'lte',
  inDateRange: 'inDateRange',
  notInDateRange: 'notInDateRange',
  beforeDate: 'beforeDate',
  beforeOrOnDate: 'beforeOrOnDate',
  afterDate: 'afterDate',
  afterOrOnDate: 'afterOrOnDate',
};

export interface TranslatedWhere {
  readonly filters: Filter[];
  /**
   * inDateRange conditions that hold for every row (not under OR): they become the time
   * dimension's dateRange, where Cube accepts relative phrases ("last 7 days").
   */
  readonly dateRanges: Map<string, DateRange>;
}

export function translateWhere(where: WhereInput | null | undefined, fields: ReadonlyMap<string, ExposedMember>): TranslatedWhere {
  const dateRanges = new Map<string, DateRange>();
  const filters = where ? conjunction(where, fields, dateRanges) : [];
  return { filters, dateRanges };
}

/** The conditions of one where object, ANDed. `hoist` is set only where every row must match. */
function conjunction(where: WhereInput, fields: ReadonlyMap<string, ExposedMember>, hoist: Map<string, DateRange> | undefined): Filter[] {
  const out: Filter[] = [];
  for (const [key, value] of Object.entries(where)) {
    if (value === null || value === undefined) continue;
    if (key === 'AND') {
      for (const w of value as WhereInput[]) out.push(...conjunction(w, fields, hoist));
    } else if (key === 'OR') {
      const branches = (value as WhereInput[]).map((w) => both(conjunction(w, fields, undefined)));
      if (branches.length === 0) throw new UserError('BAD_USER_INPUT', 'OR needs at least one condition');
      if (branches.some((b) => b === undefined)) continue; // an empty branch matches every row
      out.push(branches.length === 1 ? (branches[0] as Filter) : { or: branches as Filter[] });
    } else {
      const member = fields.get(key);
      if (!member) throw new UserError('BAD_USER_INPUT', `unknown where field "${key}"`);
      out.push(...memberConditions(member, value as AnyFilterInput, hoist));
    }
  }
  return out;
}

function both(filters: Filter[]): Filter | undefined {
  if (filters.length === 0) return undefined;
  return filters.length === 1 ? filters[0] : { and: filters };
}

function memberConditions(member: ExposedMember, input: AnyFilterInput, hoist: Map<string, DateRange> | undefined): MemberFilter[] {
  const out: MemberFilter[] = [];
  for (const [op, raw] of Object.entries(input)) {
    if (raw === null || raw === undefined) continue;
    if (op === 'set') {
      out.push({ member: member.path, operator: raw ? 'set' : 'notSet' });
      continue;
    }
    const operator = OPERATORS[op];
    if (!operator) throw new UserError('BAD_USER_INPUT', `unknown filter operator "${op}"`, { member: member.path });
    const values = (Array.isArray(raw) ? raw : [raw]) as FilterValue[];
    if (values.length === 0) throw new UserError('BAD_USER_INPUT', `${op} on "${member.path}" needs at least one value`, { member: member.path });
    if (op === 'inDateRange' || op === 'notInDateRange') {
      if (values.length > 2) {
        throw new UserError('BAD_USER_INPUT', `${op} on "${member.path}" takes [from, to] or one relative phrase, got ${values.length} values`, {
          member: member.path,
        });
      }
      const range: DateRange = values.length === 1 ? String(values[0]) : [String(values[0]), String(values[1])];
      if (op === 'inDateRange' && hoist && !hoist.has(member.path)) {
        hoist.set(member.path, range);
        continue;
      }
    }
    out.push({ member: member.path, operator, values });
  }
  return out;
}

export type OrderByInput = Record<string, OrderDirection | null | undefined>;

/** A list keeps the caller's order (an input object's keys arrive in type order, not query order). */
export function translateOrderBy(orderBy: readonly OrderByInput[] | null | undefined, fields: ReadonlyMap<string, ExposedMember>): [string, OrderDirection][] {
  const out: [string, OrderDirection][] = [];
  for (const item of orderBy ?? []) {
    for (const [key, dir] of Object.entries(item)) {
      if (!dir) continue;
      const member = fields.get(key);
      if (!member) throw new UserError('BAD_USER_INPUT', `unknown orderBy field "${key}"`);
      out.push([member.path, dir]);
    }
  }
  return out;
}

export function checkPaging(limit: number | null | undefined, offset: number | null | undefined, maxRowLimit: number): void {
  if (limit != null && limit < 0) throw new UserError('BAD_USER_INPUT', `limit must be >= 0, got ${limit}`);
  if (limit != null && limit > maxRowLimit) {
    throw new UserError('BAD_USER_INPUT', `limit ${limit} exceeds the maximum of ${maxRowLimit} rows; page with offset`, { limit, maxRowLimit });
  }
  if (offset != null && offset < 0) throw new UserError('BAD_USER_INPUT', `offset must be >= 0, got ${offset}`);
}
