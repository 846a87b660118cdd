/**
 * Schedules: a report source + format + cron with time zone + destinations (email, webhook).
 * Every instance's job runner calls `enqueueDue` before it polls: due schedules are taken with
 * SKIP LOCKED and each due time becomes one job (dedupe key), so N instances fire it once. The
 * run job writes the export, stores it (the link), delivers to every destination and records the
 * run (start, end, status, rows, bytes, error, per-destination outcome). A failed run counts
 * against the schedule: it backs off (its next time pushed back) and its owner is emailed.
 */
import { rm } from 'node:fs/promises';
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { JobContext } from '../jobs/runner.js';
import type { RequestContext } from '../query/types.js';
import type { RunRecord, ScheduleInput, ScheduleRecord } from '../store/report-schedules.js';
import { checkExportAllowed } from './controls.js';
import { currentRunAs } from './author-access.js';
import { nextRun, parseCron } from './cron.js';
import { auditReport, backgroundContext, type ReportsDeps, runAsOf } from './deps.js';
import { checkWebhookUrl, deliverWebhook } from './destinations/webhook.js';
import type { Exports } from './exports.js';
import { sourceDeps } from './exports.js';
import { checkFormat, FORMATS } from './formats.js';
import { checkSource, resolveSource } from './sources.js';

export const SCHEDULE_JOB = 'report.schedule';

/** Some destinations failed: recorded on the run with their reasons. */
class DeliveryError extends Error {
  readonly code = 'DELIVERY_FAILED';
}

export type Destination =
  | { readonly kind: 'email'; readonly to: readonly string[]; readonly attach?: boolean }
  | { readonly kind: 'webhook'; readonly url: string };

export interface ScheduleInputValue {
  readonly name?: string;
  readonly source?: unknown;
  readonly format?: unknown;
  readonly cron?: unknown;
  readonly timezone?: unknown;
  readonly destinations?: unknown;
  readonly enabled?: boolean;
  /** Where failure notices go (default: none; the owner's token email when it has one). */
  readonly ownerEmail?: string | null;
}

const EMAIL = /^[^\s@<>,;]{1,64}@[^\s@<>,;]{1,255}$/;

export function checkDestinations(value: unknown): Destination[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10)
    throw new UserError('BAD_USER_INPUT', 'destinations: 1 to 10 of {kind: "email", to} or {kind: "webhook", url}');
  return value.map((d: Record<string, unknown>, i) => {
    if (d?.kind === 'email') {
      const to = Array.isArray(d.to) ? d.to : [d.to];
      if (to.length === 0 || to.length > 50 || !to.every((a) => typeof a === 'string' && EMAIL.test(a))) {
        throw new UserError('BAD_USER_INPUT', `destinations[${i}]: "to" must list 1 to 50 email addresses`);
      }
      return { kind: 'email', to: to as string[], attach: d.attach !== false };
    }
    if (d?.kind === 'webhook') {
      try {
        return { kind: 'webhook', url: checkWebhookUrl(d.url) };
      } catch (e) {
        throw new UserError('BAD_USER_INPUT', `destinations[${i}]: ${(e as Error).message}`);
      }
    }
    throw new UserError('BAD_USER_INPUT', `destinations[${i}]: kind must be "email" or "webhook"`);
  });
}

export function createSchedules(deps: ReportsDeps, exports: Exports) {
  const { store, settings, logger } = deps;

  async function check(ctx: RequestContext, v: ScheduleInputValue, current?: ScheduleRecord) {
    const cronText = v.cron ?? current?.cron;
    const timezone = v.timezone ?? current?.timezone ?? 'UTC';
    const cron = parseCron(cronText, timezone, settings.minScheduleIntervalSeconds);
    const format = checkFormat(v.format ?? current?.format);
    const controls = await exports.controlsFor(ctx.principal.tenantId);
    checkExportAllowed(controls, ctx.principal, format);
    const source = checkSource(v.source ?? current?.source);
    const queries = await resolveSource(sourceDeps(deps), ctx.principal, source);
    if (queries.length !== 1) throw new UserError('BAD_USER_INPUT', 'a schedule delivers one query: give the dashboard widget (widgetId)');
    const { compareTo: _c, ...one } = queries[0].query;
    deps.query.prepare(ctx.principal, one);
    const destinations = checkDestinations(v.destinations ?? current?.destinations);
    return { cron: String(cronText), timezone: String(timezone), next: cron.nextRun() as Date, format, source, destinations };
  }

  async function create(ctx: RequestContext, v: ScheduleInputValue): Promise<ScheduleRecord> {
    const c = await check(ctx, v);
    const name = typeof v.name === 'string' && v.name.trim() ? v.name.trim().slice(0, 200) : 'Scheduled report';
    const input: ScheduleInput = {
      tenantId: ctx.principal.tenantId,
      owner: ctx.principal.subject,
      ownerEmail: v.ownerEmail ?? ctx.principal.email ?? null,
      name,
      source: c.source as unknown as Record<string, unknown>,
      format: c.format,
      cron: c.cron,
      timezone: c.timezone,
      destinations: c.destinations as unknown as Record<string, unknown>[],
      nextRunAt: c.next,
      runAs: runAsOf(ctx.principal),
      enabled: v.enabled ?? true,
    };
    const s = await store.reports.createSchedule(input);
    auditReport(deps, ctx, { action: 'schedule.create', target: s.id, after: publicSchedule(s) });
    return s;
  }

  async function update(ctx: RequestContext, id: string, v: ScheduleInputValue): Promise<ScheduleRecord> {
    const before = await store.reports.getSchedule(ctx.principal.tenantId, id);
    if (!before) throw new UserError('NOT_FOUND', `schedule "${id}" not found`, { id });
    const c = await check(ctx, v, before);
    const s = await store.reports.updateSchedule(ctx.principal.tenantId, id, {
      name: v.name,
      source: c.source as unknown as Record<string, unknown>,
      format: c.format,
      cron: c.cron,
      timezone: c.timezone,
      destinations: c.destinations as unknown as Record<string, unknown>[],
      enabled: v.enabled,
      ownerEmail: v.ownerEmail ?? undefined,
      nextRunAt: c.next,
    });
    if (!s) throw new UserError('NOT_FOUND', `schedule "${id}" not found`, { id });
    auditReport(deps, ctx, { action: 'schedule.update', target: id, before: publicSchedule(before), after: publicSchedule(s) });
    return s;
  }

  async function remove(ctx: RequestContext, id: string): Promise<boolean> {
    const before = await store.reports.getSchedule(ctx.principal.tenantId, id);
    const ok = await store.reports.deleteSchedule(ctx.principal.tenantId, id);
    if (ok && before) auditReport(deps, ctx, { action: 'schedule.delete', target: id, before: publicSchedule(before) });
    return ok;
  }

  /** Called by every instance before it polls the queue: each due time of each schedule becomes one job. */
  async function enqueueDue(now = new Date()): Promise<number> {
    return store.reports.takeDue(
      now,
      20,
      (s) => nextRun(s.cron, s.timezone, new Date(Math.max(now.getTime(), s.nextRunAt.getTime()))) ?? new Date('9999-12-31T00:00:00Z'),
      async (s, tx) => {
        await store.jobs.enqueue(
          {
            kind: SCHEDULE_JOB,
            tenantId: s.tenantId,
            payload: { scheduleId: s.id, dueAt: s.nextRunAt.toISOString() },
            dedupeKey: `schedule:${s.id}:${s.nextRunAt.toISOString()}`,
          },
          tx,
        );
      },
    );
  }

  /** The run job: export, store, deliver, record. */
  async function run(job: JobContext): Promise<unknown> {
    const { scheduleId, dueAt } = job.job.payload as { scheduleId: string; dueAt: string };
    const tenantId = job.job.tenantId as string;
    const s = await store.reports.getSchedule(tenantId, scheduleId);
    if (!s) return { skipped: 'schedule deleted' };
    const run = await store.reports.startRun(tenantId, s.id, new Date(dueAt), job.worker);
    let ctx: RequestContext;
    try {
      ctx = backgroundContext(tenantId, await currentRunAs(deps, tenantId, s.runAs, SCOPES.REPORTS_WRITE), job.signal);
    } catch (e) {
      if (!(e instanceof UserError) || e.code === 'STORE_UNAVAILABLE') throw e; // retried
      return refused(s, run, e);
    }
    const deliveries: Record<string, unknown>[] = [];
    let outcome: { rows?: number; bytes?: number } = {};
    try {
      const controls = await exports.controlsFor(tenantId);
      const format = checkFormat(s.format);
      checkExportAllowed(controls, ctx.principal, format);
      const [q] = await resolveSource(sourceDeps(deps), ctx.principal, checkSource(s.source));
      const written = await exports.produce(ctx, q.query, format, controls, true);
      try {
        outcome = { rows: written.rows, bytes: written.bytes };
        // The file is stored as an export too: links in the email and the webhook point at it.
        const { record, token } = await store.exports.create({
          tenantId,
          createdBy: s.owner,
          source: s.source,
          format,
          fileName: `${slug(s.name)}-${dueAt.slice(0, 10)}.${FORMATS[format].extension}`,
          expiresAt: new Date(Date.now() + controls.linkTtlSeconds * 1000),
        });
        await store.exports.finish(tenantId, record.id, written.file, written);
        const link = exports.linkOf(record.id, token);
        for (const d of s.destinations as unknown as Destination[]) {
          deliveries.push(
            await deliver(d, {
              s,
              run,
              link,
              file: written.file,
              fileName: record.fileName,
              rows: written.rows,
              bytes: written.bytes,
              truncated: written.truncated,
              expiresAt: record.expiresAt,
              signal: job.signal,
            }),
          );
        }
      } finally {
        await rm(written.file, { force: true });
      }
      const failed = deliveries.filter((d) => d.status !== 'delivered');
      if (failed.length > 0) throw new DeliveryError(`${failed.length} of ${deliveries.length} destinations failed: ${failed.map((f) => f.error).join('; ')}`);
      await store.reports.finishRun(tenantId, run.id, { status: 'succeeded', ...outcome, deliveries });
      await store.reports.recordOutcome(tenantId, s.id, true);
      return { runId: run.id, ...outcome };
    } catch (e) {
      if (job.signal.aborted) throw e; // handed back: the next attempt records the run
      const code = (e as { code?: string }).code ?? 'INTERNAL';
      const known = e instanceof UserError || e instanceof DeliveryError;
      const message = known ? e.message : 'the run failed';
      if (!known) logger.warn({ err: (e as Error).message, scheduleId: s.id, tenantId }, 'scheduled run failed');
      await store.reports.finishRun(tenantId, run.id, { status: 'failed', ...outcome, errorCode: code, error: message, deliveries });
      const backoff = settings.failureBackoffMs * 2 ** Math.min(s.failures, 10);
      const after = await store.reports.recordOutcome(tenantId, s.id, false, new Date(Date.now() + Math.min(backoff, 86_400_000)));
      await notifyOwner(s, after?.failures ?? s.failures + 1, message);
      // Recorded: the job itself is done (a retry would deliver again to the destinations that worked).
      return { runId: run.id, failed: code };
    }
  }

  /** The tenant is paused or the author lost access: recorded, nothing delivered, nobody emailed. */
  async function refused(s: ScheduleRecord, run: RunRecord, e: UserError): Promise<unknown> {
    logger.info({ scheduleId: s.id, tenantId: s.tenantId, code: e.code, err: e.message }, 'scheduled run refused');
    await store.reports.finishRun(s.tenantId, run.id, { status: 'failed', errorCode: e.code, error: e.message, deliveries: [] });
    store.audit.record({
      tenantId: s.tenantId,
      subject: s.runAs.subject,
      door: 'reports',
      status: 'denied',
      errorCode: e.code,
      kind: 'refusal',
      action: 'schedule.run',
      target: s.id,
    });
    // A paused tenant's schedules resume as they were; an author without access counts (and backs off).
    if (e.code === 'AUTHOR_ACCESS_REVOKED') {
      const backoff = settings.failureBackoffMs * 2 ** Math.min(s.failures, 10);
      await store.reports.recordOutcome(s.tenantId, s.id, false, new Date(Date.now() + Math.min(backoff, 86_400_000)));
    }
    return { runId: run.id, failed: e.code };
  }

  interface Delivery {
    s: ScheduleRecord;
    run: RunRecord;
    link: string;
    file: string;
    fileName: string;
    rows: number;
    bytes: number;
    truncated: boolean;
    expiresAt: Date;
    signal: AbortSignal;
  }

  async function deliver(d: Destination, x: Delivery): Promise<Record<string, unknown>> {
    try {
      if (d.kind === 'email') {
        if (!deps.mailer) throw new Error('no SMTP server is configured (SMTP_URL)');
        const attach = d.attach !== false && x.bytes <= settings.attachMaxBytes;
        await deps.mailer.send({
          to: d.to,
          subject: `${x.s.name} — ${x.run.dueAt.toISOString().slice(0, 10)}`,
          text: [
            `${x.s.name}: ${x.rows} rows${x.truncated ? ' (cut at your export limit)' : ''}.`,
            attach ? 'The report is attached.' : `Download: ${x.link}`,
            `This link works until ${x.expiresAt.toISOString()}: ${x.link}`,
          ].join('\n'),
          ...(attach ? { attachment: { filename: x.fileName, path: x.file, contentType: FORMATS[x.s.format as keyof typeof FORMATS].contentType } } : {}),
        });
        return { kind: 'email', to: d.to, status: 'delivered', attached: attach };
      }
      const secret = await store.reports.webhookSecret(x.s.tenantId);
      const r = await deliverWebhook(
        {
          url: d.url,
          secret,
          deliveryId: x.run.id,
          payload: {
            event: 'report.delivered',
            schedule: { id: x.s.id, name: x.s.name },
            run: { id: x.run.id, dueAt: x.run.dueAt.toISOString() },
            format: x.s.format,
            rows: x.rows,
            bytes: x.bytes,
            truncated: x.truncated,
            downloadUrl: x.link,
            expiresAt: x.expiresAt.toISOString(),
          },
        },
        { ...settings.webhook, signal: x.signal },
      );
      return { kind: 'webhook', url: d.url, status: 'delivered', httpStatus: r.status, attempts: r.attempts };
    } catch (e) {
      if (x.signal.aborted) throw e;
      return { kind: d.kind, status: 'failed', error: (e as Error).message.slice(0, 500) };
    }
  }

  async function notifyOwner(s: ScheduleRecord, failures: number, message: string): Promise<void> {
    if (!deps.mailer || !s.ownerEmail) return;
    try {
      await deps.mailer.send({
        to: [s.ownerEmail],
        subject: `Scheduled report "${s.name}" failed`,
        text: `Your scheduled report "${s.name}" failed (${failures} time(s) in a row): ${message}\nIt will be tried again later; fix or disable it in Strata.`,
      });
    } catch (e) {
      logger.warn({ err: (e as Error).message, scheduleId: s.id }, 'could not notify the schedule owner');
    }
  }

  return {
    create,
    update,
    remove,
    enqueueDue,
    run,
    get: (ctx: RequestContext, id: string) => store.reports.getSchedule(ctx.principal.tenantId, id),
    list: (ctx: RequestContext) => store.reports.listSchedules(ctx.principal.tenantId),
    runs: (ctx: RequestContext, id: string) => store.reports.listRuns(ctx.principal.tenantId, id),
  };
}

export type Schedules = ReturnType<typeof createSchedules>;

/** What the audit trail keeps of a schedule (no principal scopes). */
function publicSchedule(s: ScheduleRecord) {
  return { name: s.name, source: s.source, format: s.format, cron: s.cron, timezone: s.timezone, destinations: s.destinations, enabled: s.enabled };
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'report'
  );
}
