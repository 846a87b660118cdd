/**
 * The stall scenario of issue #14, through the real GraphQL door (yoga.fetch) on a real embedded
 * chDB: tenant A sends 4 concurrent requests with 150 root fields each; tenant B's one simple query,
 * sent while A's burst is queued, starts after at most the statement already running — asserted on the
 * order of engine starts (engine-slots' start events), never on wall-clock time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { loadConfig } from '../../../src/config.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createGraphQLServer, type StrataYoga } from '../../../src/graphql/server.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createEngineSlots, type EngineSlots, type SlotStart } from '../../../src/query/engine-slots.js';
import { createQueryService } from '../../../src/query/query-service.js';
import { loadModel } from '../../../src/semantic/load.js';
import { MODEL_YAML } from '../live/stack.js';

const SECRET = 'fair-sharing-test-secret-0123456789abcdef';
let dir: string;
let engine: Engine;
let yoga: StrataYoga;
let slots: EngineSlots;

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-fair-`);
  engine = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 60_000 });
  await migrateClickhouse(engine);
  const model = loadModel([{ path: 'cube-models/fixture.yml', text: MODEL_YAML }]);
  const config = loadConfig({ STRATA_ENV: 'test', JWT_SECRET: SECRET, MAX_QUERY_COMPLEXITY: '100000', CACHE_TTL_MS: '0' });
  const logger = createLogger('silent');
  const metrics = createMetrics();
  // Embedded chDB runs one statement at a time: one slot.
  slots = createEngineSlots({ slots: 1, perTenant: 1 });
  const query = createQueryService({ model, engine, limits: { defaultRowLimit: 1000, maxRowLimit: 5000 }, queryTimeoutMs: 60_000, logger, metrics, slots });
  yoga = createGraphQLServer({ model, query, authenticator: createAuthenticator({ auth: config.auth }), config, logger, metrics });
});

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function post(tenantId: string, body: string): Promise<{ status: number; errors?: unknown }> {
  const token = await mintDevToken(SECRET, { tenantId, scopes: ['metrics:read'] });
  const res = await yoga.fetch('http://strata.test/graphql', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: body }),
  });
  const json = (await res.json()) as { errors?: unknown };
  return { status: res.status, errors: json.errors };
}

/** 150 root fields that cannot share a statement (each filters another campaign). */
function heavy(request: number): string {
  const fields = Array.from(
    { length: 150 },
    (_, i) =>
      `f${i}: query(query: {measures: ["ad_performance.clicks"], dimensions: ["ad_performance.platform"], filters: [{member: "ad_performance.campaign_id", operator: "equals", values: ["r${request}-c${i}"]}]}) { data }`,
  );
  return `{ ${fields.join(' ')} }`;
}

describe('fair sharing of the engine (issue #14 stall scenario)', () => {
  it("tenant B's simple query is not delayed behind tenant A's 4 x 150-field burst by more than the running statement", async () => {
    const starts: SlotStart[] = [];
    slots.onStart((e) => starts.push(e));
    const burst = [0, 1, 2, 3].map((r) => post('tenant-a', heavy(r)));
    // Wait until A's burst is queued in front of the engine, then B asks.
    for (let i = 0; i < 500 && slots.stats().queued < 50; i++) await new Promise((r) => setTimeout(r, 10));
    const queuedWhenBAsked = slots.stats().queued;
    expect(queuedWhenBAsked).toBeGreaterThanOrEqual(50);
    const b = await post('tenant-b', '{ query(query: {measures: ["ad_performance.clicks"]}) { data } }');
    expect(b.errors).toBeUndefined();
    const results = await Promise.all(burst);
    for (const r of results) expect(r.errors).toBeUndefined();

    const bStart = starts.find((s) => s.tenantId === 'tenant-b');
    expect(bStart).toBeDefined();
    // No statement of A started between B's arrival and B's start: B waited for the one running statement only.
    expect(bStart!.overtakenByOthers).toBe(0);
    const aStarts = starts.filter((s) => s.tenantId === 'tenant-a');
    expect(aStarts.length).toBeGreaterThanOrEqual(4 * 150 * 0.5); // the burst really was hundreds of statements
    // ...and most of A's statements ran after B's: B did not wait for the queue.
    expect(aStarts.filter((s) => s.seq > bStart!.seq).length).toBeGreaterThan(queuedWhenBAsked / 2);
  });
});
