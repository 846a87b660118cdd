/**
 * Issue #15 item 5, retention per plan, over the REAL server (chDB, PGlite, demo data at scale 0.05
 * over 730 days ending 2026-10-31) with DATA_RETENTION_ENABLED: at start the free tenant (initech,
 * 90 days) loses its older fact rows, pro (acme, 3 years) and enterprise (globex) keep theirs; a plan
 * change through the updateTenant mutation shortens globex's retention on every instance (a second
 * watch on the same store and warehouse plays the second instance) and cached results follow.
 * Counted in ClickHouse directly; the TTL was materialized by the retention code itself.
 */
import cube from '@cubejs-client/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { createRetentionApplier } from '../../../src/ingest/plan-retention.js';
import { RETENTION_TABLES } from '../../../src/ingest/retention.js';
import { createInProcessSignals, type ChangeEvent } from '../../../src/live/signals.js';
import type { RunningServer } from '../../../src/server.js';
import { createPlanRetentionWatch, type PlanRetentionWatch } from '../../../src/tenancy/plan-retention.js';
import { type InProcessServer, startInProcessServer } from '../../helpers/in-process-server.js';

let app: InProcessServer;
let server: RunningServer;
let second: PlanRetentionWatch;
const secondEvents: ChangeEvent[] = [];
const DAY = 86_400_000;
const cutoff = (days: number) => new Date(Date.now() - days * DAY).toISOString().slice(0, 10);

/** Per tenant and fact table: rows and the oldest day (as the TTL sees it). */
async function facts(tenant: string): Promise<Record<string, { n: number; oldest: string }>> {
  const out: Record<string, { n: number; oldest: string }> = {};
  for (const [table, day] of Object.entries(RETENTION_TABLES)) {
    const { rows } = await server.services.engine.query<{ n: string; o: string }>(
      `SELECT toString(count()) AS n, toString(min(${day})) AS o FROM ${table} WHERE tenant_id = {t:String}`,
      { t: tenant },
    );
    out[table] = { n: Number(rows[0].n), oldest: rows[0].o };
  }
  return out;
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const storedDays = async (tenant: string) =>
  (
    await server.services.engine.query<{ t: string; d: number }>(
      'SELECT table_name AS t, days AS d FROM data_retention FINAL WHERE tenant_id = {t:String} ORDER BY t',
      { t: tenant },
    )
  ).rows.map((r) => `${r.t}:${r.d}`);

let acmeBefore: Awaited<ReturnType<typeof facts>>;

beforeAll(async () => {
  app = await startInProcessServer('plan-retention', { DATA_RETENTION_ENABLED: 'true' });
  server = app.server;
  // The start's reconciliation runs in the background once the warehouse is ready.
  await until('initech to keep 90 days', async () => Object.values(await facts('initech')).every((f) => f.oldest >= cutoff(90)));
  // A second instance: its own watch and applier on the same metadata store and warehouse.
  const signals = createInProcessSignals();
  signals.onChange((e) => secondEvents.push(e));
  second = createPlanRetentionWatch({ tenants: server.services.store.tenants, bus: server.services.store, logger: server.services.logger });
  await second.start(createRetentionApplier({ engine: server.services.engine, model: server.services.model, signals }));
  acmeBefore = await facts('acme');
}, 240_000);

afterAll(async () => {
  await second?.close();
  await app?.close();
});

describe('retention per plan', () => {
  it('at start: the free tenant keeps 90 days of every fact table; pro and enterprise keep everything; a second instance changes nothing', async () => {
    const initech = await facts('initech');
    for (const [table, f] of Object.entries(initech)) {
      expect(f.n, table).toBeGreaterThan(0);
      expect(f.oldest >= cutoff(90), `${table} oldest ${f.oldest}`).toBe(true);
    }
    expect(await storedDays('initech')).toEqual(['ad_performance:90', 'conversions:90', 'email_activity:90', 'web_sessions:90']);
    // Pro (1095 days) covers the whole 730-day demo window; enterprise has no retention row at all.
    expect(acmeBefore.ad_performance.oldest < cutoff(700)).toBe(true);
    expect(await storedDays('acme')).toEqual(['ad_performance:1095', 'conversions:1095', 'email_activity:1095', 'web_sessions:1095']);
    expect(await storedDays('globex')).toEqual([]);
    expect((await facts('globex')).ad_performance.oldest < cutoff(700)).toBe(true);
    // The second instance's start found every tenant as its plan says: it shortened nothing.
    expect(secondEvents).toEqual([]);
    const dup = await server.services.engine.query<{ n: string }>('SELECT toString(count()) AS n FROM data_retention FINAL');
    expect(Number(dup.rows[0].n)).toBe(8);
  });

  it('a plan change through updateTenant applies on every instance: old rows go for that tenant only, cached results follow', async () => {
    const globexToken = await mintDevToken(app.jwtSecret, { tenantId: 'globex', roles: ['tenant_admin'], expiresIn: '15m' });
    const api = cube(globexToken, { apiUrl: `${server.url}/cubejs-api/v1` });
    const clicks = async () => Number((await api.load({ measures: ['ad_performance.clicks'] })).rawData()[0]['ad_performance.clicks']);
    const before = await clicks(); // now cached
    const globexBefore = await facts('globex');

    const admin = await mintDevToken(app.jwtSecret, { tenantId: 'acme', scopes: ['platform:admin'], expiresIn: '15m' });
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: 'mutation { updateTenant(id: "globex", input: {plan: "free"}) { plan } }' }),
    });
    expect(((await res.json()) as { data: unknown }).data).toEqual({ updateTenant: { plan: 'free' } });

    await until('globex to keep 90 days', async () => (await facts('globex')).ad_performance.oldest >= cutoff(90));
    const globex = await facts('globex');
    for (const [table, f] of Object.entries(globex)) {
      expect(f.oldest >= cutoff(90), `${table} oldest ${f.oldest}`).toBe(true);
      expect(f.n, table).toBeLessThan(globexBefore[table].n);
      expect(f.n, table).toBeGreaterThan(0);
    }
    // Both instances heard the signal: one row per (tenant, table), the same days.
    await until('both instances to settle', async () => (await storedDays('globex')).length === 4);
    expect(await storedDays('globex')).toEqual(['ad_performance:90', 'conversions:90', 'email_activity:90', 'web_sessions:90']);
    // Other tenants untouched.
    expect(await facts('acme')).toEqual(acmeBefore);

    // The change signal reached the server's cache: the same query now sums the rows left.
    const { rows } = await server.services.engine.query<{ c: string }>("SELECT toString(sum(clicks)) AS c FROM ad_performance WHERE tenant_id = 'globex'");
    await until('the cached result to follow', async () => (await clicks()) === Number(rows[0].c));
    expect(Number(rows[0].c)).toBeLessThan(before);
  });
});
