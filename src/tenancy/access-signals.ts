/**
 * Access signals: "this tenant changed", "this API key was revoked / changed", "this tenant role
 * changed". Postgres triggers (migrations/postgres/0002_tenant_access.sql, 0007 for roles) send them on ACCESS_CHANNEL for every write, whoever
 * makes it, so every instance hears them. A notification comes from the database: trust nothing of its shape.
 */
import { TENANT_ID_PATTERN } from '../auth/principal.js';

export const ACCESS_CHANNEL = 'strata_access';

export type AccessSignal =
  | { readonly kind: 'tenant'; readonly id: string }
  | { readonly kind: 'api_key'; readonly id: string; readonly tenantId?: string }
  /** A tenant's role was created, changed or deleted: `id` is the role's name. */
  | { readonly kind: 'role'; readonly id: string; readonly tenantId: string };

export function parseAccessSignal(payload: string): AccessSignal | null {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const { kind, id, tenantId } = v as Record<string, unknown>;
  if (kind === 'tenant' && typeof id === 'string' && TENANT_ID_PATTERN.test(id)) return { kind, id };
  if (kind === 'role' && typeof id === 'string' && id.length <= 64 && typeof tenantId === 'string' && TENANT_ID_PATTERN.test(tenantId)) {
    return { kind, id, tenantId };
  }
  if (kind === 'api_key' && typeof id === 'string' && id.length <= 64) {
    return typeof tenantId === 'string' && TENANT_ID_PATTERN.test(tenantId) ? { kind, id, tenantId } : { kind, id };
  }
  return null;
}
