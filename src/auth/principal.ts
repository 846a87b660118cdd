/** Who is asking: the only source of tenant and scopes for every door. */
export interface Principal {
  readonly tenantId: string;
  readonly scopes: ReadonlySet<string>;
  /** JWT `sub`, API key id, or "cli". */
  readonly subject: string;
  readonly via: 'jwt' | 'api_key' | 'cli' | 'link';
  readonly roles: readonly string[];
  /** Epoch seconds; subscriptions close when it passes. */
  readonly expiresAt?: number;
  /** The scopes the credential itself carries (before roles): tenant roles re-resolve from them. */
  readonly grantedScopes?: ReadonlySet<string>;
  /** `name` / `email` claims when the token has them (the tenant's record of its users). */
  readonly name?: string;
  readonly email?: string;
}

/** What a tenant id looks like everywhere (JWT claim, tenants table, API keys): "acme", "globex-eu". */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Scope vocabulary. Every data read needs METRICS_READ; members may require more. */
export const SCOPES = {
  METRICS_READ: 'metrics:read',
  FINANCE_READ: 'finance:read',
  CLIENTS_READ: 'clients:read',
  INGEST_WRITE: 'ingest:write',
  DASHBOARDS_WRITE: 'dashboards:write',
  KEYS_ADMIN: 'keys:admin',
  AUDIT_READ: 'audit:read',
  /** Read and update your own tenant's settings. */
  TENANT_ADMIN: 'tenant:admin',
  /** Export query results as files (CSV, XLSX, Parquet, NDJSON). */
  EXPORTS_CREATE: 'exports:create',
  /** Snapshots and scheduled deliveries. */
  REPORTS_WRITE: 'reports:write',
  /** Metric alerts. */
  ALERTS_WRITE: 'alerts:write',
} as const;

/**
 * Operator scopes: the platform, not a tenant. Held by operators' credentials only (no role grants
 * them); they read and change the tenant registry and the metrics, never a tenant's data.
 */
export const PLATFORM_SCOPES = {
  ADMIN: 'platform:admin',
  METRICS: 'platform:metrics',
} as const;

/** Roles the platforms use, expanded to scopes. */
export const ROLE_SCOPES: Readonly<Record<string, readonly string[]>> = {
  viewer: [SCOPES.METRICS_READ],
  analyst: [
    SCOPES.METRICS_READ,
    SCOPES.FINANCE_READ,
    SCOPES.CLIENTS_READ,
    SCOPES.DASHBOARDS_WRITE,
    SCOPES.EXPORTS_CREATE,
    SCOPES.REPORTS_WRITE,
    SCOPES.ALERTS_WRITE,
  ],
  tenant_admin: [
    SCOPES.METRICS_READ,
    SCOPES.FINANCE_READ,
    SCOPES.CLIENTS_READ,
    SCOPES.DASHBOARDS_WRITE,
    SCOPES.INGEST_WRITE,
    SCOPES.KEYS_ADMIN,
    SCOPES.AUDIT_READ,
    SCOPES.TENANT_ADMIN,
    SCOPES.EXPORTS_CREATE,
    SCOPES.REPORTS_WRITE,
    SCOPES.ALERTS_WRITE,
  ],
  super_admin: Object.values(SCOPES),
};

export function expandScopes(scopes: Iterable<string>, roles: Iterable<string>, tenantRoles?: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set(scopes);
  // A tenant's own definition of a role wins over the built-in one of the same name.
  for (const role of roles) for (const s of tenantRoles?.get(role) ?? ROLE_SCOPES[role] ?? []) out.add(s);
  return out;
}

/** Scopes a tenant's own role may grant: the tenant vocabulary, never a platform scope. */
export const TENANT_SCOPES: ReadonlySet<string> = new Set(Object.values(SCOPES));

export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  return required.filter((s) => !principal.scopes.has(s));
}
