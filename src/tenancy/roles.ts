/**
 * Token `roles` resolved through the tenant's own definitions first, then the built-in ones
 * (auth/principal.ts ROLE_SCOPES). A tenant role grants only tenant scopes (never platform:*).
 * Definitions are cached per tenant (TTL, bounded) and dropped on a role signal (access-watch.ts);
 * during a store outage the last known definitions are used, with none STORE_UNAVAILABLE.
 */
import { expandScopes, type Principal, TENANT_SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { RoleRepo } from '../store/roles.js';
import { storeUnavailableError } from './directory.js';

export type RoleDefinitions = ReadonlyMap<string, readonly string[]>;

export interface RoleResolver {
  /** The principal with its roles resolved through its tenant's definitions (unchanged when it has no roles). */
  resolve(principal: Principal): Promise<Principal>;
  /** The tenant's definitions now, from the store (the access watch re-checks open sessions with it). */
  reload(tenantId: string): Promise<RoleDefinitions>;
  invalidate(tenantId: string): void;
}

export function createRoleResolver(options: { roles: Pick<RoleRepo, 'definitions'>; ttlMs?: number; maxEntries?: number; now?: () => number }): RoleResolver {
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { defs: RoleDefinitions; at: number }>();

  const reload = async (tenantId: string): Promise<RoleDefinitions> => {
    const raw = await options.roles.definitions(tenantId);
    const defs = new Map([...raw].map(([name, scopes]) => [name, scopes.filter((s) => TENANT_SCOPES.has(s))] as const));
    cache.delete(tenantId);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(tenantId, { defs, at: now() });
    return defs;
  };

  return {
    async resolve(principal) {
      if (principal.roles.length === 0) return principal;
      const hit = cache.get(principal.tenantId);
      let defs: RoleDefinitions;
      if (hit && now() - hit.at < ttl) defs = hit.defs;
      else {
        try {
          defs = await reload(principal.tenantId);
        } catch (e) {
          if (!hit) throw e instanceof UserError ? e : storeUnavailableError();
          defs = hit.defs;
        }
      }
      return withTenantRoles(principal, defs);
    },
    reload,
    invalidate(tenantId) {
      cache.delete(tenantId);
    },
  };
}

/** The principal's scopes under these definitions (the same object when they change nothing). */
export function withTenantRoles(principal: Principal, defs: RoleDefinitions): Principal {
  if (!principal.roles.some((r) => defs.has(r))) return principal;
  const scopes = expandScopes(principal.grantedScopes ?? [], principal.roles, defs);
  return Object.freeze({ ...principal, scopes });
}

/** Whether the principal's scopes are still what its roles grant under these definitions. */
export function sameGrant(principal: Principal, defs: RoleDefinitions): boolean {
  const now = expandScopes(principal.grantedScopes ?? [], principal.roles, defs);
  return now.size === principal.scopes.size && [...now].every((s) => principal.scopes.has(s));
}
