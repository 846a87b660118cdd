/**
 * Reports over GraphQL: exports (exports:create), snapshots and schedules (reports:write to change,
 * metrics:read to read), the webhook signing secret (reports:write). The reports service (injected)
 * does the work and the auditing; the tenant is always the caller's.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { ReportsService } from '../../reports/service.js';
import type { ExportRecord } from '../../store/report-exports.js';
import type { RunRecord, ScheduleRecord, SnapshotRecord } from '../../store/report-schedules.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder } from './types.js';

const scoped = (scope: string) => ({ authScopes: { allOf: [scope] }, extensions: { requiresScopes: [scope] } }) as const;
const READ = scoped(SCOPES.METRICS_READ);
const EXPORT = scoped(SCOPES.EXPORTS_CREATE);
const WRITE = scoped(SCOPES.REPORTS_WRITE);

type ExportView = ExportRecord & { downloadUrl?: string };

const reportTypes = perBuilder((builder) => {
  const DateTime = dateTimeScalar(builder);
  const exportRef = builder.objectRef<ExportView>('Export').implement({
    description: 'A file of query results. `downloadUrl` is given once, when the export is created.',
    fields: (t) => ({
      id: t.exposeID('id'),
      status: t.exposeString('status', { description: 'pending | ready | failed' }),
      format: t.exposeString('format'),
      rows: t.exposeInt('rows', { nullable: true }),
      bytes: t.exposeFloat('bytes', { nullable: true }),
      truncated: t.exposeBoolean('truncated', { description: 'The result had more rows than your export limit; the file holds the first ones.' }),
      errorCode: t.exposeString('errorCode', { nullable: true }),
      error: t.exposeString('error', { nullable: true }),
      fileName: t.exposeString('fileName'),
      downloadUrl: t.string({ nullable: true, resolve: (e) => e.downloadUrl ?? null }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (e) => e.createdAt }),
      expiresAt: t.field({ type: DateTime, resolve: (e) => e.expiresAt }),
    }),
  });
  const snapshotRef = builder.objectRef<Omit<SnapshotRecord, 'results'> & { results?: unknown }>('Snapshot').implement({
    description: "A saved query's or dashboard's results frozen at a moment, with the parameters they ran with.",
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name', { nullable: true }),
      source: t.field({ type: 'JSON', resolve: (s) => s.source }),
      results: t.field({
        type: 'JSON',
        nullable: true,
        description: 'One entry per query: key, title, query, measures, dimensions, rows.',
        resolve: (s) => s.results ?? null,
      }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: DateTime, resolve: (s) => s.createdAt }),
      expiresAt: t.field({ type: DateTime, nullable: true, resolve: (s) => s.expiresAt }),
    }),
  });
  const scheduleRef = builder.objectRef<ScheduleRecord>('ReportSchedule').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      owner: t.exposeString('owner'),
      source: t.field({ type: 'JSON', resolve: (s) => s.source }),
      format: t.exposeString('format'),
      cron: t.exposeString('cron'),
      timezone: t.exposeString('timezone'),
      destinations: t.field({ type: 'JSON', resolve: (s) => s.destinations }),
      enabled: t.exposeBoolean('enabled'),
      failures: t.exposeInt('failures', { description: 'Failed runs in a row (the schedule backs off while > 0).' }),
      nextRunAt: t.field({ type: DateTime, resolve: (s) => s.nextRunAt }),
      createdAt: t.field({ type: DateTime, resolve: (s) => s.createdAt }),
    }),
  });
  const runRef = builder.objectRef<RunRecord>('ReportRun').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      dueAt: t.field({ type: DateTime, resolve: (r) => r.dueAt }),
      status: t.exposeString('status', { description: 'running | succeeded | failed' }),
      attempt: t.exposeInt('attempt'),
      startedAt: t.field({ type: DateTime, resolve: (r) => r.startedAt }),
      finishedAt: t.field({ type: DateTime, nullable: true, resolve: (r) => r.finishedAt }),
      rows: t.exposeInt('rows', { nullable: true }),
      bytes: t.exposeFloat('bytes', { nullable: true }),
      errorCode: t.exposeString('errorCode', { nullable: true }),
      error: t.exposeString('error', { nullable: true }),
      deliveries: t.field({ type: 'JSON', resolve: (r) => r.deliveries }),
    }),
  });
  const scheduleInput = builder.inputType('ReportScheduleInput', {
    description: 'On update, omitted fields keep their value.',
    fields: (t) => ({
      name: t.string(),
      source: t.field({
        type: 'JSON',
        description: '{kind: "query", query} | {kind: "savedQuery", id, compareTo?} | {kind: "dashboard", id, widgetId, view?}',
      }),
      format: t.string({ description: 'csv | xlsx | parquet | ndjson' }),
      cron: t.string({ description: 'Cron expression (5 fields, or 6 with seconds first).' }),
      timezone: t.string({ description: 'IANA time zone of the cron expression (default UTC).' }),
      destinations: t.field({ type: 'JSON', description: '[{kind: "email", to: [..], attach?}, {kind: "webhook", url}]' }),
      enabled: t.boolean(),
      ownerEmail: t.string({ description: 'Where failure notices go.' }),
    }),
  });
  return { exportRef, snapshotRef, scheduleRef, runRef, scheduleInput };
});

export function reportsExtension(reports: ReportsService): SchemaExtension {
  const notFound = (what: string, id: string) => new UserError('NOT_FOUND', `${what} "${id}" not found`, { id });
  return {
    queries: (builder) => {
      const t0 = reportTypes(builder);
      builder.queryField('exports', (t) =>
        t.field({
          type: [t0.exportRef],
          nullable: true,
          description: 'Recent exports of your tenant.',
          ...READ,
          resolve: (_r, _a, ctx) => reports.exports.list(ctx.strata),
        }),
      );
      builder.queryField('export', (t) =>
        t.field({
          type: t0.exportRef,
          nullable: true,
          ...READ,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => reports.exports.get(ctx.strata, String(id)),
        }),
      );
      builder.queryField('snapshots', (t) =>
        t.field({
          type: [t0.snapshotRef],
          nullable: true,
          description: 'Snapshots of your tenant, newest first (without results).',
          ...READ,
          resolve: (_r, _a, ctx) => reports.snapshots.list(ctx.strata),
        }),
      );
      builder.queryField('snapshot', (t) =>
        t.field({
          type: t0.snapshotRef,
          nullable: true,
          description: 'One snapshot with its results, exactly as taken.',
          ...READ,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => reports.snapshots.get(ctx.strata, String(id)),
        }),
      );
      builder.queryField('compareSnapshot', (t) =>
        t.field({
          type: 'JSON',
          nullable: true,
          description:
            "A snapshot compared with now (its source run again) or with another snapshot: per query, rows matched on dimensions with each measure's change.",
          ...READ,
          args: { id: t.arg.id({ required: true }), with: t.arg.id({ description: 'Another snapshot; omitted: now.' }) },
          resolve: (_r, args, ctx) => reports.snapshots.compare(ctx.strata, String(args.id), args.with == null ? undefined : String(args.with)),
        }),
      );
      builder.queryField('reportSchedules', (t) =>
        t.field({ type: [t0.scheduleRef], nullable: true, ...READ, resolve: (_r, _a, ctx) => reports.schedules.list(ctx.strata) }),
      );
      builder.queryField('reportRuns', (t) =>
        t.field({
          type: [t0.runRef],
          nullable: true,
          description: 'Runs of a schedule, newest first.',
          ...READ,
          args: { scheduleId: t.arg.id({ required: true }) },
          resolve: (_r, { scheduleId }, ctx) => reports.schedules.runs(ctx.strata, String(scheduleId)),
        }),
      );
      builder.queryField('webhookSigningSecret', (t) =>
        t.string({
          nullable: true,
          description: 'The secret your webhooks are signed with (HMAC-SHA-256 of "<t>.<body>", header x-strata-signature: t=…,v1=…).',
          ...WRITE,
          resolve: (_r, _a, ctx) => reports.webhookSecret(ctx.strata.principal.tenantId),
        }),
      );
    },
    mutations: (builder) => {
      const t0 = reportTypes(builder);
      builder.mutationField('createExport', (t) =>
        t.field({
          type: t0.exportRef,
          nullable: true,
          description:
            'Export a query, saved query or dashboard widget as a file. Runs as a job; answers when the file is ready (or PENDING after a few seconds). Over your row limit: EXPORT_TOO_LARGE, unless truncate is true.',
          ...EXPORT,
          args: {
            source: t.arg({ type: 'JSON', required: true }),
            format: t.arg.string({ required: true, description: 'csv | xlsx | parquet | ndjson' }),
            truncate: t.arg.boolean({ description: 'Over the row limit: deliver the first rows with truncated = true instead of refusing.' }),
          },
          resolve: (_r, args, ctx) => reports.exports.create(ctx.strata, { source: args.source, format: args.format, truncate: args.truncate ?? false }),
        }),
      );
      builder.mutationField('createSnapshot', (t) =>
        t.field({
          type: t0.snapshotRef,
          nullable: true,
          ...WRITE,
          args: { source: t.arg({ type: 'JSON', required: true }), name: t.arg.string() },
          resolve: (_r, args, ctx) => reports.snapshots.create(ctx.strata, { source: args.source, name: args.name ?? null }),
        }),
      );
      builder.mutationField('deleteSnapshot', (t) =>
        t.boolean({
          nullable: true,
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => reports.snapshots.remove(ctx.strata, String(id)),
        }),
      );
      builder.mutationField('createReportSchedule', (t) =>
        t.field({
          type: t0.scheduleRef,
          nullable: true,
          description: 'Schedule a report: an invalid cron or time zone, format or destination is BAD_USER_INPUT.',
          ...WRITE,
          args: { input: t.arg({ type: t0.scheduleInput, required: true }) },
          resolve: (_r, { input }, ctx) => reports.schedules.create(ctx.strata, clean(input)),
        }),
      );
      builder.mutationField('updateReportSchedule', (t) =>
        t.field({
          type: t0.scheduleRef,
          nullable: true,
          ...WRITE,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: t0.scheduleInput, required: true }) },
          resolve: async (_r, { id, input }, ctx) => {
            const s = await reports.schedules.update(ctx.strata, String(id), clean(input));
            if (!s) throw notFound('schedule', String(id));
            return s;
          },
        }),
      );
      builder.mutationField('deleteReportSchedule', (t) =>
        t.boolean({
          nullable: true,
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => reports.schedules.remove(ctx.strata, String(id)),
        }),
      );
      builder.mutationField('rotateWebhookSigningSecret', (t) =>
        t.string({
          nullable: true,
          description: 'A new signing secret; the old one stops signing at once.',
          ...WRITE,
          resolve: (_r, _a, ctx) => reports.rotateWebhookSecret(ctx.strata.principal.tenantId),
        }),
      );
    },
  };
}

/** GraphQL nulls -> absent (omitted = keep). */
function clean<T extends Record<string, unknown>>(input: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]?: Exclude<T[K], null> };
}
