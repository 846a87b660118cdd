/**
 * Metric alerts over GraphQL (scope alerts:write for every field: rules, their states, their
 * history). The reports service's alerts part (reports/alerts.ts) validates, audits and evaluates;
 * the tenant is always the caller's.
 */
import { SCOPES } from '../../auth/principal.js';
import type { ReportsService } from '../../reports/service.js';
import type { AlertEventRecord, AlertRuleRecord, AlertStateRecord } from '../../store/alerts.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder } from './types.js';

const WRITE = { authScopes: { allOf: [SCOPES.ALERTS_WRITE] }, extensions: { requiresScopes: [SCOPES.ALERTS_WRITE] } } as const;

const alertTypes = perBuilder((builder) => {
  const DateTime = dateTimeScalar(builder);
  const ruleRef = builder.objectRef<AlertRuleRecord>('AlertRule').implement({
    description: 'A query + a condition, evaluated when its data changes and every intervalSeconds.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      owner: t.exposeString('owner'),
      source: t.field({ type: 'JSON', resolve: (r) => r.source }),
      condition: t.field({ type: 'JSON', resolve: (r) => r.condition }),
      consecutive: t.exposeInt('consecutive', { description: 'Fires after the condition held this many evaluations in a row.' }),
      intervalSeconds: t.exposeInt('intervalSeconds'),
      destinations: t.field({ type: 'JSON', resolve: (r) => r.destinations }),
      enabled: t.exposeBoolean('enabled'),
      nextEvalAt: t.field({ type: DateTime, resolve: (r) => r.nextEvalAt }),
      createdAt: t.field({ type: DateTime, resolve: (r) => r.createdAt }),
      lastError: t.field({
        type: 'JSON',
        nullable: true,
        description: 'Why the last evaluation did not run ({code, message, at}: TENANT_SUSPENDED, AUTHOR_ACCESS_REVOKED, ...); null once one runs.',
        resolve: (r) => r.lastError ?? null,
      }),
    }),
  });
  const stateRef = builder.objectRef<AlertStateRecord>('AlertState').implement({
    description: "One dimension value's state (one per campaign for a query grouped by campaign).",
    fields: (t) => ({
      key: t.exposeString('key'),
      dimensions: t.field({ type: 'JSON', resolve: (s) => s.dimensions }),
      status: t.exposeString('status', { description: 'pending | firing | resolved' }),
      streak: t.exposeInt('streak', { description: 'Evaluations in a row the condition held.' }),
      value: t.exposeFloat('value', { nullable: true }),
      since: t.field({ type: DateTime, resolve: (s) => s.since }),
      evaluatedAt: t.field({ type: DateTime, resolve: (s) => s.evaluatedAt }),
    }),
  });
  const eventRef = builder.objectRef<AlertEventRecord>('AlertEvent').implement({
    description: 'A transition of a state: firing or resolved, with the notifications sent for it.',
    fields: (t) => ({
      id: t.exposeID('id'),
      key: t.exposeString('key'),
      dimensions: t.field({ type: 'JSON', resolve: (e) => e.dimensions }),
      event: t.exposeString('event', { description: 'firing | resolved' }),
      value: t.exposeFloat('value', { nullable: true }),
      at: t.field({ type: DateTime, resolve: (e) => e.at }),
      deliveries: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.deliveries }),
    }),
  });
  const ruleInput = builder.inputType('AlertRuleInput', {
    description: 'On update, omitted fields keep their value.',
    fields: (t) => ({
      name: t.string(),
      source: t.field({ type: 'JSON', description: '{kind: "query", query} | {kind: "savedQuery", id} | {kind: "dashboard", id, widgetId, view?}' }),
      condition: t.field({
        type: 'JSON',
        description:
          '{kind: "threshold", measure, op, value} | {kind: "change", measure, op, value, unit?: "percent"|"absolute", compareTo?} | {kind: "rowCount", op, value}; op: < <= > >= = !=',
      }),
      consecutive: t.int(),
      intervalSeconds: t.int({ description: 'Fallback evaluation interval (default 300); changes of the data evaluate at once.' }),
      destinations: t.field({ type: 'JSON', description: '[{kind: "email", to: [..]}, {kind: "webhook", url}]' }),
      enabled: t.boolean(),
    }),
  });
  return { ruleRef, stateRef, eventRef, ruleInput };
});

export function alertsExtension(reports: ReportsService): SchemaExtension {
  const { alerts } = reports;
  return {
    queries: (builder) => {
      const t0 = alertTypes(builder);
      builder.queryField('alertRules', (t) => t.field({ type: [t0.ruleRef], nullable: true, ...WRITE, resolve: (_r, _a, ctx) => alerts.list(ctx.strata) }));
      builder.queryField('alertStates', (t) =>
        t.field({
          type: [t0.stateRef],
          nullable: true,
          ...WRITE,
          args: { ruleId: t.arg.id({ required: true }) },
          resolve: (_r, { ruleId }, ctx) => alerts.states(ctx.strata, String(ruleId)),
        }),
      );
      builder.queryField('alertHistory', (t) =>
        t.field({
          type: [t0.eventRef],
          nullable: true,
          description: 'Transitions of a rule, newest first.',
          ...WRITE,
          args: { ruleId: t.arg.id({ required: true }), limit: t.arg.int() },
          resolve: (_r, { ruleId, limit }, ctx) => alerts.history(ctx.strata, String(ruleId), Math.min(Math.max(limit ?? 100, 1), 1000)),
        }),
      );
    },
    mutations: (builder) => {
      const t0 = alertTypes(builder);
      builder.mutationField('createAlertRule', (t) =>
        t.field({
          type: t0.ruleRef,
          nullable: true,
          description: 'An unknown member, a condition on a measure the query lacks or a bad operator is BAD_USER_INPUT (or the query service’s code).',
          ...WRITE,
          args: { input: t.arg({ type: t0.ruleInput, required: true }) },
          resolve: (_r, { input }, ctx) => alerts.create(ctx.strata, clean(input)),
        }),
      );
      builder.mutationField('updateAlertRule', (t) =>
        t.field({
          type: t0.ruleRef,
          nullable: true,
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: t0.ruleInput, required: true }) },
          resolve: (_r, { id, input }, ctx) => alerts.update(ctx.strata, String(id), clean(input)),
        }),
      );
      builder.mutationField('deleteAlertRule', (t) =>
        t.boolean({
          nullable: true,
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => alerts.remove(ctx.strata, String(id)),
        }),
      );
    },
  };
}

/** GraphQL nulls -> absent (omitted = keep). */
function clean<T extends Record<string, unknown>>(input: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]?: Exclude<T[K], null> };
}
