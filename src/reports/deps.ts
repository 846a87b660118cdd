/** What the reports service is built from (services.ts wires it), and the helpers its parts share. */
import type { Principal } from '../auth/principal.js';
import { createRequestContext } from '../edge/context.js';
import type { Logger } from '../logger.js';
import type { StrataQueryService } from '../query/query-service.js';
import type { RequestContext } from '../query/types.js';
import type { AuditEntry } from '../store/audit.js';
import type { Store } from '../store/store.js';
import type { RunAs } from '../store/report-schedules.js';
import type { Mailer } from './destinations/email.js';

export interface ReportsSettings {
  /** Where export files are written before they are stored (and attached). */
  readonly workDir: string;
  /** An export mutation waits this long for its job before answering PENDING. */
  readonly exportWaitMs: number;
  readonly exportTimeoutMs: number;
  /** Attach files up to this size to emails; link larger ones. */
  readonly attachMaxBytes: number;
  readonly webhook: { readonly attempts: number; readonly retryBaseMs: number; readonly timeoutMs: number };
  readonly minScheduleIntervalSeconds: number;
  /** A failing schedule waits base * 2^(failures-1) (at most a day) past its next time. */
  readonly failureBackoffMs: number;
  readonly snapshotRetentionDays: number;
}

export interface ReportsDeps {
  readonly store: Pick<Store, 'jobs' | 'exports' | 'reports' | 'alerts' | 'savedQueries' | 'dashboards' | 'tenants' | 'audit' | 'apiKeys' | 'roles'>;
  readonly query: StrataQueryService;
  readonly logger: Logger;
  readonly settings: ReportsSettings;
  /** Undefined: no SMTP configured (email destinations fail their runs, saying so). */
  readonly mailer?: Mailer;
  /** Base of download links in emails and webhooks (no trailing slash); known once the server listens. */
  readonly publicUrl: () => string;
  /** Wakes the local job runner after an enqueue. */
  readonly poke?: () => void;
}

export function runAsOf(p: Principal): RunAs {
  return {
    subject: p.subject,
    scopes: [...p.scopes].sort(),
    roles: [...p.roles],
    via: p.via,
    grantedScopes: [...(p.grantedScopes ?? (p.roles.length === 0 ? p.scopes : []))].sort(),
  };
}

/** Background work is a caller like any other: it reads as the principal that asked for it. */
export function backgroundContext(tenantId: string, runAs: RunAs, signal?: AbortSignal): RequestContext {
  const principal: Principal = { tenantId, subject: runAs.subject, scopes: new Set(runAs.scopes), roles: runAs.roles, via: runAs.via ?? 'jwt' };
  return createRequestContext({ door: 'reports', principal, signal, userAgent: 'strata-reports' });
}

/** Audit entries of reports (never throws: the store's record() buffers). */
export function auditReport(
  deps: ReportsDeps,
  ctx: RequestContext | { tenantId: string; subject: string },
  entry: Partial<AuditEntry> & { action: string },
): void {
  const who =
    'principal' in ctx
      ? { tenantId: ctx.principal.tenantId, subject: ctx.principal.subject, requestId: ctx.requestId, clientAddress: ctx.clientAddress ?? null }
      : ctx;
  deps.store.audit.record({ door: 'reports', status: 'ok', kind: 'change', ...who, ...entry });
}
