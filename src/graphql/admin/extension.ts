/**
 * The admin surface of the GraphQL door, mounted by server.ts: API keys, dashboards, saved
 * queries, the audit trail, tenants, users and roles, usage, and the small-batch ingestion mutation. The tenant is always the
 * caller's (ctx.strata.principal); no argument names one.
 */
import type { IngestService } from '../../ingest/ingest-service.js';
import type { DashboardLive } from '../../live/dashboard-live.js';
import { ingestHistory } from '../ingest-history.js';
import { ingestMutation } from '../ingest-mutation.js';
import type { QueryService } from '../../query/types.js';
import type { Store } from '../../store/store.js';
import type { SchemaExtension } from '../build-schema.js';
import { apiKeyExtension } from './api-keys.js';
import { auditExtension } from './audit.js';
import { dashboardLinkExtension } from './dashboard-links.js';
import { dashboardExtension } from './dashboards.js';
import { savedQueryExtension } from './saved-queries.js';
import { tenantExtension } from './tenants.js';
import { usageExtension } from './usage.js';
import { usersAndRolesExtension } from './users-roles.js';
import type { UsageMeter } from '../../tenancy/usage-meter.js';

export interface AdminDeps {
  readonly store: Store;
  readonly ingest: IngestService;
  readonly query: QueryService;
  /** Without it there is no `dashboardLive` subscription (unit harnesses). */
  readonly dashboardLive?: DashboardLive;
  /** Plan quotas shown by `usage` (without it: none shown). */
  readonly usage?: UsageMeter;
}

export function adminExtensions(deps: AdminDeps): SchemaExtension[] {
  const { store, query } = deps;
  return [
    apiKeyExtension(store.apiKeys),
    dashboardExtension({ dashboards: store.dashboards, query, live: deps.dashboardLive }),
    dashboardLinkExtension(store.dashboardLinks),
    savedQueryExtension({ savedQueries: store.savedQueries, query }),
    auditExtension(store.audit),
    tenantExtension(store.tenants),
    usersAndRolesExtension({ roles: store.roles, principals: store.principals }),
    usageExtension({ usage: store.usage, meter: deps.usage, tenants: store.tenants }),
    ingestMutation(deps.ingest),
    ingestHistory(deps.ingest),
  ];
}
