/**
 * Two `strata serve` processes started at the same moment against one Postgres server (a fresh
 * database) and one ClickHouse over HTTP — the ClickHouse-HTTP adapter over one chDB data dir in
 * its own process (test/helpers/clickhouse-http-adapter.ts), since no ClickHouse server binary is
 * available. The test holds the `demo_seed` lock itself at first, so "while a seed is in progress"
 * is a state it controls, not a race it hopes to catch: both instances must listen, say /ready
 * false with a reason and refuse data with a coded 503 until the lock is free and the seed done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { countDemoRows, DEMO_SEED_LOCK, seedDemo } from '../../../src/demo/seed.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { acquireClickhouseLock } from '../../../src/engine/lock.js';
import { migrateClickhouse, readMigrations } from '../../../src/engine/migrate.js';
import { type ClickhouseHttp, startClickhouseHttp } from '../../helpers/clickhouse-http.js';
import { freePort, type ServerProcess, startServerProcess, TEST_JWT_SECRET } from '../../helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from '../../integration/store/backends.js';

const SCALE = 0.05;
const QUERY = '{ adPerformance { impressions } emailActivity { sent } }';

interface Observed {
  refused: number;
  answered: unknown[];
  other: string[];
}

describe('two instances started together on one Postgres and one ClickHouse (HTTP)', () => {
  let clickhouse: ClickhouseHttp;
  let pg: TestDatabase;
  let engine: Engine;
  let servers: ServerProcess[] = [];
  const observed: Observed[] = [
    { refused: 0, answered: [], other: [] },
    { refused: 0, answered: [], other: [] },
  ];
  let readyBodies: unknown[][] = [];
  let token: string;

  beforeAll(async () => {
    [clickhouse, pg] = await Promise.all([startClickhouseHttp(), createTestDatabase('postgres')]);
    engine = createEngine({ url: clickhouse.url, database: 'strata', chdbPath: '', queryTimeoutMs: 60_000 });
    token = await mintDevToken(TEST_JWT_SECRET, { tenantId: 'acme', roles: ['analyst'], expiresIn: '1h', subject: 'e2e' });

    // The test is "another instance seeding": it holds the demo seed lock (on a migrated warehouse).
    await migrateClickhouse(engine);
    const held = await acquireClickhouseLock(engine, DEMO_SEED_LOCK, { owner: 'the-test' });

    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const urls = [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[2]}`];
    const env = (i: number) => ({
      PORT: String(ports[i * 2]),
      SQL_PROXY_PORT: String(ports[i * 2 + 1]),
      DATABASE_URL: pg.options.url as string,
      CLICKHOUSE_URL: clickhouse.url,
      CLICKHOUSE_DATABASE: 'strata',
      DEMO_SCALE: String(SCALE),
    });
    let started = false;
    const polls = urls.map((url, i) => poll(url, token, observed[i] as Observed, () => started));
    const starting = Promise.all([startServerProcess(env(0)), startServerProcess(env(1))]);

    // Both listen while the seed lock is held, and neither is ready nor answers data.
    readyBodies = await Promise.all(urls.map((url) => untilListening(url)));
    for (const url of urls) {
      const data = await graphql(url, token);
      expect(data.status).toBe(503);
      expect(data.headers.get('retry-after')).toBeTruthy();
      const { errors, data: rows } = data.body as { errors: { extensions: { code: string } }[]; data: unknown };
      expect(errors.map((e) => e.extensions.code)).toEqual(['ENGINE_UNAVAILABLE', 'ENGINE_UNAVAILABLE']);
      expect(rows).toEqual({ adPerformance: null, emailActivity: null });
    }
    await held.release();
    servers = await starting;
    started = true;
    await Promise.all(polls);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await engine?.close();
    await clickhouse?.stop();
    await pg?.drop();
  });

  it('says why it is not ready while another instance seeds', () => {
    for (const bodies of readyBodies) {
      expect(bodies.length).toBeGreaterThan(0);
      expect(bodies.at(-1)).toMatchObject({ status: 'unavailable', warehouse: false, reason: expect.stringContaining('the-test') });
    }
  });

  it('applies each ClickHouse migration once', async () => {
    const { rows } = await engine.query<{ name: string; n: number }>('SELECT name, count() AS n FROM _strata_migrations GROUP BY name ORDER BY name');
    expect(rows).toEqual(readMigrations().map((m) => ({ name: m.name, n: 1 })));
  });

  it('seeds once: one instance seeded, the other waited and found the data current', () => {
    const seeded = servers.filter((s) => s.output().includes('"seeded demo warehouse"'));
    expect(seeded).toHaveLength(1);
    expect(servers.filter((s) => s.output().includes('waiting for the demo seed by another instance'))).toHaveLength(2);
    for (const s of servers) expect(s.output()).not.toMatch(/"(refreshed|repaired) demo warehouse"/);
  });

  it('holds the same rows as a single seed (physical rows, no FINAL)', async () => {
    const single = createEngine({ url: clickhouse.url, database: 'single', chdbPath: '', queryTimeoutMs: 60_000 });
    try {
      await migrateClickhouse(single);
      await seedDemo(single, { scale: SCALE, endDate: FIXED_DEMO_END_DATE });
      expect(await physicalRows(engine)).toEqual(await physicalRows(single));
      expect(await countDemoRows(engine)).toEqual(await countDemoRows(single));
    } finally {
      await single.close();
    }
  });

  it('answered no data before the seed was complete: every answer is the final one', async () => {
    const final = (await graphql((servers[0] as ServerProcess).url, token)).body;
    expect(final).toMatchObject({ data: { adPerformance: [{ impressions: expect.any(Number) }], emailActivity: [{ sent: expect.any(Number) }] } });
    // Independent: the sums straight from the warehouse.
    const [ad, email] = await Promise.all([
      engine.query<{ n: number }>("SELECT sum(impressions) AS n FROM ad_performance WHERE tenant_id = 'acme'"),
      engine.query<{ n: number }>("SELECT sum(sent) AS n FROM email_activity WHERE tenant_id = 'acme'"),
    ]);
    expect(final).toMatchObject({ data: { adPerformance: [{ impressions: Number(ad.rows[0]?.n) }], emailActivity: [{ sent: Number(email.rows[0]?.n) }] } });
    for (const o of observed) {
      expect(o.other).toEqual([]);
      expect(o.refused).toBeGreaterThan(0);
      for (const a of o.answered) expect(a).toEqual(final);
    }
  });
});

async function graphql(url: string, token: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

/** Asks for data until the servers are up; every answer is recorded (connection refused is not one). */
async function poll(url: string, token: string, o: Observed, done: () => boolean): Promise<void> {
  while (!done()) {
    const r = await graphql(url, token).catch(() => undefined);
    if (r?.status === 200) o.answered.push(r.body);
    else if (r?.status === 503 && JSON.stringify(r.body).includes('"ENGINE_UNAVAILABLE"')) o.refused++;
    else if (r) o.other.push(`${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** /ready bodies from the first answer until it names the seed it waits for. */
async function untilListening(url: string): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const r = await fetch(`${url}/ready`).catch(() => undefined);
    if (r) {
      expect(r.status).toBe(503);
      const body = (await r.json()) as { reason?: string };
      bodies.push(body);
      if (body.reason?.includes('the-test')) return bodies;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function physicalRows(e: Engine): Promise<Record<string, number>> {
  const { rows } = await e.query<{ table: string; n: number }>(
    `SELECT table, sum(rows) AS n FROM system.parts WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)} GROUP BY table ORDER BY table`,
    { tables: ['campaigns', 'clients', 'ad_performance', 'web_sessions', 'conversions', 'email_activity'] },
  );
  return Object.fromEntries(rows.map((r) => [r.table, Number(r.n)]));
}
