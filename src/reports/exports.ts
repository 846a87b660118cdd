/**
 * Exports: checked against the tenant's controls, then run as a job of the durable queue (so a
 * crash retries it and any instance may run it); the caller waits a little and gets the link, or
 * PENDING and polls. The file goes to the store in chunks and is served by any instance through
 * an expiring link bound to the export's tenant. Creation and every download are audited.
 */
import { mkdir, rm } from 'node:fs/promises';
import { type ErrorCode, UserError } from '../errors.js';
import type { RequestContext } from '../query/types.js';
import type { ExportRecord } from '../store/report-exports.js';
import type { RunAs } from '../store/report-schedules.js';
import { checkExportAllowed, exportControls, type ExportControls } from './controls.js';
import { auditReport, backgroundContext, type ReportsDeps, runAsOf } from './deps.js';
import { writeExportFile } from './files.js';
import { checkFormat, FORMATS, type ReportFormat } from './formats.js';
import { checkSource, resolveSource, type ReportSource } from './sources.js';
import { PermanentJobError, type JobContext } from '../jobs/runner.js';

export const EXPORT_JOB = 'report.export';

export interface ExportView extends ExportRecord {
  /** Only right after creation (the token is stored hashed): the link to give out. */
  readonly downloadUrl?: string;
}

export interface ExportInput {
  readonly source: unknown;
  readonly format: unknown;
  /** Over the row cap: deliver the first rows with truncated = true instead of refusing. */
  readonly truncate?: boolean;
}

interface ExportPayload {
  readonly exportId: string;
  readonly tenantId: string;
  readonly runAs: RunAs;
  readonly source: ReportSource;
  readonly format: ReportFormat;
  readonly truncate: boolean;
}

export function createExports(deps: ReportsDeps) {
  const { store, settings } = deps;
  const linkOf = (id: string, token: string) => `${deps.publicUrl()}/v1/exports/${id}/download?token=${token}`;

  async function controlsFor(tenantId: string): Promise<ExportControls> {
    const tenant = await store.tenants.get(tenantId);
    return exportControls(tenant?.plan, tenant?.settings);
  }

  /** Checks everything a caller can get wrong before a job exists: format, controls, source, query. */
  async function prepare(ctx: RequestContext, input: ExportInput): Promise<{ source: ReportSource; format: ReportFormat; controls: ExportControls }> {
    const format = checkFormat(input.format);
    const controls = await controlsFor(ctx.principal.tenantId);
    checkExportAllowed(controls, ctx.principal, format);
    const source = checkSource(input.source);
    const queries = await resolveSource(sourceDeps(deps), ctx.principal, source);
    if (queries.length !== 1) throw new UserError('BAD_USER_INPUT', 'an export reads one query: give the dashboard widget (widgetId) to export');
    deps.query.prepare(ctx.principal, stripCompare(queries[0].query));
    return { source, format, controls };
  }

  async function create(ctx: RequestContext, input: ExportInput, wait = true): Promise<ExportView> {
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(ctx, input);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EXPORT_NOT_ALLOWED' || code === 'FORBIDDEN')
        auditReport(deps, ctx, { action: 'export.create', kind: 'refusal', status: 'denied', errorCode: code });
      throw e;
    }
    const { source, format, controls } = prepared;
    const { record, token } = await store.exports.create({
      tenantId: ctx.principal.tenantId,
      createdBy: ctx.principal.subject,
      source: source as unknown as Record<string, unknown>,
      format,
      fileName: `export-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.${FORMATS[format].extension}`,
      expiresAt: new Date(Date.now() + controls.linkTtlSeconds * 1000),
    });
    const payload: ExportPayload = {
      exportId: record.id,
      tenantId: record.tenantId,
      runAs: runAsOf(ctx.principal),
      source,
      format,
      truncate: input.truncate === true,
    };
    await store.jobs.enqueue({
      kind: EXPORT_JOB,
      tenantId: record.tenantId,
      payload: payload as unknown as Record<string, unknown>,
      dedupeKey: `export:${record.id}`,
    });
    deps.poke?.();
    auditReport(deps, ctx, { action: 'export.create', kind: 'read', target: record.id, after: { format, source, truncate: payload.truncate } });
    const done = wait ? await waitFor(ctx.principal.tenantId, record.id, settings.exportWaitMs) : record;
    // Refused while the caller waited (over the cap, a scope): a coded error, as if it had run inline.
    if (done?.status === 'failed' && done.errorCode && done.errorCode !== 'INTERNAL') {
      throw new UserError(done.errorCode as ErrorCode, done.error ?? 'the export failed', { id: done.id });
    }
    return { ...(done ?? record), downloadUrl: linkOf(record.id, token) };
  }

  async function waitFor(tenantId: string, id: string, ms: number): Promise<ExportRecord | null> {
    const until = Date.now() + ms;
    for (;;) {
      const r = await store.exports.get(tenantId, id);
      if (r?.status !== 'pending' || Date.now() >= until) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** The job: write the file as the principal who asked, store it, mark the export ready (or failed, for good, on a user error). */
  async function run(job: JobContext): Promise<unknown> {
    const p = job.job.payload as unknown as ExportPayload;
    const ctx = backgroundContext(p.tenantId, p.runAs, job.signal);
    try {
      const controls = await controlsFor(p.tenantId);
      checkExportAllowed(controls, ctx.principal, p.format);
      const [q] = await resolveSource(sourceDeps(deps), ctx.principal, p.source);
      const written = await produce(ctx, q.query, p.format, controls, p.truncate);
      try {
        await store.exports.finish(p.tenantId, p.exportId, written.file, written);
      } finally {
        await rm(written.file, { force: true });
      }
      return { rows: written.rows, bytes: written.bytes, truncated: written.truncated };
    } catch (e) {
      if (e instanceof UserError) {
        await store.exports.failed(p.tenantId, p.exportId, { code: e.code, message: e.message });
        throw new PermanentJobError(e.message);
      }
      if (job.job.attempts >= job.job.maxAttempts) await store.exports.failed(p.tenantId, p.exportId, { code: 'INTERNAL', message: 'the export failed' });
      throw e;
    }
  }

  /** A file for this query under the tenant's controls (schedules use it too). */
  async function produce(
    ctx: RequestContext,
    query: import('../semantic/query.js').SemanticQuery,
    format: ReportFormat,
    controls: ExportControls,
    truncate: boolean,
  ) {
    await mkdir(settings.workDir, { recursive: true });
    return writeExportFile(deps.query, ctx, stripCompare(query), format, {
      dir: settings.workDir,
      maxRows: controls.maxRows,
      truncate,
      timeoutMs: settings.exportTimeoutMs,
    });
  }

  /** A link's download: the export and its chunks; LINK_EXPIRED past its lifetime; audited. */
  async function download(id: string, token: string, caller?: RequestContext): Promise<{ record: ExportRecord; body: AsyncIterable<Uint8Array> }> {
    const record = await store.exports.byLink(id, token);
    // Bound to its tenant: a signed-in caller of another tenant is told nothing more than a stranger.
    if (!record || (caller && caller.principal.tenantId !== record.tenantId)) throw new UserError('NOT_FOUND', 'no such export link');
    const who = caller ?? { tenantId: record.tenantId, subject: 'link' };
    if (record.expiresAt.getTime() <= Date.now()) {
      auditReport(deps, who, { action: 'export.download', kind: 'refusal', status: 'denied', errorCode: 'LINK_EXPIRED', target: id });
      throw new UserError('LINK_EXPIRED', `this download link expired at ${record.expiresAt.toISOString()}`, { expiredAt: record.expiresAt.toISOString() });
    }
    if (record.status === 'pending') throw new UserError('CONFLICT', 'the export is still running; try again shortly', { retryAfterSeconds: 2 });
    if (record.status === 'failed') throw new UserError('NOT_FOUND', `the export failed: ${record.error ?? 'unknown error'}`);
    auditReport(deps, who, { action: 'export.download', kind: 'read', target: id, rows: record.rows });
    return { record, body: store.exports.chunks(record.tenantId, record.id) };
  }

  return {
    create,
    run,
    produce,
    download,
    controlsFor,
    get: (ctx: RequestContext, id: string) => store.exports.get(ctx.principal.tenantId, id),
    list: (ctx: RequestContext) => store.exports.list(ctx.principal.tenantId),
    linkOf,
  };
}

export type Exports = ReturnType<typeof createExports>;

export function sourceDeps(deps: ReportsDeps) {
  return { savedQueries: deps.store.savedQueries, dashboards: deps.store.dashboards, views: deps.query };
}

/** A file holds one period: a comparison of a saved query or a dashboard view is dropped for files. */
function stripCompare<T extends { compareTo?: unknown }>(q: T): Omit<T, 'compareTo'> {
  const { compareTo: _c, ...rest } = q;
  return rest;
}
