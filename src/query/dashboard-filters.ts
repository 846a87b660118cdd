/**
 * Filters a dashboard declares (a date range, member filters such as platform or client), each with
 * a default and bound per widget to the member it controls there — or to none, where the widget
 * ignores it. Opening the dashboard takes values by filter name; they resolve into one DashboardView
 * per widget, so declared filters and ad-hoc view parameters share one path (dashboard-view.ts).
 */
import type { Principal } from '../auth/principal.js';
import { resolveDateRange } from '../compiler/dates.js';
import { UserError } from '../errors.js';
import type { DeclaredFilter } from '../semantic/dashboard-filter.js';
import type { DateRange, Filter, SemanticQuery } from '../semantic/query.js';
import { checkView, type DashboardView, type ViewService } from './dashboard-view.js';

export type { DeclaredFilter };

/** Values by filter name; null turns a filter (and its default) off. */
export type FilterValues = Readonly<Record<string, readonly string[] | string | null>>;

interface WidgetLike {
  readonly id: string;
  readonly query: SemanticQuery;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_FILTERS = 20;

const bad = (code: 'BAD_USER_INPUT' | 'UNKNOWN_FILTER' | 'INVALID_FILTER_BINDING', message: string, details: Record<string, unknown>) =>
  new UserError(code, message, details);

/** The member a filter controls in a widget: null = ignored; undefined = the widget's first time dimension (dateRange). */
function bindingOf(f: DeclaredFilter, w: WidgetLike): string | null | undefined {
  if (f.bindings && Object.hasOwn(f.bindings, w.id)) return f.bindings[w.id];
  if (f.member) return f.member;
  return f.type === 'dateRange' ? (w.query.timeDimensions?.[0]?.dimension ?? null) : null;
}

/** Checks declarations when a dashboard is saved: names, types, and that every binding is a member the widget can filter on. */
export function checkDeclaredFilters(
  service: ViewService,
  principal: Principal,
  filters: readonly DeclaredFilter[] | undefined,
  widgets: readonly WidgetLike[],
): DeclaredFilter[] {
  if (!filters) return [];
  if (!Array.isArray(filters)) throw bad('BAD_USER_INPUT', 'dashboard filters must be an array', {});
  if (filters.length > MAX_FILTERS) throw bad('BAD_USER_INPUT', `a dashboard declares at most ${MAX_FILTERS} filters`, { limit: MAX_FILTERS });
  const names = new Set<string>();
  const ids = new Set(widgets.map((w) => w.id));
  return filters.map((f) => {
    if (typeof f?.name !== 'string' || !NAME.test(f.name)) throw bad('BAD_USER_INPUT', `filter name ${JSON.stringify(f?.name)} is not a valid name`, {});
    if (names.has(f.name)) throw bad('BAD_USER_INPUT', `filter "${f.name}" is declared twice`, { filter: f.name });
    names.add(f.name);
    if (f.type !== 'dateRange' && f.type !== 'member') throw bad('BAD_USER_INPUT', `filter "${f.name}": type must be dateRange or member`, { filter: f.name });
    for (const id of Object.keys(f.bindings ?? {})) {
      if (!ids.has(id))
        throw bad('INVALID_FILTER_BINDING', `filter "${f.name}" is bound in widget "${id}", which the dashboard does not have`, { filter: f.name, widget: id });
    }
    const checked: DeclaredFilter = {
      name: f.name,
      type: f.type,
      ...(f.member ? { member: f.member } : {}),
      ...(f.type === 'member' ? { operator: f.operator ?? 'equals' } : {}),
      ...(f.default != null ? { default: f.default } : {}),
      ...(f.bindings ? { bindings: { ...f.bindings } } : {}),
    };
    if (checked.default !== undefined) checkedValue(checked, checked.default);
    for (const w of widgets) {
      const member = bindingOf(checked, w);
      if (member === null || member === undefined) continue;
      const probe = withBinding(w.query, checked, member, checked.type === 'member' ? ['x'] : '2026-01-01');
      try {
        service.compile(principal, probe);
      } catch (e) {
        if (!(e instanceof UserError) || e.code !== 'BAD_USER_INPUT') throw e;
        throw bad('INVALID_FILTER_BINDING', `filter "${f.name}" is bound to "${member}" in widget "${w.id}": ${e.message}`, {
          filter: f.name,
          widget: w.id,
          member,
        });
      }
    }
    return checked;
  });
}

/** The query with the filter applied at its binding (used to probe bindings; the view path applies it for real). */
function withBinding(q: SemanticQuery, f: DeclaredFilter, member: string, value: readonly string[] | DateRange): SemanticQuery {
  if (f.type === 'member') return { ...q, filters: [...(q.filters ?? []), memberFilter(f, member, value as readonly string[])] };
  return { ...q, timeDimensions: [...(q.timeDimensions ?? []).filter((td) => td.dimension !== member), { dimension: member, dateRange: value as DateRange }] };
}

function memberFilter(f: DeclaredFilter, member: string, values: readonly string[]): Filter {
  return { member, operator: f.operator ?? 'equals', values };
}

/** A value checked for its filter's type: member values, or a dateRange that resolves and is not inverted. */
function checkedValue(f: DeclaredFilter, raw: unknown): readonly string[] | DateRange {
  const arr = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(arr) || arr.some((v) => typeof v !== 'string')) {
    throw bad('BAD_USER_INPUT', `filter "${f.name}": values must be a list of strings`, { filter: f.name });
  }
  if (f.type === 'member') return arr as string[];
  if (arr.length < 1 || arr.length > 2)
    throw bad('BAD_USER_INPUT', `filter "${f.name}": a date range is [from, to] or one relative phrase`, { filter: f.name });
  const range: DateRange = arr.length === 1 ? arr[0] : [arr[0], arr[1]];
  try {
    resolveDateRange(range, 'UTC', new Date());
  } catch (e) {
    if (e instanceof UserError) throw bad('BAD_USER_INPUT', `filter "${f.name}": ${e.message}`, { filter: f.name });
    throw e;
  }
  return range;
}

/**
 * Values by name -> a view per widget: the ad-hoc view plus, for each declared filter with a value
 * (given or default), its range or member filter at the widget's binding.
 */
export function resolveDeclared(
  declared: readonly DeclaredFilter[],
  values: FilterValues | undefined,
  base: DashboardView | undefined,
): (w: WidgetLike) => DashboardView | undefined {
  const given = values ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw bad('BAD_USER_INPUT', 'filter values must be an object {name: values}', {});
  const byName = new Map(declared.map((f) => [f.name, f]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      const known = [...byName.keys()];
      throw bad('UNKNOWN_FILTER', `the dashboard declares no filter "${name}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`, { filter: name });
    }
  }
  const active = declared.flatMap((f) => {
    const raw = Object.hasOwn(given, f.name) ? given[f.name] : f.default;
    return raw == null ? [] : [{ f, value: checkedValue(f, raw) }];
  });
  if (active.length === 0) return () => base;
  return (w) => {
    let dateRange = base?.dateRange;
    let dateDimension = base?.dateDimension;
    const filters = [...(base?.filters ?? [])];
    for (const { f, value } of active) {
      const member = bindingOf(f, w);
      if (member === null) continue;
      if (f.type === 'dateRange') {
        dateRange = value as DateRange;
        dateDimension = member;
      } else if (member !== undefined) filters.push(memberFilter(f, member, value as readonly string[]));
    }
    return {
      ...base,
      ...(dateRange !== undefined ? { dateRange } : {}),
      ...(dateDimension !== undefined ? { dateDimension } : {}),
      filters,
    };
  };
}

/** One path for every door: check the ad-hoc view once, then resolve declared filters per widget. */
export function openDashboardView(
  service: ViewService,
  principal: Principal,
  declared: readonly DeclaredFilter[] | undefined,
  view: DashboardView | undefined,
  values: FilterValues | undefined,
): (w: WidgetLike) => DashboardView | undefined {
  return resolveDeclared(declared ?? [], values, checkView(service, principal, view));
}
