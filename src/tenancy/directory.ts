/**
 * The tenant registry as every door sees it: `admit(tenantId)` after a credential is verified.
 * Unknown -> TENANT_UNKNOWN (or created with the default plan when auto-provisioning is on, logged);
 * suspended / churned -> TENANT_SUSPENDED. Answers are cached (TTL, bounded) and dropped when an
 * access signal says the tenant changed (access-watch.ts); during a store outage a cached answer,
 * even an old one, is used, and with none the request gets STORE_UNAVAILABLE.
 */
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type Tenant, tenantAdmits, type TenantRepo } from '../store/tenants.js';

export interface TenantDirectory {
  /** The caller's tenant when it may be served; throws TENANT_UNKNOWN / TENANT_SUSPENDED / STORE_UNAVAILABLE. */
  admit(tenantId: string): Promise<Tenant>;
  /** The cached tenant (set by admit), however old: rate limits read the plan synchronously. */
  peek(tenantId: string): Tenant | undefined;
  /** Forgets a tenant (it changed). */
  invalidate(tenantId: string): void;
  /** Reads these tenants from the store now (one statement) and caches them; throws when the store fails. */
  reload(tenantIds: readonly string[]): Promise<ReadonlyMap<string, Tenant>>;
}

export interface TenantDirectoryOptions {
  readonly tenants: Pick<TenantRepo, 'get' | 'getMany' | 'ensure'>;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly autoProvision?: boolean;
  readonly defaultPlan?: string;
  /** How long an answer is trusted without a signal. Default 30 s. */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly tenant: Tenant | null;
  readonly at: number;
}

export function tenantUnknownError(tenantId: string): UserError {
  return new UserError('TENANT_UNKNOWN', `tenant "${tenantId}" is not registered`);
}

export function tenantRefusal(tenantId: string, tenant: Tenant | null | undefined): UserError | null {
  if (!tenant) return tenantUnknownError(tenantId);
  return tenantAdmits(tenant.status) ? null : new UserError('TENANT_SUSPENDED', `tenant "${tenantId}" is ${tenant.status}`);
}

export function storeUnavailableError(): UserError {
  return new UserError('STORE_UNAVAILABLE', 'the metadata store is unavailable, retry later', { retryAfterSeconds: 5 });
}

export function createTenantDirectory(options: TenantDirectoryOptions): TenantDirectory {
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const loading = new Map<string, Promise<Tenant | null>>();

  const put = (id: string, tenant: Tenant | null) => {
    cache.delete(id);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(id, { tenant, at: now() });
  };

  const load = (id: string): Promise<Tenant | null> => {
    let p = loading.get(id);
    if (!p) {
      p = (async () => {
        let tenant = await options.tenants.get(id);
        if (!tenant && options.autoProvision) {
          tenant = await options.tenants.ensure({ id, name: id, plan: options.defaultPlan ?? 'free' });
          options.logger.info({ tenantId: id, plan: tenant.plan }, 'tenant auto-provisioned on first sight');
        }
        put(id, tenant);
        return tenant;
      })().finally(() => loading.delete(id));
      loading.set(id, p);
    }
    return p;
  };

  return {
    async admit(tenantId) {
      const hit = cache.get(tenantId);
      let tenant: Tenant | null;
      if (hit && now() - hit.at < ttl) tenant = hit.tenant;
      else {
        try {
          tenant = await load(tenantId);
        } catch (e) {
          if (!hit) throw e instanceof UserError ? e : storeUnavailableError();
          options.logger.warn({ tenantId, err: (e as Error).message }, 'tenant lookup failed; using the last known answer');
          tenant = hit.tenant;
        }
      }
      const refusal = tenantRefusal(tenantId, tenant);
      if (refusal) throw refusal;
      return tenant as Tenant;
    },
    peek: (tenantId) => cache.get(tenantId)?.tenant ?? undefined,
    invalidate(tenantId) {
      cache.delete(tenantId);
    },
    async reload(tenantIds) {
      const found = new Map((await options.tenants.getMany(tenantIds)).map((t) => [t.id, t] as const));
      for (const id of tenantIds) put(id, found.get(id) ?? null);
      return found;
    },
  };
}
