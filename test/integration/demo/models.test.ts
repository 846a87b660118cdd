/** The marketing models in cube-models/ load, compile and run against the demo warehouse. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { compileQuery, compileRefreshKey } from '../../../src/compiler/compile.js';
import { normalizeQuery } from '../../../src/compiler/normalize.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { Model } from '../../../src/semantic/model.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/clickhouse.js';

const MODELS_DIR = join(import.meta.dirname, '../../../cube-models');
const principal: Principal = { tenantId: 'acme', scopes: new Set(), subject: 'test', via: 'cli', roles: [] };
const RANGE: [string, string] = ['2026-10-01', '2026-10-31'];

function loadMarketingModel(): Model {
  const files = readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => ({ path: `cube-models/${f}`, text: readFileSync(join(MODELS_DIR, f), 'utf8') }));
  return loadModel(files);
}

/** Cubes whose rows come from the running server (the audit mirror), never from the demo seed. */
const RUNTIME_CUBES = new Set(['audit_events', 'ingest_quality']);

describe('marketing models on the demo warehouse', () => {
  let wh: TestWarehouse;
  let model: Model;
  const run = async (q: SemanticQuery) => {
    const compiled = compileQuery(
      model,
      normalizeQuery(model, q, { now: new Date('2026-11-01T00:00:00Z'), defaultLimit: 10_000, maxLimit: 50_000 }),
      principal.tenantId,
    );
    const { rows } = await wh.engine.query<Record<string, unknown>>(compiled.sql, compiled.params);
    return rows.map((r) => Object.fromEntries(compiled.columns.map((c) => [c.key, r[c.alias]])));
  };

  beforeAll(async () => {
    model = loadMarketingModel();
    wh = await createTestWarehouse({ seed: true });
  });
  afterAll(async () => {
    await wh.close();
  });

  it('declares tenant scoping, finance scopes on money and primary keys on joined cubes', () => {
    expect(model.cubes.platforms.tenant.kind).toBe('shared');
    for (const cube of Object.values(model.cubes)) {
      if (cube.name !== 'platforms') expect(cube.tenant, cube.name).toEqual({ kind: 'column', column: 'tenant_id' });
      for (const m of Object.values(cube.measures)) {
        if (m.format === 'currency') expect(m.scopes, m.path).toContain('finance:read');
      }
    }
    for (const path of [
      'ad_performance.cpc',
      'ad_performance.cpm',
      'ad_performance.cpa',
      'ad_performance.roas',
      'web_sessions.revenue_per_session',
      'clients.mrr',
      'clients.arpa',
    ]) {
      const [cube, member] = path.split('.');
      expect(model.cubes[cube].measures[member].scopes, path).toContain('finance:read');
    }
    expect(model.views.campaign_performance.members.campaigns_name.target).toBe('campaigns.name');
  });

  it('runs every measure and dimension of every cube', async () => {
    for (const cube of Object.values(model.cubes)) {
      // Filled at run time from the audit log, not by the demo seed (test/e2e/access/users-usage-audit.e2e.test.ts).
      if (RUNTIME_CUBES.has(cube.name)) continue;
      const measures = Object.values(cube.measures).filter((m) => m.public);
      const timeDim = Object.values(cube.dimensions).find((d) => d.type === 'time');
      const plain = measures.filter((m) => !m.rollingWindow).map((m) => m.path);
      const rows = await run({ measures: plain });
      expect(rows.length, cube.name).toBe(1);
      const rolling = measures.filter((m) => m.rollingWindow).map((m) => m.path);
      if (rolling.length > 0 && timeDim) {
        const series = await run({ measures: rolling, timeDimensions: [{ dimension: timeDim.path, granularity: 'day', dateRange: RANGE }] });
        expect(series.length, cube.name).toBe(31);
      }
      for (const d of Object.values(cube.dimensions).filter((x) => x.public)) {
        const out = await run({ dimensions: [d.path], measures: plain.slice(0, 1), limit: 5 });
        expect(out.length, d.path).toBeGreaterThan(0);
      }
      for (const s of Object.values(cube.segments)) await run({ measures: plain.slice(0, 1), segments: [s.path] });
    }
  });

  it('computes KPIs as ratios of totals, matching SQL over the raw table', async () => {
    const [row] = await run({
      measures: [
        'campaign_performance.cost',
        'campaign_performance.clicks',
        'campaign_performance.ctr',
        'campaign_performance.cpa',
        'campaign_performance.roas',
      ],
      segments: [],
      timeDimensions: [{ dimension: 'campaign_performance.date', dateRange: RANGE }],
    });
    // aliases differ from column names: ClickHouse would resolve sum(clicks) to an alias "clicks"
    const { rows } = await wh.engine.query<{ cost: number; clicks: number; ctr: number; cpa: number; roas: number }>(
      `SELECT sum(a.cost) AS t_cost, sum(a.clicks) AS t_clicks, 100 * sum(a.clicks) / sum(a.impressions) AS t_ctr,
              sum(a.cost) / sum(a.conversions) AS t_cpa, sum(a.conversion_value) / sum(a.cost) AS t_roas
       FROM ad_performance AS a WHERE a.tenant_id = 'acme' AND a.date BETWEEN {from:Date} AND {to:Date}`,
      { from: RANGE[0], to: RANGE[1] },
    );
    const r = rows[0] as unknown as Record<string, number>;
    const expected = { cost: r.t_cost, clicks: r.t_clicks, ctr: r.t_ctr, cpa: r.t_cpa, roas: r.t_roas };
    expect(Number(row['campaign_performance.clicks'])).toBe(expected.clicks);
    expect(Number(row['campaign_performance.cost'])).toBeCloseTo(expected.cost, 2);
    expect(Number(row['campaign_performance.ctr'])).toBeCloseTo(expected.ctr, 8);
    expect(Number(row['campaign_performance.cpa'])).toBeCloseTo(expected.cpa, 6);
    expect(Number(row['campaign_performance.roas'])).toBeCloseTo(expected.roas, 8);
  });

  it('joins campaign attributes through the view without fan-out, for the caller tenant only', async () => {
    const byType = await run({ measures: ['campaign_performance.clicks'], dimensions: ['campaign_performance.campaigns_type'] });
    const { rows } = await wh.engine.query<{ type: string; clicks: number }>(
      `SELECT c.type AS type, sum(a.clicks) AS clicks FROM ad_performance AS a
       JOIN (SELECT * FROM campaigns FINAL) AS c ON a.tenant_id = c.tenant_id AND a.campaign_id = c.campaign_id
       WHERE a.tenant_id = 'acme' GROUP BY type ORDER BY type`,
    );
    const got = Object.fromEntries(byType.map((r) => [r['campaign_performance.campaigns_type'], Number(r['campaign_performance.clicks'])]));
    expect(got).toEqual(Object.fromEntries(rows.map((r) => [r.type, r.clicks])));
    const ids = await run({ dimensions: ['ad_performance.campaign_id'], measures: ['ad_performance.clicks'] });
    expect(ids.length).toBeGreaterThan(0);
    for (const r of ids) expect(String(r['ad_performance.campaign_id'])).toMatch(/^acme-cmp-1\d{5}$/);
  });

  it('compiles and runs the refresh key of every fact and entity cube', async () => {
    for (const cube of Object.values(model.cubes)) {
      const stmt = compileRefreshKey(model, cube.name, principal.tenantId);
      if (cube.name === 'platforms') {
        expect(stmt).toBeUndefined();
        continue;
      }
      expect(stmt, cube.name).toBeDefined();
      const { rows } = await wh.engine.query(stmt!.sql, stmt!.params);
      expect(rows.length, cube.name).toBe(1);
    }
  });
});
