/**
 * Every measure of the REAL models (cube-models/) for every demo tenant, through the REAL query
 * service on chDB, equals plain SQL written independently over the raw tables with an explicit
 * tenant predicate (kpi-sql.ts) — as totals, and by a dimension x month over a date range.
 * Relative tolerance 1e-9 (float sums may run in another order).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { registerDomainChecks } from './domain-checks.js';
import { day, expectClose, startCore, type Core } from './harness.js';
import { ORACLES, oracleSql } from './kpi-sql.js';
import { PLAUSIBLE } from './kpi-sql-lifecycle-social.js';

const RANGE = ['2025-09-01', '2026-02-28'] as const;

let core: Core;
beforeAll(async () => {
  core = await startCore();
});
afterAll(async () => {
  await core?.close();
});

describe('KPI oracle coverage', () => {
  it('has an independent formula for every public non-rolling measure of the model', () => {
    const modelled = Object.values(core.model.cubes)
      // platforms holds no measures of tenant data; audit_events (the audit mirror) and ingest_quality
      // (ingestion's quarantine) are filled at run time: their numbers are checked in
      // test/e2e/access/users-usage-audit.e2e.test.ts and test/integration/ingest/quality-cube.test.ts.
      .filter((c) => !['platforms', 'audit_events', 'ingest_quality'].includes(c.name))
      .flatMap((c) =>
        Object.values(c.measures)
          .filter((m) => m.public && !m.rollingWindow)
          .map((m) => m.path),
      )
      .sort();
    const oracled = Object.entries(ORACLES)
      .flatMap(([cube, o]) => Object.keys(o.measures).map((m) => `${cube}.${m}`))
      .sort();
    expect(oracled).toEqual(modelled);
  });
});

describe.each(DEMO_TENANT_IDS)('KPIs of tenant %s equal raw SQL', (tenant) => {
  it.each(Object.keys(ORACLES))('%s: totals over all data', async (cube) => {
    const o = ORACLES[cube];
    const members = Object.keys(o.measures).map((m) => `${cube}.${m}`);
    const { rows } = await core.load(tenant, { measures: members });
    const [expected] = await core.sql<Record<string, unknown>>(oracleSql(o, tenant, { grouped: false }));
    expect(rows).toHaveLength(1);
    members.forEach((m, i) => {
      expectClose(rows[0][m], expected[`m${i}`], `${tenant} ${m}`);
    });
    // the data is not degenerate: the first measure (a count or a sum) is positive
    expect(Number(rows[0][members[0]])).toBeGreaterThan(0);
  });

  it.each(Object.keys(ORACLES))('%s: by a dimension and by month over a date range', async (cube) => {
    const o = ORACLES[cube];
    const members = Object.keys(o.measures).map((m) => `${cube}.${m}`);
    const result = await core.load(tenant, {
      measures: members,
      dimensions: [o.dimension.member],
      timeDimensions: [{ dimension: o.time.member, granularity: 'month', dateRange: [...RANGE] }],
    });
    const expected = await core.sql<Record<string, unknown>>(oracleSql(o, tenant, { grouped: true, range: RANGE }));
    const key = (dim: unknown, month: unknown) => `${String(dim)}|${String(month)}`;
    const byKey = new Map(expected.map((r) => [key(r.k_dim, r.k_month), r]));
    const monthKey = `${o.time.member}.month`;
    expect(result.rows.length, `${tenant} ${cube} groups`).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(1);
    for (const row of result.rows) {
      const k = key(row[o.dimension.member], day(row[monthKey]));
      const want = byKey.get(k);
      expect(want, `${tenant} ${cube}: unexpected group ${k}`).toBeDefined();
      members.forEach((m, i) => {
        expectClose(row[m], want![`m${i}`], `${tenant} ${m} @ ${k}`);
      });
    }
  });
});

registerDomainChecks(() => core);

describe('shared cube', () => {
  it('platforms.count is the same reference list for every tenant', async () => {
    const [{ n }] = await core.sql<{ n: number }>('SELECT count() AS n FROM (SELECT * FROM platforms FINAL)');
    for (const tenant of DEMO_TENANT_IDS) {
      const { rows } = await core.load(tenant, { measures: ['platforms.count'], dimensions: ['platforms.channel'] });
      const channels = await core.sql<{ channel: string; c: number }>('SELECT channel, count() AS c FROM (SELECT * FROM platforms FINAL) GROUP BY channel');
      expect(Object.fromEntries(rows.map((r) => [r['platforms.channel'], r['platforms.count']]))).toEqual(
        Object.fromEntries(channels.map((r) => [r.channel, Number(r.c)])),
      );
      expect(rows.reduce((s, r) => s + Number(r['platforms.count']), 0)).toBe(Number(n));
    }
  });
});

describe('campaign lifecycle, reach and social measures are non-zero and plausible', () => {
  it('for at least one demo tenant, every new measure lies in its plausible range', async () => {
    const byCube = new Map<string, string[]>();
    for (const m of Object.keys(PLAUSIBLE)) byCube.set(m.split('.')[0], [...(byCube.get(m.split('.')[0]) ?? []), m]);
    const values = new Map<string, number[]>();
    for (const tenant of DEMO_TENANT_IDS) {
      for (const members of byCube.values()) {
        const { rows } = await core.load(tenant, { measures: members });
        for (const m of members) values.set(m, [...(values.get(m) ?? []), Number(rows[0][m] ?? 0)]);
      }
    }
    const implausible = Object.entries(PLAUSIBLE)
      .filter(([m, [lo, hi]]) => !(values.get(m) ?? []).some((v) => v !== 0 && v >= lo && v <= hi))
      .map(([m, range]) => `${m} = ${JSON.stringify(values.get(m))}, expected one in ${JSON.stringify(range)}`);
    expect(implausible).toEqual([]);
  });
});
