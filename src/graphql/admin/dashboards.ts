/**
 * Versioned dashboards (read: metrics:read, write: dashboards:write). A widget's `result` runs its
 * semantic query through the query service: all widgets of a dashboard resolve in the same tick,
 * so the per-request DataLoader batches them into one SQL per distinct (mergeable) query. A widget
 * whose query fails answers null with its own error; the rest of the dashboard still answers.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { QueryService } from '../../query/types.js';
import type { Dashboard, DashboardRepo, DashboardSummary, DashboardVersionInfo, DashboardWidget } from '../../store/dashboards.js';
import type { StrataBuilder } from '../builder.js';
import type { SharedTypes } from '../shared-types.js';
import type { GraphQLContext } from '../context.js';
import { DATA_FIELD_COST } from '../cube-fields.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder, validateQuery } from './types.js';

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
  readonly query: QueryService;
}

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
          resolve: (_root, _args, ctx) => dashboards.list(ctx.strata.principal.tenantId),
        }),
      );
      builder.queryField('dashboard', (t) =>
        t.field({
          type: dashboard,
          nullable: true,
          description: 'One dashboard: its current version, or the given one. null when your tenant has no such dashboard (or version).',
          ...READ,
          args: { id: t.arg.id({ required: true }), version: t.arg.int({ description: 'An earlier version (see `versions`).' }) },
          resolve: (_root, { id, version }, ctx) => dashboards.get(ctx.strata.principal.tenantId, String(id), version ?? undefined),
        }),
      );
    },

    mutations: (builder, shared) => {
      const { dashboard, widgetInput } = dashboardTypes(builder, shared);
      const createInput = builder.inputType('CreateDashboardInput', {
        fields: (t) => ({
          name: t.string({ required: true }),
          description: t.string(),
          widgets: t.field({ type: [widgetInput], description: `At most ${MAX_WIDGETS}; every query is checked when saved.` }),
        }),
      });
      const updateInput = builder.inputType('UpdateDashboardInput', {
        description: 'Omitted fields keep their current value. Every update makes a new version.',
        fields: (t) => ({
          name: t.string(),
          description: t.string({ description: 'null or omitted keeps the current description; "" clears it.' }),
          widgets: t.field({ type: [widgetInput], description: 'The complete new widget list (replaces the current one).' }),
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
            return dashboards.create(p.tenantId, { name: input.name, description: input.description ?? null, widgets, createdBy: p.subject });
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
          resolve: (_root, { id, input }, ctx) => {
            const p = ctx.strata.principal;
            return dashboards.update(p.tenantId, String(id), {
              ...(input.name != null ? { name: input.name } : {}),
              ...(input.description != null ? { description: input.description === '' ? null : input.description } : {}),
              ...(input.widgets ? { widgets: checkWidgets(deps.query, ctx, input.widgets) } : {}),
              ...(input.expectedVersion != null ? { expectedVersion: input.expectedVersion } : {}),
              updatedBy: p.subject,
            });
          },
        }),
      );
      builder.mutationField('deleteDashboard', (t) =>
        t.boolean({
          nullable: true,
          description: 'Delete a dashboard and all its versions. false when your tenant has no such dashboard.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_root, { id }, ctx) => dashboards.delete(ctx.strata.principal.tenantId, String(id)),
        }),
      );
    },
  };
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
type DashboardParent = DashboardSummary | Dashboard;

function makeDashboardTypes(builder: StrataBuilder, shared: SharedTypes, deps: DashboardDeps) {
  const DateTime = dateTimeScalar(builder);
  const widget = builder.objectRef<DashboardWidget>('DashboardWidget').implement({
    fields: (t) => ({
      id: t.exposeString('id'),
      title: t.exposeString('title'),
      query: t.field({ type: 'JSON', description: 'The semantic query (Cube format), as saved.', resolve: (w) => w.query }),
      display: t.field({ type: 'JSON', nullable: true, description: 'Display hints for the frontend, as saved.', resolve: (w) => w.display ?? null }),
      result: t.field({
        type: shared.queryResult,
        nullable: true,
        description: 'The query run now for your tenant. Widgets of one dashboard are batched: one SQL per distinct query.',
        authScopes: READ.authScopes,
        extensions: { ...READ.extensions, cost: DATA_FIELD_COST },
        resolve: (w, _args, ctx) => deps.query.load(ctx.strata, w.query),
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
      name: t.exposeString('name'),
      description: t.exposeString('description', { nullable: true }),
      version: t.exposeInt('version', { description: 'The version shown (the current one unless asked otherwise).' }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (d) => d.createdAt }),
      updatedAt: t.field({ type: DateTime, resolve: (d) => d.updatedAt }),
      versions: t.field({
        type: [version],
        description: 'Every saved version, oldest first.',
        resolve: (d, _args, ctx) => deps.dashboards.versions(ctx.strata.principal.tenantId, d.id),
      }),
      widgets: t.field({
        type: [widget],
        resolve: async (d, _args, ctx) => {
          if ('widgets' in d) return [...d.widgets];
          const full = await deps.dashboards.get(ctx.strata.principal.tenantId, d.id, d.version);
          return full ? [...full.widgets] : [];
        },
      }),
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
  return { dashboard, widgetInput };
}
