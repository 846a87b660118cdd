/**
 * A real Strata core for live/ingest integration tests: chDB on a temp dir, the real migrations,
 * the real query service, live service and ingest service. One per test file (one chDB per process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Principal } from '../../../src/auth/principal.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { createLiveService, type LiveService } from '../../../src/live/live-service.js';
import { createInProcessSignals, type ChangeSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import { createQueryService, type StrataQueryService } from '../../../src/query/query-service.js';
import type { RequestContext } from '../../../src/query/types.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { Model } from '../../../src/semantic/model.js';

export const MODEL_YAML = `
cubes:
  - name: ad_performance
    sql_table: ad_performance
    tenant_column: tenant_id
    measures:
      - name: clicks
        type: sum
        sql: clicks
      - name: impressions
        type: sum
        sql: impressions
      - name: cost
        type: sum
        sql: cost
        scopes: [finance:read]
      - name: count
        type: count
    dimensions:
      - name: platform
        type: string
        sql: platform
      - name: campaign_id
        type: string
        sql: campaign_id
      - name: date
        type: time
        sql: date
  # Same table, watched through a refresh-key SQL (rows written behind Strata's back).
  - name: ad_delivery_checked
    sql_table: ad_performance
    tenant_column: tenant_id
    refresh_key:
      sql: SELECT count() FROM {CUBE}
    measures:
      - name: impressions
        type: sum
        sql: impressions
  - name: email_activity
    sql_table: email_activity
    tenant_column: tenant_id
    measures:
      - name: sent
        type: sum
        sql: sent
`;

export interface Stack {
  readonly engine: Engine;
  readonly model: Model;
  readonly query: StrataQueryService;
  readonly signals: ChangeSignals;
  readonly live: LiveService;
  readonly ingest: IngestService;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export async function createStack(options: { refreshCheckIntervalMs?: number; maxPerTenant?: number } = {}): Promise<Stack> {
  const dir = mkdtempSync(`${tmpdir()}/strata-`);
  const engine = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  const model = loadModel([{ path: 'cube-models/live-fixture.yml', text: MODEL_YAML }]);
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const query = createQueryService({
    model,
    engine,
    limits: { defaultRowLimit: 1000, maxRowLimit: 5000 },
    queryTimeoutMs: 30_000,
    cache: { ttlMs: 60_000, maxEntries: 1000 },
    logger,
    metrics,
  });
  const signals = createInProcessSignals(logger);
  const live = createLiveService({
    query,
    model,
    config: { live: { maxPerConnection: 100, maxPerTenant: options.maxPerTenant ?? 20_000, refreshCheckIntervalMs: options.refreshCheckIntervalMs ?? 60_000 } },
    logger,
    metrics,
    signals,
  });
  const ingest = createIngestService({ engine, model, signals, metrics, logger });
  return {
    engine,
    model,
    query,
    signals,
    live,
    ingest,
    metrics,
    async close() {
      await live.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function principal(tenantId: string, scopes: string[] = ['metrics:read', 'ingest:write']): Principal {
  return { tenantId, scopes: new Set(scopes), subject: `test:${tenantId}`, via: 'jwt', roles: [] };
}

export function ctx(p: Principal, door: RequestContext['door'] = 'live'): RequestContext {
  return { requestId: `t-${Math.random().toString(36).slice(2)}`, door, principal: p };
}

/** One ad_performance row with every required column (values overridable). */
export function adRow(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    date: '2024-03-01',
    platform: 'google_ads',
    account_id: 'acc-1',
    campaign_id: 'cmp-1',
    ad_group_id: 'ag-1',
    ad_id: 'ad-1',
    country: 'US',
    device: 'mobile',
    impressions: 1000,
    clicks: 50,
    cost: 12.5,
    conversions: 5,
    conversion_value: 100,
    video_views: 0,
    engagements: 3,
    ...over,
  };
}

/** n distinct ad rows (ad-0 …), impressions 100 + i, 1 click, no conversions; `over(i)` changes any. */
export const adRows = (n: number, over: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) => adRow({ ad_id: `ad-${i}`, impressions: 100 + i, clicks: 1, conversions: 0, ...over(i) }));

/** The sum of one numeric field over rows (the independent side of a totals check). */
export const sumOf = (xs: readonly Record<string, unknown>[], k: string) => xs.reduce((s, r) => s + Number(r[k]), 0);

export const ndjson = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
