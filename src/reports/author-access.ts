/**
 * Schedules and alerts run as their author with the scopes saved with them — and only while that
 * access still stands. Re-checked at every run, because a run may come months after the save:
 * - the tenant must be served (active / trial): otherwise TENANT_SUSPENDED / TENANT_UNKNOWN, nothing runs;
 * - an API key author must still be a working key (not revoked, not expired): otherwise AUTHOR_ACCESS_REVOKED;
 * - a token author's roles are resolved again through the tenant's current role definitions, and the run
 *   gets the saved scopes that are still granted (never more than at save time, never more than now);
 * - the author must still hold the scope the feature needs (reports:write, alerts:write): a role
 *   narrowed past it is AUTHOR_ACCESS_REVOKED. Members the query needs and the author lost are refused
 *   by the query service (FORBIDDEN), as for any caller.
 * Strata keeps no list of a token's users: a user removed at the identity provider is not seen here
 * (their tokens expire); revoking their role (or deleting the rule) is what stops their runs.
 */
import { expandScopes, TENANT_SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { RunAs } from '../store/report-schedules.js';
import type { ReportsDeps } from './deps.js';

const SERVED = new Set(['active', 'trial']);

/** The tenant is served, or a coded refusal (the tenant is paused: nothing of it runs). */
export async function assertTenantServed(deps: Pick<ReportsDeps, 'store'>, tenantId: string): Promise<void> {
  const tenant = await deps.store.tenants.get(tenantId);
  if (!tenant) throw new UserError('TENANT_UNKNOWN', `tenant "${tenantId}" is not registered: its scheduled runs and alerts do not run`);
  if (!SERVED.has(tenant.status)) throw new UserError('TENANT_SUSPENDED', `tenant "${tenantId}" is ${tenant.status}: its scheduled runs and alerts do not run`);
}

/** The author's access now: the saved RunAs narrowed to what is still granted, or a coded refusal. */
export async function currentRunAs(deps: Pick<ReportsDeps, 'store'>, tenantId: string, runAs: RunAs, needs: string): Promise<RunAs> {
  await assertTenantServed(deps, tenantId);
  const { store } = deps;
  // Saved before `via` was kept: an API key author is one of the tenant's keys (revoked ones included).
  const via = runAs.via ?? ((await store.apiKeys.list(tenantId)).some((k) => k.id === runAs.subject) ? 'api_key' : 'jwt');
  if (via === 'api_key') {
    const active = await store.apiKeys.active([runAs.subject]);
    if (!active.has(runAs.subject))
      throw new UserError('AUTHOR_ACCESS_REVOKED', `the API key that saved this (${runAs.subject}) was revoked or has expired`, { reason: 'api_key_revoked' });
  }
  let scopes = new Set(runAs.scopes);
  if (runAs.roles.length > 0) {
    const raw = await store.roles.definitions(tenantId);
    const defs = new Map([...raw].map(([name, s]) => [name, s.filter((x) => TENANT_SCOPES.has(x))] as const));
    // Saved before grantedScopes were kept: only what the roles grant (the narrower reading).
    const granted = new Set(runAs.grantedScopes ?? []);
    const now = expandScopes(granted, runAs.roles, defs);
    scopes = new Set([...scopes].filter((s) => now.has(s)));
  }
  if (!scopes.has(needs))
    throw new UserError('AUTHOR_ACCESS_REVOKED', `the author (${runAs.subject}) no longer holds ${needs}`, { reason: 'scope_lost', scope: needs });
  return { ...runAs, scopes: [...scopes].sort() };
}
