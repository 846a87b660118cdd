/** Prometheus metrics, one registry per server instance (tests start several in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'door' | 'operation' | 'status'>;
  readonly requestSeconds: Histogram<'door' | 'operation'>;
  readonly engineQueries: Counter<'status'>;
  readonly engineSeconds: Histogram<never>;
  /** Semantic queries asked vs SQL statements issued after batching/merging. */
  readonly batchedQueries: Counter<'outcome'>;
  readonly cacheLookups: Counter<'result'>;
  readonly activeSubscriptions: Gauge<'tenant'>;
  readonly liveEvaluations: Counter<never>;
  readonly livePushes: Counter<never>;
  readonly ingestRows: Counter<'status'>;
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
    engineSeconds: new Histogram({ name: 'strata_clickhouse_query_duration_seconds', help: 'ClickHouse statement latency', buckets, registers: [registry] }),
    batchedQueries: new Counter({
      name: 'strata_semantic_queries_total',
      help: 'Semantic queries by outcome: executed (own SQL), merged (shared a merged SQL), deduplicated (identical query in the same batch)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'strata_result_cache_lookups_total',
      help: 'Result cache lookups by result (hit, miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
    activeSubscriptions: new Gauge({
      name: 'strata_active_subscriptions',
      help: 'Live subscriptions by tenant',
      labelNames: ['tenant'],
      registers: [registry],
    }),
    liveEvaluations: new Counter({ name: 'strata_live_evaluations_total', help: 'Shared evaluations of live queries', registers: [registry] }),
    livePushes: new Counter({ name: 'strata_live_pushes_total', help: 'Results pushed to subscribers', registers: [registry] }),
    ingestRows: new Counter({
      name: 'strata_ingest_rows_total',
      help: 'Ingested rows by status (inserted, quarantined, duplicate)',
      labelNames: ['status'],
      registers: [registry],
    }),
  };
}
