/**
 * Prometheus metrics, one registry per server instance (tests start several in one process).
 * No series carries a tenant label: tenant ids are not public, and a label per tenant grows without
 * bound. Per-tenant numbers are in the usage API (GraphQL `usage`, operators' `platformUsage`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'door' | 'operation' | 'status'>;
  readonly requestSeconds: Histogram<'door' | 'operation'>;
  readonly engineQueries: Counter<'status'>;
  /** The server's own upkeep statements (rollup maintenance), apart from those requests cause. */
  readonly upkeepQueries: Counter<'status'>;
  readonly engineSeconds: Histogram<never>;
  /** Semantic queries asked vs SQL statements issued after batching/merging. */
  readonly batchedQueries: Counter<'outcome'>;
  readonly cacheLookups: Counter<'result'>;
  readonly activeSubscriptions: Gauge<never>;
  /** Operator totals of the monthly usage metering (all tenants together). */
  readonly usageQueries: Counter<never>;
  readonly usageRowsRead: Counter<never>;
  readonly usageBytesReturned: Counter<never>;
  /** Refusals the audit trail records, by code (FORBIDDEN, RATE_LIMITED, QUOTA_EXCEEDED, UNAUTHENTICATED, TENANT_SUSPENDED). */
  readonly refusals: Counter<'code'>;
  /** Engine statements waiting for a slot (fair sharing between tenants), and statements that had to wait. */
  readonly engineQueued: Gauge<never>;
  readonly engineWaits: Counter<never>;
  readonly liveEvaluations: Counter<never>;
  readonly livePushes: Counter<never>;
  readonly ingestRows: Counter<'status'>;
  /** JWKS fetches by result (ok, error), and JWTs refused because the signing keys could not be had. */
  readonly jwksFetches: Counter<'result'>;
  readonly authUnavailable: Counter<never>;
}

export function createMetrics(options: { collectDefaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectDefaults) collectDefaultMetrics({ register: registry, prefix: 'strata_' });
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    requests: new Counter({
      name: 'strata_requests_total',
      help: 'Requests by door, operation and status',
      labelNames: ['door', 'operation', 'status'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'strata_request_duration_seconds',
      help: 'Request latency by door and operation',
      labelNames: ['door', 'operation'],
      buckets,
      registers: [registry],
    }),
    engineQueries: new Counter({
      name: 'strata_clickhouse_queries_total',
      help: 'SQL statements sent to ClickHouse',
      labelNames: ['status'],
      registers: [registry],
    }),
    upkeepQueries: new Counter({
      name: 'strata_upkeep_queries_total',
      help: 'ClickHouse SELECTs the server runs for its own upkeep (rollup maintenance)',
      labelNames: ['status'],
      registers: [registry],
    }),
    engineSeconds: new Histogram({ name: 'strata_clickhouse_query_duration_seconds', help: 'ClickHouse statement latency', buckets, registers: [registry] }),
    batchedQueries: new Counter({
      name: 'strata_semantic_queries_total',
      help: 'Semantic queries by outcome: executed (own SQL), merged (shared a merged SQL), deduplicated (identical query in the same batch), shared (joined an identical statement already in flight from another request)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'strata_result_cache_lookups_total',
      help: 'Result cache lookups by result (hit, miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
    activeSubscriptions: new Gauge({ name: 'strata_active_subscriptions', help: 'Live subscriptions (all tenants)', registers: [registry] }),
    usageQueries: new Counter({
      name: 'strata_usage_queries_total',
      help: 'Semantic queries answered (all tenants; metered per tenant)',
      registers: [registry],
    }),
    usageRowsRead: new Counter({ name: 'strata_usage_rows_read_total', help: 'Rows read from the engine (all tenants)', registers: [registry] }),
    usageBytesReturned: new Counter({ name: 'strata_usage_bytes_returned_total', help: 'JSON bytes of rows returned (all tenants)', registers: [registry] }),
    refusals: new Counter({ name: 'strata_refusals_total', help: 'Refused requests by code (all tenants)', labelNames: ['code'], registers: [registry] }),
    engineQueued: new Gauge({ name: 'strata_engine_queued_statements', help: 'Engine statements waiting for a slot', registers: [registry] }),
    engineWaits: new Counter({ name: 'strata_engine_slot_waits_total', help: 'Engine statements that waited for a slot', registers: [registry] }),
    liveEvaluations: new Counter({ name: 'strata_live_evaluations_total', help: 'Shared evaluations of live queries', registers: [registry] }),
    livePushes: new Counter({ name: 'strata_live_pushes_total', help: 'Results pushed to subscribers', registers: [registry] }),
    ingestRows: new Counter({
      name: 'strata_ingest_rows_total',
      help: 'Ingested rows by status (inserted, quarantined, duplicate)',
      labelNames: ['status'],
      registers: [registry],
    }),
    jwksFetches: new Counter({
      name: 'strata_jwks_fetches_total',
      help: "Fetches of the identity provider's JWKS by result (ok, error)",
      labelNames: ['result'],
      registers: [registry],
    }),
    authUnavailable: new Counter({
      name: 'strata_auth_unavailable_total',
      help: 'JWTs refused with AUTH_UNAVAILABLE: the signing keys (JWKS) could not be had',
      registers: [registry],
    }),
  };
}
