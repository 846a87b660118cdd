/**
 * View-time parameters of a dashboard (a date range, member filters, a comparison) applied to each
 * widget's saved query. The saved dashboard never changes; each widget keeps its own filters. A
 * parameter a widget cannot take (a member its query cannot reach, no time dimension to range or
 * compare) is reported on that widget, never dropped silently.
 */
import type { Principal } from '../auth/principal.js';
import { checkComparison } from '../compiler/compare.js';
import { resolveDateRange } from '../compiler/dates.js';
import { UserError } from '../errors.js';
import type { Comparison, DateRange, Filter, SemanticQuery } from '../semantic/query.js';
import type { QueryService } from './types.js';

export interface DashboardView {
  readonly dateRange?: DateRange;
  readonly filters?: readonly Filter[];
  readonly compareTo?: Comparison;
  /** The time dimension dateRange applies to (a declared filter's binding); default the widget's first. */
  readonly dateDimension?: string;
}

/** A view parameter one widget did not take, and why. */
export interface SkippedParameter {
  /** "dateRange", "compareTo", or the filter's member. */
  readonly parameter: string;
  readonly reason: string;
}

export interface WidgetView {
  readonly query: SemanticQuery;
  readonly skipped: readonly SkippedParameter[];
}

/** What applying a view needs of the query service. */
export type ViewService = Pick<QueryService, 'compile'> & { prepare(principal: Principal, query: SemanticQuery): unknown };

/** Checks the view once (members, operators, values, scopes, the range) so a bad parameter is one coded error, not N skips. */
export function checkView(service: ViewService, principal: Principal, view: DashboardView | undefined, now: Date = new Date()): DashboardView | undefined {
  if (!view) return undefined;
  const filters = view.filters ?? [];
  if (!Array.isArray(filters)) throw new UserError('BAD_USER_INPUT', 'view filters must be an array');
  const compareTo = view.compareTo === undefined ? undefined : checkComparison(view.compareTo);
  // A query of nothing but the filters: normalizing and authorizing it checks every name, value and scope.
  if (filters.length > 0) service.prepare(principal, { filters });
  // Relative phrases resolve again when each widget runs; this only rejects bad or inverted ranges now.
  if (view.dateRange !== undefined) resolveDateRange(view.dateRange, 'UTC', now);
  return { ...(view.dateRange !== undefined ? { dateRange: view.dateRange } : {}), filters, ...(compareTo ? { compareTo } : {}) };
}

export function applyView(service: ViewService, principal: Principal, saved: SemanticQuery, view: DashboardView | undefined): WidgetView {
  if (!view) return { query: saved, skipped: [] };
  const skipped: SkippedParameter[] = [];
  let query: SemanticQuery = saved;
  const tds = saved.timeDimensions ?? [];
  if (view.dateRange !== undefined) {
    const at = view.dateDimension === undefined ? 0 : tds.findIndex((td) => td.dimension === view.dateDimension);
    if (view.dateDimension !== undefined && at < 0)
      query = { ...query, timeDimensions: [...tds, { dimension: view.dateDimension, dateRange: view.dateRange }] };
    else if (tds.length === 0) skipped.push({ parameter: 'dateRange', reason: 'the widget has no time dimension' });
    else query = { ...query, timeDimensions: tds.map((td, i) => (i === at ? { ...withoutCompare(td), dateRange: view.dateRange } : td)) };
  }
  for (const f of view.filters ?? []) {
    const candidate = { ...query, filters: [...(query.filters ?? []), f] };
    const why = cannotRun(service, principal, candidate);
    if (why === undefined) query = candidate;
    else skipped.push({ parameter: filterMember(f), reason: why });
  }
  if (view.compareTo !== undefined) {
    const { compareTo: _own, ...rest } = query;
    const candidate = { ...stripCompareDateRange(rest), compareTo: view.compareTo };
    const why = cannotRun(service, principal, candidate);
    if (why === undefined) query = candidate;
    else skipped.push({ parameter: 'compareTo', reason: why });
  }
  return { query, skipped };
}

/** The reason a query would be refused (BAD_USER_INPUT), or undefined; other errors (FORBIDDEN) propagate. */
function cannotRun(service: ViewService, principal: Principal, query: SemanticQuery): string | undefined {
  try {
    service.compile(principal, query);
    return undefined;
  } catch (e) {
    if (e instanceof UserError && e.code === 'BAD_USER_INPUT') return e.message;
    throw e;
  }
}

function filterMember(f: Filter): string {
  if ('member' in f) return f.member;
  const inner = 'and' in f ? f.and : f.or;
  return inner.map(filterMember).join(', ');
}

function withoutCompare<T extends { compareDateRange?: unknown }>(td: T): Omit<T, 'compareDateRange'> {
  const { compareDateRange: _omit, ...rest } = td;
  return rest;
}

/** A view comparison replaces a widget's own two-range compareDateRange (its first range stays the period). */
function stripCompareDateRange(q: SemanticQuery): SemanticQuery {
  const tds = q.timeDimensions ?? [];
  if (!tds.some((td) => td.compareDateRange !== undefined)) return q;
  return {
    ...q,
    timeDimensions: tds.map((td) => (td.compareDateRange === undefined ? td : { ...withoutCompare(td), dateRange: td.dateRange ?? td.compareDateRange[0] })),
  };
}
