/**
 * Sharing keys. A live query is shared only between subscribers with the same tenant, the same
 * scope set and the same canonical normalized query: the shared result is computed with a
 * principal of exactly that tenant and scope set, so it is exactly what each of them may see.
 */
import type { Principal } from '../auth/principal.js';
import { canonicalJson } from '../query/canonical.js';
import type { NormalizedQuery, SemanticQuery } from '../semantic/query.js';

export function scopeKey(scopes: ReadonlySet<string>): string {
  return [...scopes].sort().join(' ');
}

export function groupKeyOf(principal: Principal): string {
  return `${principal.tenantId}\u0000${scopeKey(principal.scopes)}`;
}

/**
 * Relative date ranges ("last 7 days") are resolved at normalization, so two queries that
 * normalize alike today may differ tomorrow: those also key on their raw text.
 */
export function hasRelativeDates(query: SemanticQuery): boolean {
  return (query.timeDimensions ?? []).some((t) => typeof t.dateRange === 'string' || (t.compareDateRange ?? []).some((r) => typeof r === 'string'));
}

export function liveKey(principal: Principal, normalized: NormalizedQuery, raw: SemanticQuery): string {
  const rel = hasRelativeDates(raw) ? `\u0000${canonicalJson(raw)}` : '';
  return `${groupKeyOf(principal)}\u0000${canonicalJson(normalized)}${rel}`;
}

/** The principal shared evaluations run as: the tenant and scope set, nothing personal. */
export function evaluationPrincipal(principal: Principal): Principal {
  return Object.freeze({
    tenantId: principal.tenantId,
    scopes: new Set(principal.scopes) as ReadonlySet<string>,
    subject: 'live',
    via: principal.via,
    roles: [],
  });
}
