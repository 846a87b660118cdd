/**
 * Per-tenant export controls: the plan's defaults, overridden by the tenant's settings
 * (`settings.exports = {maxRows, formats, requiredScopes, linkTtlSeconds}`, operator-owned like
 * rate limits). Checked before anything runs: a format or a caller the tenant does not allow is
 * EXPORT_NOT_ALLOWED, naming what is allowed.
 */
import type { Principal } from '../auth/principal.js';
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { TenantSettings } from '../store/tenants.js';
import { EXPORT_FORMATS, type ReportFormat } from './formats.js';

export interface ExportControls {
  readonly maxRows: number;
  readonly formats: readonly ReportFormat[];
  /** Scopes a caller needs, all of them, to export (exports:create at least). */
  readonly requiredScopes: readonly string[];
  readonly linkTtlSeconds: number;
}

const ALL = EXPORT_FORMATS;
export const PLAN_EXPORTS: Readonly<Record<string, ExportControls>> = {
  free: { maxRows: 10_000, formats: ['csv', 'ndjson'], requiredScopes: [SCOPES.EXPORTS_CREATE], linkTtlSeconds: 86_400 },
  pro: { maxRows: 1_000_000, formats: ALL, requiredScopes: [SCOPES.EXPORTS_CREATE], linkTtlSeconds: 7 * 86_400 },
  enterprise: { maxRows: 10_000_000, formats: ALL, requiredScopes: [SCOPES.EXPORTS_CREATE], linkTtlSeconds: 30 * 86_400 },
};

export function exportControls(plan: string | undefined, settings: TenantSettings | undefined): ExportControls {
  const base = PLAN_EXPORTS[plan ?? ''] ?? PLAN_EXPORTS.free;
  const own = (settings?.exports ?? {}) as Partial<Record<keyof ExportControls, unknown>>;
  const positive = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : d);
  const formats = Array.isArray(own.formats) ? (own.formats.filter((f) => (ALL as readonly unknown[]).includes(f)) as ReportFormat[]) : base.formats;
  const scopes = Array.isArray(own.requiredScopes) ? own.requiredScopes.filter((s): s is string => typeof s === 'string') : base.requiredScopes;
  return {
    maxRows: positive(own.maxRows, base.maxRows),
    formats,
    requiredScopes: scopes.includes(SCOPES.EXPORTS_CREATE) ? scopes : [SCOPES.EXPORTS_CREATE, ...scopes],
    linkTtlSeconds: positive(own.linkTtlSeconds, base.linkTtlSeconds),
  };
}

export function checkExportAllowed(controls: ExportControls, principal: Principal, format: ReportFormat): void {
  const missing = controls.requiredScopes.filter((s) => !principal.scopes.has(s));
  if (missing.length > 0) {
    throw new UserError('EXPORT_NOT_ALLOWED', `exports need the scopes ${missing.map((s) => `"${s}"`).join(', ')}`, { missingScopes: missing });
  }
  if (!controls.formats.includes(format)) {
    throw new UserError('EXPORT_NOT_ALLOWED', `your plan does not allow ${format.toUpperCase()} exports (allowed: ${controls.formats.join(', ')})`, {
      format,
      formats: controls.formats,
    });
  }
}
