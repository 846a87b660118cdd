/**
 * The admin surface of the GraphQL door, mounted by server.ts: API keys, dashboards, saved
 * queries, the audit trail, and the small-batch ingestion mutation. The tenant is always the
 * caller's (ctx.strata.principal); no argument names one.
 */
import type { IngestService } from '../../ingest/ingest-service.js';
import { ingestMutation } from '../ingest-mutation.js';
import type { QueryService } from '../../query/types.js';
import type { Store } from '../../store/store.js';
import type { SchemaExtension } from '../build-schema.js';
import { apiKeyExtension } from './api-keys.js';
import { auditExtension } from './audit.js';
import { dashboardExtension } from './dashboards.js';
import { savedQueryExtension } from './saved-queries.js';

export interface AdminDeps {
  readonly store: Store;
  readonly ingest: IngestService;
  readonly query: QueryService;
}

export function adminExtensions(deps: AdminDeps): SchemaExtension[] {
  const { store, query } = deps;
  return [
    apiKeyExtension(store.apiKeys),
    dashboardExtension({ dashboards: store.dashboards, query }),
    savedQueryExtension({ savedQueries: store.savedQueries, query }),
    auditExtension(store.audit),
    ingestMutation(deps.ingest),
  ];
}
