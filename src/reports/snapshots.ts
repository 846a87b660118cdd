/**
 * Snapshots: a saved query's or a dashboard's results frozen at a moment, with the parameters they
 * ran with, stored per tenant and read back unchanged. Comparing a snapshot with now (the same
 * source run again) or with another snapshot matches rows on their dimension values and gives each
 * measure's change with the comparison semantics of query/compare.ts (a missing row is 0 for
 * count/sum measures, otherwise null; percent change is null on a base of 0).
 */
import { UserError } from '../errors.js';
import { changes, isZeroWhenEmpty } from '../query/compare.js';
import type { CellValue, ComparisonRow, RequestContext } from '../query/types.js';
import type { SnapshotRecord } from '../store/report-schedules.js';
import { auditReport, type ReportsDeps } from './deps.js';
import { sourceDeps } from './exports.js';
import { checkSource, resolveSource, type ReportSource } from './sources.js';

/** One query's frozen result inside a snapshot. */
export interface SnapshotEntry {
  readonly key: string;
  readonly title: string;
  /** The query as it ran (relative ranges resolved). */
  readonly query: unknown;
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly rows: readonly Readonly<Record<string, CellValue>>[];
  readonly skipped: readonly unknown[];
}

export interface SnapshotComparison {
  readonly key: string;
  readonly title: string;
  readonly rows: readonly ComparisonRow[];
}

export function createSnapshots(deps: ReportsDeps) {
  const { store, query } = deps;

  async function take(ctx: RequestContext, source: ReportSource): Promise<SnapshotEntry[]> {
    const queries = await resolveSource(sourceDeps(deps), ctx.principal, source);
    return Promise.all(
      queries.map(async (q) => {
        const r = await query.load(ctx, q.query);
        const measures = r.columns.filter((c) => c.kind === 'measure').map((c) => c.key);
        const dimensions = r.columns.filter((c) => c.kind !== 'measure').map((c) => c.key);
        return { key: q.key, title: q.title, query: r.query, measures, dimensions, rows: r.rows, skipped: q.skipped };
      }),
    );
  }

  async function create(ctx: RequestContext, input: { source: unknown; name?: string | null }): Promise<SnapshotRecord> {
    const source = checkSource(input.source);
    if (source.kind === 'query') throw new UserError('BAD_USER_INPUT', 'snapshots are of saved queries and dashboards');
    const results = await take(ctx, source);
    const days = deps.settings.snapshotRetentionDays;
    const snap = await store.reports.createSnapshot({
      tenantId: ctx.principal.tenantId,
      createdBy: ctx.principal.subject,
      name: input.name ?? null,
      source,
      results,
      expiresAt: days > 0 ? new Date(Date.now() + days * 86_400_000) : null,
    });
    auditReport(deps, ctx, { action: 'snapshot.create', target: snap.id, after: { source, name: input.name ?? null } });
    return snap;
  }

  async function get(ctx: RequestContext, id: string): Promise<SnapshotRecord> {
    const snap = await store.reports.getSnapshot(ctx.principal.tenantId, id);
    if (!snap) throw new UserError('NOT_FOUND', `snapshot "${id}" not found`, { id });
    return snap;
  }

  /** `other`: another snapshot's id, or undefined for "now" (the snapshot's source run again). */
  async function compare(ctx: RequestContext, id: string, other?: string): Promise<SnapshotComparison[]> {
    const base = await get(ctx, id);
    const against = other ? ((await get(ctx, other)).results as SnapshotEntry[]) : await take(ctx, base.source as unknown as ReportSource);
    const then = base.results as SnapshotEntry[];
    return then.map((entry) => {
      const now = against.find((e) => e.key === entry.key);
      // The newer side is "current": now, or the later snapshot.
      const [cur, prev] = other ? [now?.rows ?? [], entry.rows] : [now?.rows ?? [], entry.rows];
      return { key: entry.key, title: entry.title, rows: matchRows(entry, cur, prev) };
    });
  }

  function matchRows(
    entry: SnapshotEntry,
    cur: readonly Readonly<Record<string, CellValue>>[],
    prev: readonly Readonly<Record<string, CellValue>>[],
  ): ComparisonRow[] {
    const additive = new Map(entry.measures.map((m) => [m, safeZero(m)]));
    const keyOf = (r: Readonly<Record<string, CellValue>>) => JSON.stringify(entry.dimensions.map((d) => r[d] ?? null));
    const dims = (r: Readonly<Record<string, CellValue>>) => Object.fromEntries(entry.dimensions.map((d) => [d, r[d] ?? null]));
    const before = new Map(prev.map((r) => [keyOf(r), r]));
    const out: ComparisonRow[] = cur.map((r) => {
      const p = before.get(keyOf(r));
      before.delete(keyOf(r));
      return { dimensions: dims(r), compareDimensions: p ? dims(p) : null, measures: changes(entry.measures, additive, r, p) };
    });
    for (const p of before.values()) out.push({ dimensions: dims(p), compareDimensions: dims(p), measures: changes(entry.measures, additive, undefined, p) });
    return out;
  }

  function safeZero(member: string): boolean {
    try {
      return isZeroWhenEmpty(query.model, member);
    } catch {
      return false;
    }
  }

  return {
    create,
    get,
    compare,
    list: (ctx: RequestContext) => store.reports.listSnapshots(ctx.principal.tenantId),
    async remove(ctx: RequestContext, id: string) {
      const ok = await store.reports.deleteSnapshot(ctx.principal.tenantId, id);
      if (ok) auditReport(deps, ctx, { action: 'snapshot.delete', target: id });
      return ok;
    },
  };
}

export type Snapshots = ReturnType<typeof createSnapshots>;
