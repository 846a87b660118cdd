/** Predicates in the making: a filter tree, a segment, or a constant truth value. */
import type { Filter, FilterOperator, MemberFilter } from '../../semantic/query.js';

export type Predicate =
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'filter'; readonly filter: Filter }
  | { readonly kind: 'segment'; readonly path: string; readonly location?: number }
  /** A conjunction holding segments: valid only at the top of WHERE/HAVING. */
  | { readonly kind: 'all'; readonly segments: readonly { path: string; location?: number }[]; readonly filters: readonly Filter[] };

export const TRUE: Predicate = { kind: 'const', value: true };
export const FALSE: Predicate = { kind: 'const', value: false };

export function filter(f: Filter): Predicate {
  return { kind: 'filter', filter: f };
}

export function member(path: string, operator: FilterOperator, values?: readonly (string | number | boolean | null)[]): Filter {
  return values === undefined ? { member: path, operator } : { member: path, operator, values };
}

const OPPOSITE: Partial<Record<FilterOperator, FilterOperator>> = {
  equals: 'notEquals',
  notEquals: 'equals',
  contains: 'notContains',
  notContains: 'contains',
  startsWith: 'notStartsWith',
  notStartsWith: 'startsWith',
  endsWith: 'notEndsWith',
  notEndsWith: 'endsWith',
  gt: 'lte',
  lte: 'gt',
  gte: 'lt',
  lt: 'gte',
  set: 'notSet',
  notSet: 'set',
  inDateRange: 'notInDateRange',
  notInDateRange: 'inDateRange',
  beforeDate: 'afterOrOnDate',
  afterOrOnDate: 'beforeDate',
  afterDate: 'beforeOrOnDate',
  beforeOrOnDate: 'afterDate',
};

export function isMemberFilter(f: Filter): f is MemberFilter {
  return 'member' in f;
}

/** NOT pushed down with De Morgan; undefined when an operator has no opposite. */
export function negateFilter(f: Filter): Filter | undefined {
  if (isMemberFilter(f)) {
    const op = OPPOSITE[f.operator];
    return op ? { ...f, operator: op } : undefined;
  }
  const parts = 'and' in f ? f.and : f.or;
  const negated: Filter[] = [];
  for (const p of parts) {
    const n = negateFilter(p);
    if (!n) return undefined;
    negated.push(n);
  }
  return 'and' in f ? { or: negated } : { and: negated };
}

/** Flattens nested ANDs into a list (the SemanticQuery's top-level filters are ANDed). */
export function conjuncts(f: Filter): Filter[] {
  return 'and' in f ? f.and.flatMap(conjuncts) : [f];
}

/** Cube's negated operators also match NULL (`notEquals` is `x != v OR x IS NULL`); SQL's never do. */
const NULL_INCLUSIVE = new Set<FilterOperator>(['notEquals', 'notContains', 'notStartsWith', 'notEndsWith']);

/**
 * Postgres semantics for the finished filter tree (negations already pushed down to members): a
 * negated comparison is true only for a present value, so each of Cube's NULL-inclusive operators is
 * narrowed with `set`. `x <> 'a'`, `NOT (x = 'a')`, `x NOT IN (…)`, `x NOT LIKE …` then skip NULL rows.
 */
export function withSqlNulls(f: Filter): Filter {
  if (isMemberFilter(f)) return NULL_INCLUSIVE.has(f.operator) ? { and: [f, { member: f.member, operator: 'set' }] } : f;
  return 'and' in f ? { and: f.and.map(withSqlNulls) } : { or: f.or.map(withSqlNulls) };
}
