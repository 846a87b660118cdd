/** Every module that adds GraphQL fields beyond the model's, in one list (server and print-schema). */
import {
  auditedApiKeys,
  auditedDashboardLinks,
  auditedDashboards,
  auditedIngest,
  auditedRoles,
  auditedSavedQueries,
  auditedTenants,
  changeRecorder,
} from './audit/changes.js';
import { adminExtensions } from './graphql/admin/extension.js';
import type { SchemaExtension } from './graphql/build-schema.js';
import type { IngestService } from './ingest/ingest-service.js';
import { liveSubscriptions } from './graphql/subscriptions.js';
import type { DashboardLive } from './live/dashboard-live.js';
import type { LiveService } from './live/live-service.js';
import type { QueryService } from './query/types.js';
import type { Model } from './semantic/model.js';
import type { Store } from './store/store.js';
import type { UsageMeter } from './tenancy/usage-meter.js';
import { alertsExtension } from './graphql/admin/alerts.js';
import { reportsExtension } from './graphql/admin/reports.js';
import type { ReportsService } from './reports/service.js';

export interface ExtensionDeps {
  readonly model: Model;
  readonly live: LiveService;
  readonly dashboardLive: DashboardLive;
  readonly store: Store;
  readonly ingest: IngestService;
  readonly query: QueryService;
  /** Monthly usage and quotas (GraphQL `usage`, `platformUsage`). */
  readonly usage?: UsageMeter;
  /** Exports, snapshots, schedules (without it: no reports fields, e.g. unit harnesses). */
  readonly reports?: ReportsService;
}

export function strataExtensions(deps: ExtensionDeps): SchemaExtension[] {
  // Every change made through the admin API is audited by decorators over the repositories.
  const record = changeRecorder(deps.store.audit);
  const store: Store = Object.assign(Object.create(deps.store) as Store, {
    apiKeys: auditedApiKeys(deps.store.apiKeys, record),
    dashboards: auditedDashboards(deps.store.dashboards, record),
    dashboardLinks: auditedDashboardLinks(deps.store.dashboardLinks, record),
    savedQueries: auditedSavedQueries(deps.store.savedQueries, record),
    tenants: auditedTenants(deps.store.tenants, record),
    roles: auditedRoles(deps.store.roles, record),
  });
  return [
    liveSubscriptions(deps.live, deps.model),
    ...adminExtensions({ store, ingest: auditedIngest(deps.ingest, record), query: deps.query, dashboardLive: deps.dashboardLive, usage: deps.usage }),
    ...(deps.reports ? [reportsExtension(deps.reports), alertsExtension(deps.reports)] : []),
  ];
}

/** For printing the SDL: the dependencies are only touched when a resolver runs. */
export function printOnlyExtensions(model: Model): SchemaExtension[] {
  // Any property read yields the same stand-in; only a call (a resolver running) throws.
  const unused: object = new Proxy(() => undefined, {
    get: () => unused,
    apply: () => {
      throw new Error('print-only schema cannot execute');
    },
  });
  return strataExtensions({
    model,
    live: unused as LiveService,
    dashboardLive: unused as DashboardLive,
    store: unused as Store,
    ingest: unused as IngestService,
    query: unused as QueryService,
    reports: unused as ReportsService,
  });
}
