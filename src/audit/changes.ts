/**
 * The audit of changes, as decorators over the repositories and services that change things: API
 * keys, dashboards, saved queries, tenants, roles, ingestion batches. Each change is recorded with
 * the actor, the object before and after (never a secret), and the request it came in (request id,
 * client address, user agent: edge/request-scope.ts, set by the door). The repositories themselves
 * stay unaware of auditing: one hook here instead of a line in every resolver.
 */
import type { Principal } from '../auth/principal.js';
import { currentRequest } from '../edge/request-scope.js';
import type { IngestService } from '../ingest/ingest-service.js';
import type { ApiKeyRepo } from '../store/api-keys.js';
import type { AuditLog } from '../store/audit.js';
import type { DashboardLinkRepo } from '../store/dashboard-links.js';
import type { DashboardRepo } from '../store/dashboards.js';
import type { RoleRepo } from '../store/roles.js';
import type { SavedQueryRepo } from '../store/saved-queries.js';
import type { TenantRepo } from '../store/tenants.js';

export interface Change {
  readonly tenantId: string;
  readonly action: string;
  readonly target?: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
  /** Who, when no request is in scope (CLI, background work). */
  readonly subject?: string;
}

export type ChangeRecorder = (change: Change) => void;

/** Records one change in the audit trail, with the request in scope (if any). Never throws. */
export function changeRecorder(audit: Pick<AuditLog, 'record'>): ChangeRecorder {
  return (c) => {
    const ctx = currentRequest();
    try {
      audit.record({
        tenantId: c.tenantId,
        subject: ctx?.principal.subject ?? c.subject ?? 'system',
        door: ctx?.door ?? 'internal',
        status: 'ok',
        kind: 'change',
        action: c.action,
        target: c.target ?? null,
        before: c.before ?? null,
        after: c.after ?? null,
        clientAddress: ctx?.clientAddress ?? null,
        requestId: ctx?.requestId ?? null,
        userAgent: ctx?.userAgent ?? null,
      });
    } catch {
      // the audit log never throws; nothing to do
    }
  };
}

export function auditedApiKeys(repo: ApiKeyRepo, record: ChangeRecorder): ApiKeyRepo {
  return {
    ...repo,
    async create(tenantId, input) {
      const out = await repo.create(tenantId, input);
      record({ tenantId, action: 'api_key.create', target: out.key.id, after: out.key, subject: input.createdBy });
      return out;
    },
    async revoke(tenantId, id) {
      const before = (await repo.list(tenantId)).find((k) => k.id === id) ?? null;
      const ok = await repo.revoke(tenantId, id);
      if (ok) record({ tenantId, action: 'api_key.revoke', target: id, before, after: { ...before, revokedAt: new Date() } });
      return ok;
    },
  };
}

export function auditedDashboards(repo: DashboardRepo, record: ChangeRecorder): DashboardRepo {
  return {
    ...repo,
    async create(actor, input) {
      const d = await repo.create(actor, input);
      record({ tenantId: actor.tenantId, action: 'dashboard.create', target: d.id, after: d, subject: actor.subject });
      return d;
    },
    async update(actor, id, change) {
      const before = await repo.get(actor, id).catch(() => null);
      const d = await repo.update(actor, id, change);
      record({ tenantId: actor.tenantId, action: 'dashboard.update', target: id, before, after: d, subject: actor.subject });
      return d;
    },
    async delete(actor, id) {
      const before = await repo.get(actor, id).catch(() => null);
      const ok = await repo.delete(actor, id);
      if (ok) record({ tenantId: actor.tenantId, action: 'dashboard.delete', target: id, before, subject: actor.subject });
      return ok;
    },
    async share(actor, id, change) {
      const before = await repo.shares(actor, id).catch(() => null);
      const d = await repo.share(actor, id, change);
      record({ tenantId: actor.tenantId, action: 'dashboard.share', target: id, before: { shares: before }, after: change, subject: actor.subject });
      return d;
    },
  };
}

export function auditedSavedQueries(repo: SavedQueryRepo, record: ChangeRecorder): SavedQueryRepo {
  return {
    ...repo,
    async create(actor, input) {
      const q = await repo.create(actor, input);
      record({ tenantId: actor.tenantId, action: 'saved_query.create', target: q.id, after: q, subject: actor.subject });
      return q;
    },
    async update(actor, id, change) {
      const before = await repo.get(actor, id).catch(() => null);
      const q = await repo.update(actor, id, change);
      record({ tenantId: actor.tenantId, action: 'saved_query.update', target: id, before, after: q, subject: actor.subject });
      return q;
    },
    async delete(actor, id) {
      const before = await repo.get(actor, id).catch(() => null);
      const ok = await repo.delete(actor, id);
      if (ok) record({ tenantId: actor.tenantId, action: 'saved_query.delete', target: id, before, subject: actor.subject });
      return ok;
    },
    async share(actor, id, change) {
      const before = await repo.shares(actor, id).catch(() => null);
      const q = await repo.share(actor, id, change);
      record({ tenantId: actor.tenantId, action: 'saved_query.share', target: id, before: { shares: before }, after: change, subject: actor.subject });
      return q;
    },
  };
}

/** Tenant changes go to the changed tenant's trail (an operator's action on it is its business too). */
export function auditedTenants(repo: TenantRepo, record: ChangeRecorder): TenantRepo {
  return {
    ...repo,
    async ensure(input) {
      const before = await repo.get(input.id);
      const t = await repo.ensure(input);
      if (!before) record({ tenantId: t.id, action: 'tenant.create', target: t.id, after: t });
      return t;
    },
    async upsert(input) {
      const before = await repo.get(input.id);
      const t = await repo.upsert(input);
      record({ tenantId: t.id, action: before ? 'tenant.update' : 'tenant.create', target: t.id, before, after: t });
      return t;
    },
    async update(id, patch) {
      const before = await repo.get(id);
      const t = await repo.update(id, patch);
      if (t) record({ tenantId: id, action: 'tenant.update', target: id, before, after: t });
      return t;
    },
  };
}

export function auditedRoles(repo: RoleRepo, record: ChangeRecorder): RoleRepo {
  return {
    ...repo,
    async put(tenantId, input) {
      const out = await repo.put(tenantId, input);
      record({
        tenantId,
        action: out.before ? 'role.update' : 'role.create',
        target: input.name,
        before: out.before,
        after: out.role,
        subject: input.createdBy,
      });
      return out;
    },
    async delete(tenantId, name) {
      const before = await repo.delete(tenantId, name);
      if (before) record({ tenantId, action: 'role.delete', target: name, before });
      return before;
    },
  };
}

/** Ingestion batches (HTTP door and GraphQL mutation) and their quarantine resolutions. */
export function auditedIngest(service: IngestService, record: ChangeRecorder): IngestService {
  const who = (p: Principal) => ({ tenantId: p.tenantId, subject: p.subject });
  return {
    ...service,
    async ingest(principal, table, rows, batchId, options) {
      const report = await service.ingest(principal, table, rows, batchId, options);
      const { rejected: _r, ...summary } = report as typeof report & { rejected?: unknown };
      record({ ...who(principal), action: 'ingest.batch', target: `${table}:${(report as { batchId?: string }).batchId ?? batchId ?? ''}`, after: summary });
      return report;
    },
    async replay(principal, batchId, fixes) {
      const out = await service.replay(principal, batchId, fixes);
      record({ ...who(principal), action: 'ingest.replay', target: batchId, after: { lines: fixes.length } });
      return out;
    },
    async discard(principal, batchId, lines) {
      const n = await service.discard(principal, batchId, lines);
      record({ ...who(principal), action: 'ingest.discard', target: batchId, after: { lines: lines.length, discarded: n } });
      return n;
    },
    async deleteRows(principal, dimension, value) {
      const out = await service.deleteRows(principal, dimension, value);
      record({ ...who(principal), action: 'ingest.delete_rows', target: `${dimension}:${value}`, after: { deleted: out.deleted, tables: out.tables } });
      return out;
    },
  };
}

/** Share links: made and revoked (opened: the link door records it). The token is never recorded. */
export function auditedDashboardLinks(repo: DashboardLinkRepo, record: ChangeRecorder): DashboardLinkRepo {
  return {
    ...repo,
    async create(actor, dashboardId, input) {
      const out = await repo.create(actor, dashboardId, input);
      record({ tenantId: actor.tenantId, action: 'dashboard_link.create', target: out.link.id, after: out.link, subject: actor.subject });
      return out;
    },
    async revoke(actor, linkId) {
      const ok = await repo.revoke(actor, linkId);
      if (ok) record({ tenantId: actor.tenantId, action: 'dashboard_link.revoke', target: linkId, subject: actor.subject });
      return ok;
    },
  };
}
