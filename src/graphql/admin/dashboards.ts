/**
 * Versioned dashboards (read: metrics:read, write: dashboards:write). A widget's `result` runs its
 * semantic query through the query service: all widgets of a dashboard resolve in the same tick,
 * so the per-request DataLoader batches them into one SQL per distinct (mergeable) query. A widget
 * whose query fails answers null with its own error; the rest of the dashboard still answers.
 * `dashboard(id, view)` applies view-time parameters (query/dashboard-view.ts) to every widget.
 * Who may see, edit, share or delete is decided by the store (store/access.ts) for the caller's Actor.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import { checkDeclaredFilters, type DeclaredFilter, type FilterValues, resolveDeclared } from '../../query/dashboard-filters.js';
import { applyView, checkView, type DashboardView, type SkippedParameter, type ViewService } from '../../query/dashboard-view.js';
import type { QueryService } from '../../query/types.js';
import type { DashboardLive, DashboardLiveUpdate, WidgetState } from '../../live/dashboard-live.js';
import type { Visibility } from '../../store/access.js';
import type { Dashboard, DashboardRepo, DashboardSummary, DashboardVersionInfo, DashboardWidget } from '../../store/dashboards.js';
import { comparisonOf } from '../comparison.js';
import type { StrataBuilder } from '../builder.js';
import type { SharedTypes } from '../shared-types.js';
import type { GraphQLContext } from '../context.js';
import { DATA_FIELD_COST } from '../cube-fields.js';
import type { SchemaExtension } from '../build-schema.js';
import { actorOf, dateTimeScalar, perBuilder, sharingTypes, type ShareInput, validateQuery } from './types.js';

export const MAX_WIDGETS = 100;

const READ = { authScopes: { allOf: [SCOPES.METRICS_READ] }, extensions: { requiresScopes: [SCOPES.METRICS_READ] } } as const;
const WRITE = { authScopes: { allOf: [SCOPES.DASHBOARDS_WRITE] }, extensions: { requiresScopes: [SCOPES.DASHBOARDS_WRITE] } } as const;

interface WidgetInput {
  id: string;
  title?: string | null;
  query?: unknown;
  display?: unknown;
}

export interface DashboardDeps {
  readonly dashboards: DashboardRepo;
  readonly query: QueryService & ViewService;
  readonly live?: DashboardLive;
}

interface ViewInput {
  values?: { name: string; values?: string[] | null }[] | null;
  dateRange?: string[] | null;
  filters?: unknown[] | null;
  compareTo?: { period?: 'previousPeriod' | 'samePeriodLastYear' | null; dateRange?: string[] | null } | null;
}

/** The view argument -> a checked DashboardView (one coded error for a bad parameter). */
export function viewOf(query: ViewService, ctx: GraphQLContext, input: ViewInput | null | undefined): DashboardView | undefined {
  if (!input) return undefined;
  const r = input.dateRange;
  if (r && (r.length < 1 || r.length > 2))
    throw new UserError('BAD_USER_INPUT', `view dateRange takes [from, to] or one relative phrase, got ${r.length} values`);
  const view = {
    ...(r ? { dateRange: r.length === 1 ? r[0] : ([r[0], r[1]] as const) } : {}),
    ...(input.filters ? { filters: input.filters as DashboardView['filters'] } : {}),
    ...(input.compareTo ? { compareTo: comparisonOf(input.compareTo) } : {}),
  };
  return checkView(query, ctx.strata.principal, view);
}

/** The view's values for declared filters, by name (a name given twice is refused). */
export function valuesOf(input: ViewInput | null | undefined): FilterValues | undefined {
  if (!input?.values) return undefined;
  const out: Record<string, string[] | null> = {};
  for (const v of input.values) {
    if (Object.hasOwn(out, v.name)) throw new UserError('BAD_USER_INPUT', `filter "${v.name}" is given twice`, { filter: v.name });
    out[v.name] = v.values ?? null;
  }
  return out;
}

interface FilterInput {
  name: string;
  type: 'dateRange' | 'member';
  member?: string | null;
  operator?: string | null;
  default?: string[] | null;
  bindings?: { widget: string; member?: string | null }[] | null;
}

function declaredOf(input: readonly FilterInput[]): DeclaredFilter[] {
  return input.map((f) => ({
    name: f.name,
    type: f.type,
    ...(f.member != null ? { member: f.member } : {}),
    ...(f.operator != null ? { operator: f.operator as DeclaredFilter['operator'] } : {}),
    ...(f.default != null ? { default: f.default } : {}),
    ...(f.bindings ? { bindings: Object.fromEntries(f.bindings.map((b) => [b.widget, b.member ?? null])) } : {}),
  }));
}

/** A widget as shown: with the view it is seen through. */
type ShownWidget = DashboardWidget & { readonly view?: DashboardView };

export function dashboardExtension(deps: DashboardDeps): SchemaExtension {
  const { dashboards } = deps;
  const dashboardTypes = perBuilder((builder, shared: SharedTypes) => makeDashboardTypes(builder, shared, deps));
  return {
    queries: (builder, shared) => {
      const dashboard = dashboardTypes(builder, shared).dashboard;
      builder.queryField('dashboards', (t) =>
        t.field({
          type: [dashboard],
          nullable: true,
          description: 'Dashboards of your tenant (current versions, oldest first).',
          ...READ,
          resolve: (_root, _args, ctx) => dashboards.list(actorOf(ctx.strata.principal)),
        }),
      );
      builder.queryField('dashboard', (t) =>
        t.field({
          type: dashboard,
          nullable: true,
          description:
            'One dashboard: its current version, or the given one, seen through `view` (applied to every widget; the saved dashboard does not change). null when you cannot see such a dashboard (or version).',
          ...READ,
          args: {
            id: t.arg.id({ required: true }),
            version: t.arg.int({ description: 'An earlier version (see `versions`).' }),
            view: t.arg({ type: viewInput(builder, shared), description: 'View-time date range, filters and comparison.' }),
          },
          resolve: async (_root, { id, version, view }, ctx) => {
            const checked = viewOf(deps.query, ctx, view as ViewInput | null);
            const d = await dashboards.get(actorOf(ctx.strata.principal), String(id), version ?? undefined);
            return d ? { ...d, viewFor: resolveDeclared(d.filters ?? [], valuesOf(view as ViewInput | null), checked) } : d;
          },
        }),
      );
    },

    // Only with a live service: a Subscription type needs at least one field.
    ...(deps.live
      ? {
          subscriptions: (builder: StrataBuilder, shared: SharedTypes) =>
            addDashboardLive(builder, shared, deps, deps.live!, dashboardTypes(builder, shared).skippedRef),
        }
      : {}),

    mutations: (builder, shared) => {
      const { dashboard, widgetInput, filterInput } = dashboardTypes(builder, shared);
      const sharing = sharingTypes(builder);
      const createInput = builder.inputType('CreateDashboardInput', {
        fields: (t) => ({
          name: t.string({ required: true }),
          description: t.string(),
          widgets: t.field({ type: [widgetInput], description: `At most ${MAX_WIDGETS}; every query is checked when saved.` }),
          filters: t.field({ type: [filterInput], description: 'Filters people set when they open it; every binding is checked when saved.' }),
          visibility: t.field({ type: sharing.visibility, description: 'Default TENANT: everyone of your tenant sees it.' }),
          shares: t.field({ type: [sharing.shareInput], description: 'Users (token subjects) it is shared with, for viewing or editing.' }),
        }),
      });
      const updateInput = builder.inputType('UpdateDashboardInput', {
        description: 'Omitted fields keep their current value. Every update makes a new version.',
        fields: (t) => ({
          name: t.string(),
          description: t.string({ description: 'null or omitted keeps the current description; "" clears it.' }),
          widgets: t.field({ type: [widgetInput], description: 'The complete new widget list (replaces the current one).' }),
          filters: t.field({ type: [filterInput], description: 'The complete new filter list; omitted keeps the current one (checked against the widgets).' }),
          expectedVersion: t.int({ description: 'Refuse with CONFLICT unless the dashboard is still at this version (optimistic concurrency).' }),
        }),
      });

      builder.mutationField('createDashboard', (t) =>
        t.field({
          type: dashboard,
          nullable: true,
          description: 'Create a dashboard (version 1). A widget whose query would not run (unknown member, missing scope) is refused.',
          ...WRITE,
          args: { input: t.arg({ type: createInput, required: true }) },
          resolve: (_root, { input }, ctx) => {
            const p = ctx.strata.principal;
            const widgets = input.widgets ? checkWidgets(deps.query, ctx, input.widgets) : undefined;
            const filters = input.filters ? checkDeclaredFilters(deps.query, p, declaredOf(input.filters as FilterInput[]), widgets ?? []) : undefined;
            return dashboards.create(actorOf(p), {
              name: input.name,
              description: input.description ?? null,
              widgets,
              ...(filters ? { filters } : {}),
              ...(input.visibility ? { visibility: input.visibility as Visibility } : {}),
              ...(input.shares ? { shares: input.shares as ShareInput[] } : {}),
            });
          },
        }),
      );
      builder.mutationField('updateDashboard', (t) =>
        t.field({
          type: dashboard,
          nullable: true,
          description: 'Save a new version. NOT_FOUND when your tenant has no such dashboard; CONFLICT when expectedVersion is stale.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: updateInput, required: true }) },
          resolve: async (_root, { id, input }, ctx) => {
            const p = ctx.strata.principal;
            const widgets = input.widgets ? checkWidgets(deps.query, ctx, input.widgets) : undefined;
            let filters: DeclaredFilter[] | undefined;
            if (input.filters || widgets) {
              // New filters, or new widgets under the current filters: every binding is checked again.
              const current = await dashboards.get(actorOf(p), String(id));
              const declared = input.filters ? declaredOf(input.filters as FilterInput[]) : current ? [...current.filters] : [];
              filters = checkDeclaredFilters(deps.query, p, declared, widgets ?? current?.widgets ?? []);
            }
            return dashboards.update(actorOf(p), String(id), {
              ...(input.name != null ? { name: input.name } : {}),
              ...(input.description != null ? { description: input.description === '' ? null : input.description } : {}),
              ...(widgets ? { widgets } : {}),
              ...(filters && input.filters ? { filters } : {}),
              ...(input.expectedVersion != null ? { expectedVersion: input.expectedVersion } : {}),
            });
          },
        }),
      );
      builder.mutationField('deleteDashboard', (t) =>
        t.boolean({
          nullable: true,
          description: 'Delete a dashboard and all its versions (owner or tenant admin). false when you cannot see such a dashboard.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_root, { id }, ctx) => dashboards.delete(actorOf(ctx.strata.principal), String(id)),
        }),
      );
      builder.mutationField('shareDashboard', (t) =>
        t.field({
          type: dashboard,
          nullable: true,
          description: 'Change who sees and edits a dashboard (owner or tenant admin). `shares` replaces the current list.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: sharing.shareChangeInput, required: true }) },
          resolve: (_root, { id, input }, ctx) =>
            dashboards.share(actorOf(ctx.strata.principal), String(id), {
              ...(input.visibility ? { visibility: input.visibility as Visibility } : {}),
              ...(input.shares ? { shares: input.shares as ShareInput[] } : {}),
            }),
        }),
      );
    },
  };
}

/** `dashboardLive(id, view)`: one subscription for the whole dashboard (live/dashboard-live.ts). */
function addDashboardLive(
  builder: StrataBuilder,
  shared: SharedTypes,
  deps: DashboardDeps,
  live: DashboardLive,
  skippedRef: ReturnType<typeof makeDashboardTypes>['skippedRef'],
): void {
  const { dashboards } = deps;
  const widgetError = builder.objectRef<NonNullable<WidgetState['error']>>('WidgetError').implement({
    fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
  });
  const widgetState = builder.objectRef<WidgetState>('LiveDashboardWidget').implement({
    description: 'One widget of a live dashboard: its result now, or its own error.',
    fields: (t) => ({
      id: t.exposeString('id'),
      title: t.exposeString('title'),
      skipped: t.field({ type: [skippedRef], resolve: (w) => [...w.skipped] }),
      result: t.field({ type: shared.queryResult, nullable: true, resolve: (w) => w.result }),
      error: t.field({ type: widgetError, nullable: true, resolve: (w) => w.error }),
    }),
  });
  const update = builder.objectRef<DashboardLiveUpdate>('DashboardLiveUpdate').implement({
    fields: (t) => ({
      dashboardId: t.exposeID('dashboardId'),
      initial: t.exposeBoolean('initial', { description: 'The first message holds every widget; later ones only the widgets that changed.' }),
      widgets: t.field({ type: [widgetState], resolve: (u) => [...u.widgets] }),
    }),
  });
  builder.subscriptionField('dashboardLive', (t) =>
    t.field({
      type: update,
      description:
        'A whole dashboard, live: every widget now, then after each data change one message with exactly the widgets whose results changed. Watchers of the same dashboard and view share the evaluations.',
      ...READ,
      args: {
        id: t.arg.id({ required: true }),
        view: t.arg({ type: viewInput(builder, shared), description: 'View-time date range, filters and comparison.' }),
      },
      subscribe: async (_root, { id, view }, ctx) => {
        const checked = viewOf(deps.query, ctx, view as ViewInput | null);
        const d = await dashboards.get(actorOf(ctx.strata.principal), String(id));
        if (!d) throw new UserError('NOT_FOUND', `dashboard "${String(id)}" not found`, { id: String(id) });
        const viewFor = resolveDeclared(d.filters ?? [], valuesOf(view as ViewInput | null), checked);
        const widgets = d.widgets.map((w) => ({ id: w.id, title: w.title, ...applyView(deps.query, ctx.strata.principal, w.query, viewFor(w)) }));
        return live.subscribe(ctx.strata, d.id, widgets);
      },
      resolve: (u: DashboardLiveUpdate) => u,
    }),
  );
}

function checkWidgets(query: QueryService, ctx: GraphQLContext, widgets: readonly WidgetInput[]): DashboardWidget[] {
  if (widgets.length > MAX_WIDGETS) throw new UserError('BAD_USER_INPUT', `a dashboard holds at most ${MAX_WIDGETS} widgets (got ${widgets.length})`);
  return widgets.map((w, i) => {
    const label = `widget "${w.id}" (widgets[${i}])`;
    if (w.display != null && (typeof w.display !== 'object' || Array.isArray(w.display))) {
      throw new UserError('BAD_USER_INPUT', `${label}: display must be a JSON object`, { widget: w.id });
    }
    const q = validateQuery(query, ctx.strata.principal, w.query, ctx.limits.maxRowLimit, label);
    return { id: w.id, title: w.title ?? '', query: q, ...(w.display != null ? { display: w.display as Record<string, unknown> } : {}) };
  });
}

/** A listed dashboard is a summary; its widgets are read when asked for. */
type DashboardParent = DashboardSummary | Dashboard | (Dashboard & { readonly viewFor: (w: DashboardWidget) => DashboardView | undefined });

const filterValueInput = perBuilder((builder: StrataBuilder) =>
  builder.inputType('DashboardFilterValueInput', {
    fields: (t) => ({
      name: t.string({ required: true, description: 'A filter the dashboard declares.' }),
      values: t.stringList({ description: 'Member values, or a date range ([from, to] or one relative phrase); null turns the filter (and its default) off.' }),
    }),
  }),
);

export const viewInput = perBuilder((builder: StrataBuilder, shared: SharedTypes) =>
  builder.inputType('DashboardViewInput', {
    description: 'View-time parameters applied to every widget of a dashboard; the saved dashboard does not change.',
    fields: (t) => ({
      values: t.field({
        type: [filterValueInput(builder)],
        description: 'Values for the filters the dashboard declares, by name (see `Dashboard.filters`); a filter not given uses its default.',
      }),
      dateRange: t.stringList({ description: "Replaces the range of each widget's first time dimension: [from, to] or one relative phrase." }),
      filters: t.field({
        type: ['JSON'],
        description:
          'Cube filters ({member, operator, values}) added to each widget that can filter on the member (its own filters are kept); the others report it in `skipped`.',
      }),
      compareTo: t.field({ type: shared.comparisonInput, description: 'Compare every widget with another period.' }),
    }),
  }),
);

function makeDashboardTypes(builder: StrataBuilder, shared: SharedTypes, deps: DashboardDeps) {
  const DateTime = dateTimeScalar(builder);
  const sharing = sharingTypes(builder);
  const skippedRef = builder.objectRef<SkippedParameter>('SkippedViewParameter').implement({
    description: 'A view-time parameter this widget did not take, and why (never dropped silently).',
    fields: (t) => ({
      parameter: t.exposeString('parameter', { description: '"dateRange", "compareTo", or the filter member.' }),
      reason: t.exposeString('reason'),
    }),
  });
  const applied = (w: ShownWidget, ctx: GraphQLContext) => applyView(deps.query, ctx.strata.principal, w.query, w.view);
  const widget = builder.objectRef<ShownWidget>('DashboardWidget').implement({
    fields: (t) => ({
      appliedQuery: t.field({
        type: 'JSON',
        description: 'The query run: the saved one with the view applied.',
        resolve: (w, _a, ctx) => applied(w, ctx).query,
      }),
      skipped: t.field({ type: [skippedRef], description: 'View parameters this widget did not take.', resolve: (w, _a, ctx) => [...applied(w, ctx).skipped] }),
      id: t.exposeString('id'),
      title: t.exposeString('title'),
      query: t.field({ type: 'JSON', description: 'The semantic query (Cube format), as saved.', resolve: (w) => w.query }),
      display: t.field({ type: 'JSON', nullable: true, description: 'Display hints for the frontend, as saved.', resolve: (w) => w.display ?? null }),
      result: t.field({
        type: shared.queryResult,
        nullable: true,
        description:
          'The query run now for your tenant, with the view applied (its `comparison` when the view compares). Widgets of one dashboard are batched: one SQL per distinct row set.',
        authScopes: READ.authScopes,
        extensions: { ...READ.extensions, cost: DATA_FIELD_COST },
        resolve: (w, _args, ctx) => deps.query.load(ctx.strata, applied(w, ctx).query),
      }),
    }),
  });
  const filterType = builder.enumType('DashboardFilterType', {
    values: { DATE_RANGE: { value: 'dateRange' }, MEMBER: { value: 'member' } } as const,
  });
  const bindingInput = builder.inputType('DashboardFilterBindingInput', {
    fields: (t) => ({ widget: t.string({ required: true }), member: t.string({ description: 'null: the widget ignores the filter.' }) }),
  });
  const binding = builder.objectRef<{ widget: string; member: string | null }>('DashboardFilterBinding').implement({
    fields: (t) => ({ widget: t.exposeString('widget'), member: t.exposeString('member', { nullable: true }) }),
  });
  const declaredFilter = builder.objectRef<DeclaredFilter>('DashboardFilter').implement({
    description: 'A filter the dashboard declares, with its default and the member it controls per widget.',
    fields: (t) => ({
      name: t.exposeString('name'),
      type: t.field({ type: filterType, resolve: (f) => f.type }),
      member: t.string({ nullable: true, resolve: (f) => f.member ?? null }),
      operator: t.string({ nullable: true, resolve: (f) => f.operator ?? null }),
      default: t.stringList({ nullable: true, resolve: (f) => (f.default == null ? null : typeof f.default === 'string' ? [f.default] : [...f.default]) }),
      bindings: t.field({
        type: [binding],
        resolve: (f) => Object.entries(f.bindings ?? {}).map(([widget, member]) => ({ widget, member })),
      }),
    }),
  });
  const version = builder.objectRef<DashboardVersionInfo>('DashboardVersion').implement({
    fields: (t) => ({
      version: t.exposeInt('version'),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (v) => v.createdAt }),
      widgetCount: t.exposeInt('widgetCount'),
    }),
  });
  const dashboard = builder.objectRef<DashboardParent>('Dashboard').implement({
    description: 'A versioned dashboard of your tenant.',
    fields: (t) => ({
      id: t.exposeID('id'),
      owner: t.exposeString('owner', { description: 'Subject of the token that created it.' }),
      visibility: t.field({ type: sharing.visibility, resolve: (d) => d.visibility }),
      canEdit: t.exposeBoolean('canEdit', { description: 'You may save new versions.' }),
      canManage: t.exposeBoolean('canManage', { description: 'You may share or delete it (owner or tenant admin).' }),
      shares: t.field({
        type: [sharing.share],
        description: 'Users it is shared with.',
        resolve: (d, _a, ctx) => deps.dashboards.shares(actorOf(ctx.strata.principal), d.id),
      }),
      name: t.exposeString('name'),
      description: t.exposeString('description', { nullable: true }),
      version: t.exposeInt('version', { description: 'The version shown (the current one unless asked otherwise).' }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (d) => d.createdAt }),
      updatedAt: t.field({ type: DateTime, resolve: (d) => d.updatedAt }),
      versions: t.field({
        type: [version],
        description: 'Every saved version, oldest first.',
        resolve: (d, _args, ctx) => deps.dashboards.versions(actorOf(ctx.strata.principal), d.id),
      }),
      filters: t.field({
        type: [declaredFilter],
        description: 'Filters this version declares; open it with values for them (`view.values`).',
        resolve: async (d, _a, ctx) =>
          'filters' in d ? [...d.filters] : ((await deps.dashboards.get(actorOf(ctx.strata.principal), d.id, d.version))?.filters ?? []),
      }),
      widgets: t.field({
        type: [widget],
        resolve: async (d, _args, ctx): Promise<ShownWidget[]> => {
          const full = 'widgets' in d ? d : await deps.dashboards.get(actorOf(ctx.strata.principal), d.id, d.version);
          if (!full) return [];
          // Declared filters apply with their defaults even when no view is given.
          const viewFor = 'viewFor' in d ? d.viewFor : resolveDeclared(full.filters ?? [], undefined, undefined);
          return full.widgets.map((w) => {
            const view = viewFor(w);
            return view ? { ...w, view } : w;
          });
        },
      }),
    }),
  });
  const filterInput = builder.inputType('DashboardFilterInput', {
    description: 'A filter the dashboard declares; opening it takes a value by name (`DashboardViewInput.values`).',
    fields: (t) => ({
      name: t.string({ required: true, description: 'Letters, digits, _ and -; unique in the dashboard.' }),
      type: t.field({ type: filterType, required: true }),
      member: t.string({
        description: "The member it controls in widgets `bindings` does not list (DATE_RANGE: a time dimension; omitted = each widget's first).",
      }),
      operator: t.string({ description: 'MEMBER filters: the Cube operator the values match with (default equals).' }),
      default: t.stringList({ description: 'Used when no value is given: member values, or a date range.' }),
      bindings: t.field({ type: [bindingInput], description: 'Per widget: the member it controls there, or null where the widget ignores it.' }),
    }),
  });
  const widgetInput = builder.inputType('DashboardWidgetInput', {
    fields: (t) => ({
      id: t.string({ required: true, description: 'Unique within the dashboard.' }),
      title: t.string(),
      query: t.field({ type: 'JSON', required: true, description: 'A semantic query in Cube format, as for `query`.' }),
      display: t.field({ type: 'JSON', description: 'Free-form display hints (chart type, size, colours...).' }),
    }),
  });
  return { dashboard, widgetInput, skippedRef, filterInput };
}
