/**
 * What a report reads: a semantic query, a saved query, or a dashboard (one widget, or all of them)
 * with its view-time parameters (date range, filters, comparison: query/dashboard-view.ts) and its
 * declared filters (values by name, else their defaults: query/dashboard-filters.ts). Saved
 * objects are read as the caller's Actor, so a report sees exactly what its author may see; they
 * are read again at every run (a schedule follows edits; relative ranges resolve at run time).
 */
import { type Principal, SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import { type FilterValues, resolveDeclared } from '../query/dashboard-filters.js';
import { applyView, checkView, type DashboardView, type SkippedParameter, type ViewService } from '../query/dashboard-view.js';
import type { Comparison, SemanticQuery } from '../semantic/query.js';
import type { Actor } from '../store/access.js';
import type { DashboardRepo } from '../store/dashboards.js';
import type { SavedQueryRepo } from '../store/saved-queries.js';

export type ReportSource =
  | { readonly kind: 'query'; readonly query: SemanticQuery }
  | { readonly kind: 'savedQuery'; readonly id: string; readonly compareTo?: Comparison }
  | { readonly kind: 'dashboard'; readonly id: string; readonly widgetId?: string; readonly view?: ReportView };

/**
 * A dashboard's view-time parameters, with values for its declared filters: {name: values} or, as
 * GraphQL's DashboardViewInput takes them, [{name, values}] (null values turn a filter off).
 */
export type ReportView = DashboardView & { readonly values?: FilterValues | readonly { name: string; values?: readonly string[] | null }[] };

function filterValues(values: ReportView['values']): FilterValues | undefined {
  if (!Array.isArray(values)) return values as FilterValues | undefined;
  const out: Record<string, readonly string[] | null> = {};
  for (const v of values) {
    if (typeof v?.name !== 'string' || Object.hasOwn(out, v.name))
      throw new UserError('BAD_USER_INPUT', 'view values: a list of {name, values} with each name once', { filter: v?.name });
    out[v.name] = v.values ?? null;
  }
  return out;
}

export interface SourcedQuery {
  /** "query", the saved query's id, or the widget's id. */
  readonly key: string;
  readonly title: string;
  readonly query: SemanticQuery;
  readonly skipped: readonly SkippedParameter[];
}

export interface SourceDeps {
  readonly savedQueries: SavedQueryRepo;
  readonly dashboards: DashboardRepo;
  readonly views: ViewService;
}

export function actorOf(principal: Principal): Actor {
  const admin = principal.roles.includes('tenant_admin') || principal.roles.includes('super_admin') || principal.scopes.has(SCOPES.KEYS_ADMIN);
  return { tenantId: principal.tenantId, subject: principal.subject, admin };
}

/** Checks the shape of a source given by a caller (JSON), before it is stored or run. */
export function checkSource(value: unknown): ReportSource {
  const v = (value ?? {}) as Record<string, unknown>;
  const id = typeof v.id === 'string' && v.id.length <= 100 ? v.id : undefined;
  if (v.kind === 'query' && v.query && typeof v.query === 'object' && !Array.isArray(v.query)) return { kind: 'query', query: v.query as SemanticQuery };
  if (v.kind === 'savedQuery' && id) return { kind: 'savedQuery', id, ...(v.compareTo ? { compareTo: v.compareTo as Comparison } : {}) };
  if (v.kind === 'dashboard' && id) {
    return {
      kind: 'dashboard',
      id,
      ...(typeof v.widgetId === 'string' ? { widgetId: v.widgetId } : {}),
      ...(v.view && typeof v.view === 'object' ? { view: v.view as ReportView } : {}),
    };
  }
  throw new UserError(
    'BAD_USER_INPUT',
    'a report source is {kind: "query", query}, {kind: "savedQuery", id, compareTo?} or {kind: "dashboard", id, widgetId?, view?}',
  );
}

export async function resolveSource(deps: SourceDeps, principal: Principal, source: ReportSource): Promise<SourcedQuery[]> {
  const actor = actorOf(principal);
  if (source.kind === 'query') return [{ key: 'query', title: 'Query', query: source.query, skipped: [] }];
  if (source.kind === 'savedQuery') {
    const saved = await deps.savedQueries.get(actor, source.id);
    if (!saved) throw new UserError('NOT_FOUND', `saved query "${source.id}" not found`, { id: source.id });
    const { compareTo: own, ...rest } = saved.query;
    const compareTo = source.compareTo ?? own;
    return [{ key: saved.id, title: saved.name, query: compareTo ? { ...rest, compareTo } : rest, skipped: [] }];
  }
  const dashboard = await deps.dashboards.get(actor, source.id);
  if (!dashboard) throw new UserError('NOT_FOUND', `dashboard "${source.id}" not found`, { id: source.id });
  // The same path as the dashboard door: the ad-hoc view checked once, then the declared filters
  // (given values, else their defaults) resolved per widget — a report equals what the dashboard shows.
  const { values, ...adhoc } = source.view ?? {};
  const viewFor = resolveDeclared(dashboard.filters ?? [], filterValues(values), checkView(deps.views, principal, source.view ? adhoc : undefined));
  const widgets = source.widgetId === undefined ? dashboard.widgets : dashboard.widgets.filter((w) => w.id === source.widgetId);
  if (widgets.length === 0) throw new UserError('NOT_FOUND', `dashboard "${dashboard.name}" has no widget "${source.widgetId}"`, { widget: source.widgetId });
  return widgets.map((w) => {
    const applied = applyView(deps.views, principal, w.query, viewFor(w));
    return { key: w.id, title: w.title, query: applied.query, skipped: applied.skipped };
  });
}
