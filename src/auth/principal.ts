/** Who is asking: the only source of tenant and scopes for every door. */
export interface Principal {
  readonly tenantId: string;
  readonly scopes: ReadonlySet<string>;
  /** JWT `sub`, API key id, or "cli". */
  readonly subject: string;
  readonly via: 'jwt' | 'api_key' | 'cli';
  readonly roles: readonly string[];
  /** Epoch seconds; subscriptions close when it passes. */
  readonly expiresAt?: number;
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
} as const;

/** Roles the platforms use, expanded to scopes. */
export const ROLE_SCOPES: Readonly<Record<string, readonly string[]>> = {
  viewer: [SCOPES.METRICS_READ],
  analyst: [SCOPES.METRICS_READ, SCOPES.FINANCE_READ, SCOPES.CLIENTS_READ, SCOPES.DASHBOARDS_WRITE],
  tenant_admin: [
    SCOPES.METRICS_READ,
    SCOPES.FINANCE_READ,
    SCOPES.CLIENTS_READ,
    SCOPES.DASHBOARDS_WRITE,
    SCOPES.INGEST_WRITE,
    SCOPES.KEYS_ADMIN,
    SCOPES.AUDIT_READ,
  ],
  super_admin: Object.values(SCOPES),
};

export function expandScopes(scopes: Iterable<string>, roles: Iterable<string>): Set<string> {
  const out = new Set(scopes);
  for (const role of roles) for (const s of ROLE_SCOPES[role] ?? []) out.add(s);
  return out;
}

export function missingScopes(principal: Principal, required: readonly string[]): string[] {
  return required.filter((s) => !principal.scopes.has(s));
}
