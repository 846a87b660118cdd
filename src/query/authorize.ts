/** Member-level authorization: the one rule every door goes through. */
import { SCOPES, type Principal } from '../auth/principal.js';
import { ForbiddenError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedFilter, NormalizedQuery } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';

/** Every member a query reads, including filter-only and order-only members. */
export function referencedMembers(query: NormalizedQuery): string[] {
  const out = new Set<string>([...query.measures, ...query.dimensions, ...query.segments]);
  for (const td of query.timeDimensions) out.add(td.dimension);
  const walk = (f: NormalizedFilter) => {
    if (f.kind === 'member') out.add(f.member);
    else f.filters.forEach(walk);
  };
  query.filters.forEach(walk);
  // Order keys are members ("cube.member") or time columns ("cube.date.day"): only a third part is a
  // granularity — a dimension may itself be named "quarter".
  for (const [m] of query.order) out.add(m.split('.').length === 3 ? m.replace(/\.(second|minute|hour|day|week|month|quarter|year)$/, '') : m);
  return [...out];
}

export function requiredScopes(model: Model, path: string): readonly string[] {
  const resolved = resolveMember(model, path);
  return resolved.view ? resolved.view.viewMember.scopes : resolved.member.scopes;
}

/** Throws FORBIDDEN naming the first member the principal may not read. */
export function authorizeQuery(model: Model, principal: Principal, query: NormalizedQuery): void {
  if (!principal.scopes.has(SCOPES.METRICS_READ)) {
    throw new ForbiddenError(`reading metrics requires the "${SCOPES.METRICS_READ}" scope`, { scope: SCOPES.METRICS_READ });
  }
  for (const path of referencedMembers(query)) {
    const missing = requiredScopes(model, path).filter((s) => !principal.scopes.has(s));
    if (missing.length > 0) {
      throw new ForbiddenError(`member "${path}" requires scope ${missing.map((s) => `"${s}"`).join(', ')}`, { member: path, scopes: missing });
    }
  }
}

export function canRead(principal: Principal, scopes: readonly string[]): boolean {
  return scopes.every((s) => principal.scopes.has(s));
}
