/**
 * Tenant isolation fuzz over the REAL model and the demo warehouse.
 *
 * test/helpers/query-gen.ts draws a few hundred random valid semantic queries (seeded, so a failure
 * replays): measures (same cube or joined, KPIs, rolling windows), dimensions of joined cubes and
 * views, segments, filters with random operators and values sampled from EVERY tenant's data,
 * time dimensions with granularities, ranges and zones, order/limit/offset/total. Every query runs
 * through the query service as each demo tenant, and a leak has nowhere to hide:
 *
 *  1. Oracle warehouse. For each tenant X a database iso_X holds copies of the tables with ONLY X's
 *     rows (plus the shared platforms). The model is loaded a second time with its tables qualified
 *     to iso_X, the same normalized query is compiled with it and run there: a warehouse where no
 *     other tenant exists. The service's answer on the shared warehouse must equal it, row for row
 *     (unlimited variant compared as a keyed set; a limited answer must be a subset of the right size).
 *  2. A poison tenant. Before anything runs, every acme row is copied to tenant "mallory" with the
 *     SAME ids. A missing tenant predicate or a join on ids alone would double acme's numbers
 *     without any foreign id showing up — check 1 sees it. Mallory must also get exactly acme's
 *     answers (same data under another tenant id).
 *  3. Ids. Every id-like cell returned (campaign, account, ad group, ad, user, client, email campaign
 *     ids, mailboxes, names carrying the brand) must carry the caller's prefix and digit; any cell
 *     that looks like another tenant's id fails, whatever member it came from.
 *  4. SQL shape. Every read of a tenant-scoped table in the compiled SQL is wrapped in its own
 *     `WHERE tenant_id = {tenant:String}`: reads == tenant predicates, per table; every
 *     tenant-scoped cube the statement reads appears; the tenant travels only as a parameter.
 *
 * 160 queries x 3 tenants x (service + oracle) + a poison-twin sample ≈ 1,100 chDB statements (~25-40 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileQuery } from '../../../src/compiler/compile.js';
import type { CompiledQuery } from '../../../src/compiler/compiled.js';
import { DEMO_TABLES } from '../../../src/demo/seed.js';
import { DEMO_TENANTS, type DemoTenant } from '../../../src/demo/tenants.js';
import { FIXED_DEMO_END_DATE, FIXED_DEMO_START_DATE } from '../../../src/demo/window.js';
import { createQueryService, type StrataQueryService } from '../../../src/query/query-service.js';
import { shapeRows } from '../../../src/query/annotate.js';
import type { CellValue, QueryResult } from '../../../src/query/types.js';
import { shapeOf } from '../../../src/compiler/rollup/route.js';
import { ensureRollups } from '../../../src/rollups/warehouse.js';
import type { Model, PreAggregation } from '../../../src/semantic/model.js';
import type { NormalizedQuery, SemanticQuery } from '../../../src/semantic/query.js';
import { generateQueries, querySources, type SampleValue } from '../../helpers/query-gen.js';
import { LIMITS, NOW, isClose, loadCubeModels, principalFor, startCore, type Core } from './harness.js';

// 200: enough for every source (cubes and views of five domains) and a few rolling windows.
const QUERY_COUNT = 200;
const SEED = 20_261_101;
const POISON = 'mallory';

let core: Core;
let queries: SemanticQuery[];
let samples: Record<string, SampleValue[]>;
const isoModels = new Map<string, Model>();
const stats = { queries: 0, rows: 0, idCells: 0, oracleCompared: 0, subsetCompared: 0, poisonCompared: 0, setupMs: 0, serviceMs: 0, oracleMs: 0, twinMs: 0 };

// ---- id rules: what a cell of each id-like member must look like for tenant t ----
const idOf = (kind: string) => (t: DemoTenant, v: string) => new RegExp(`^${t.id}-${kind}-${t.idPrefix}\\d*$`).test(v);
/** The tenant's domain or a subdomain of it (mail.acme.example), and addresses on them. */
const ownDomain = (t: DemoTenant, v: string) => v === t.domain || v.endsWith(`.${t.domain}`);
const ownAddress = (t: DemoTenant, v: string) => v.includes('@') && ownDomain(t, v.slice(v.indexOf('@') + 1));
const ID_RULES: Readonly<Record<string, (t: DemoTenant, v: string) => boolean>> = {
  'ad_performance.account_id': idOf('acc'),
  'ad_performance.campaign_id': idOf('cmp'),
  'ad_performance.ad_group_id': idOf('adg'),
  'ad_performance.ad_id': idOf('ad'),
  'campaigns.campaign_id': idOf('cmp'),
  'campaigns.account_id': idOf('acc'),
  'campaigns.name': (t, v) => v.startsWith(`${t.brand} `),
  'web_sessions.user_id': idOf('usr'),
  'web_sessions.utm_campaign': (t, v) => v === '' || idOf('cmp')(t, v),
  'conversions.campaign_id': idOf('cmp'),
  'email_activity.email_campaign_id': idOf('eml'),
  'email_activity.email_campaign_name': (t, v) => v.startsWith(`${t.brand} `),
  'email_activity.mailbox': (t, v) => ownAddress(t, v),
  'clients.client_id': idOf('cli'),
  // email outreach, client health
  'email_activity.sending_domain': (t, v) => ownDomain(t, v),
  'email_campaigns.email_campaign_id': idOf('eml'),
  'email_campaigns.name': (t, v) => v.startsWith(`${t.brand} `),
  'mailboxes.mailbox': (t, v) => ownAddress(t, v),
  'mailboxes.sending_domain': (t, v) => ownDomain(t, v),
  'sending_domains.domain': (t, v) => ownDomain(t, v),
  'mailbox_warmup.mailbox': (t, v) => ownAddress(t, v),
  'lead_engagement.lead_id': idOf('lead'),
  'lead_engagement.email_campaign_id': idOf('eml'),
  'client_activity.client_id': idOf('cli'),
  'subscription_history.client_id': idOf('cli'),
  'conversion_touchpoints.client_id': idOf('cli'),
  'conversion_touchpoints.campaign_id': (t, v) => v === '' || idOf('cmp')(t, v),
  // campaign lifecycle, reach, social
  'campaigns.advertiser_id': idOf('adv'),
  'campaigns.advertiser_name': (t, v) => v.startsWith(`${t.brand} `),
  'campaign_history.campaign_id': idOf('cmp'),
  'campaign_days.campaign_id': idOf('cmp'),
  'ad_reach.campaign_id': idOf('cmp'),
  'social_posts.post_id': idOf('pst'),
  'social_posts.account': (t, v) => v === `@${t.id}` || v === `@${t.id}-company`,
  'social_mentions.mention_id': idOf('mnt'),
  'influencer_partnerships.partnership_id': idOf('inf'),
  'automation_runs.run_id': idOf('run'),
  'automation_runs.workflow_id': idOf('wfl'),
};
const FOREIGN_LOOKING = new RegExp(
  `(${DEMO_TENANTS.map((t) => t.id).join('|')})-[a-z]+-\\d|@(${DEMO_TENANTS.map((t) => t.domain).join('|')})|^(${DEMO_TENANTS.map((t) => t.brand).join('|')}) `,
);

function idProblems(t: DemoTenant, model: Model, result: QueryResult): string[] {
  const problems: string[] = [];
  for (const col of result.columns) {
    if (col.kind === 'measure' || col.type !== 'string') continue;
    const [owner, name] = col.member.split('.');
    const target = Object.hasOwn(model.views, owner) ? model.views[owner].members[name].target : col.member;
    const rule = ID_RULES[target];
    for (const row of result.rows) {
      const v = row[col.key];
      if (v === null) continue;
      const s = String(v);
      if (rule) {
        stats.idCells++;
        if (!rule(t, s)) problems.push(`${col.key} = ${JSON.stringify(s)} is not ${t.id}'s`);
      }
      const foreign = FOREIGN_LOOKING.exec(s);
      if (foreign && !(foreign[1] === t.id || foreign[2] === t.domain || foreign[3] === t.brand)) {
        problems.push(`${col.key} = ${JSON.stringify(s)} looks like another tenant's value`);
      }
    }
  }
  return problems;
}

/** Every read of a tenant-scoped table sits in its own tenant predicate. */
function sqlProblems(model: Model, compiled: CompiledQuery, tenant: string): string[] {
  const problems: string[] = [];
  for (const t of DEMO_TENANTS) if (compiled.sql.includes(`'${t.id}'`)) problems.push(`tenant id '${t.id}' is written into the SQL text`);
  let scopedTotal = 0;
  // Cubes with `sql` first: a scoped read of one is set aside, so the tables its sql reads inside the
  // wrapper (billing_usage unions three) are not counted again as bare reads.
  let rest = compiled.sql;
  const cubes = Object.values(model.cubes).sort((a, b) => Number(Boolean(a.sqlTable)) - Number(Boolean(b.sqlTable)));
  for (const cube of cubes) {
    if (cube.tenant.kind !== 'column') continue;
    // Answered from a rollup: the cube's reads are of the rollup table, by its tenant column.
    const rollup = compiled.rollup?.cube === cube.name ? compiled.rollup : undefined;
    const source = rollup?.table ?? cube.sqlTable ?? `(${cube.sql!.source})`;
    const wrapped = `(SELECT * FROM ${source} WHERE \`${rollup ? 'tenant_id' : cube.tenant.column}\` = {tenant:String})`;
    const scoped = count(rest, new RegExp(escapeRegExp(wrapped), 'g'));
    if (!cube.sqlTable) rest = rest.split(wrapped).join('(scoped)');
    const reads = rollup
      ? count(rest, new RegExp(`FROM ${rollup.table}(?![\\w.])`, 'g')) + count(rest, new RegExp(`FROM ${cube.sqlTable}(?![\\w.])`, 'g'))
      : cube.sqlTable
        ? count(rest, new RegExp(`FROM ${cube.sqlTable}(?![\\w.])`, 'g'))
        : scoped + count(rest, new RegExp(escapeRegExp(cube.sql!.source), 'g'));
    scopedTotal += scoped;
    if (reads !== scoped) problems.push(`${cube.name}: ${reads} reads but ${scoped} tenant-scoped reads`);
    if (compiled.cubes.includes(cube.name) && scoped === 0) problems.push(`${cube.name} is read but never tenant-scoped`);
  }
  const predicates = count(compiled.sql, /\{tenant:String\}/g);
  if (predicates !== scopedTotal) problems.push(`${predicates} tenant predicates for ${scopedTotal} scoped reads`);
  // A query of shared cubes only (platforms) needs no tenant; any other carries the caller's.
  if (scopedTotal > 0 && compiled.params.tenant !== tenant) problems.push(`tenant parameter is ${JSON.stringify(compiled.params.tenant)}`);
  return problems;
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Rows keyed by their non-measure cells (unique per group). */
function keyed(columns: QueryResult['columns'], rows: readonly Readonly<Record<string, CellValue>>[]): Map<string, Readonly<Record<string, CellValue>>> {
  const dims = columns.filter((c) => c.kind !== 'measure').map((c) => c.key);
  return new Map(rows.map((r) => [JSON.stringify(dims.map((k) => r[k])), r]));
}

function sameRow(columns: QueryResult['columns'], a: Readonly<Record<string, CellValue>>, b: Readonly<Record<string, CellValue>>): boolean {
  return columns.every((c) => (c.kind === 'measure' && c.type === 'number' ? isClose(a[c.key], b[c.key]) : a[c.key] === b[c.key]));
}

/** Rows of `expected` missing from (or different in) `actual`, and extra rows of `actual`. */
function diff(
  columns: QueryResult['columns'],
  actual: readonly Readonly<Record<string, CellValue>>[],
  expected: readonly Readonly<Record<string, CellValue>>[],
  subset: boolean,
): string[] {
  const a = keyed(columns, actual);
  const e = keyed(columns, expected);
  const out: string[] = [];
  for (const [k, row] of a) {
    const other = e.get(k);
    if (!other) out.push(`extra row ${k}: ${JSON.stringify(row)}`);
    else if (!sameRow(columns, row, other)) out.push(`row ${k}: got ${JSON.stringify(row)}, oracle ${JSON.stringify(other)}`);
  }
  if (!subset) for (const k of e.keys()) if (!a.has(k)) out.push(`missing row ${k}: ${JSON.stringify(e.get(k))}`);
  return out;
}

async function runOn(model: Model, normalized: NormalizedQuery, tenant: string) {
  const compiled = compileQuery(model, normalized, principalFor(tenant).tenantId);
  const { rows } = await core.wh.engine.query(compiled.sql, compiled.params);
  return { columns: compiled.columns, rows: shapeRows(compiled.columns, rows) };
}

/** The oracle: the same normalized query on the warehouse that holds only `tenant`'s rows. */
async function oracleProblems(tenant: string, query: SemanticQuery, normalized: NormalizedQuery, result: QueryResult): Promise<string[]> {
  const iso = isoModels.get(tenant)!;
  const limited = query.limit !== undefined || query.offset !== undefined;
  const unlimited: NormalizedQuery = { ...normalized, limit: LIMITS.maxRowLimit, offset: 0 };
  const oracle = await runOn(iso, limited ? unlimited : normalized, tenant);
  const problems: string[] = [];
  if (oracle.rows.length >= (limited ? LIMITS.maxRowLimit : normalized.limit)) return problems; // capped: ties could pick other rows
  if (result.total !== undefined && result.total !== oracle.rows.length) problems.push(`total ${result.total}, oracle has ${oracle.rows.length} rows`);
  if (limited) {
    stats.subsetCompared++;
    const want = Math.max(0, Math.min(normalized.limit, oracle.rows.length - normalized.offset));
    if (result.rows.length !== want) problems.push(`${result.rows.length} rows, expected ${want} of the oracle's ${oracle.rows.length}`);
  } else {
    stats.oracleCompared++;
  }
  problems.push(...diff(result.columns, result.rows, oracle.rows, limited));
  return problems;
}

async function setupPoisonTenant(): Promise<void> {
  for (const table of DEMO_TABLES) {
    // The subquery matters: in `SELECT * REPLACE (x AS tenant_id) … WHERE tenant_id = …` the WHERE sees the alias.
    await core.wh.engine.command(`INSERT INTO ${table} SELECT * REPLACE ('${POISON}' AS tenant_id) FROM (SELECT * FROM ${table} WHERE tenant_id = 'acme')`);
    const [{ n }] = await core.sql<{ n: number }>(`SELECT countIf(tenant_id = '${POISON}') - countIf(tenant_id = 'acme') AS n FROM ${table}`);
    expect(Number(n), table).toBe(0);
  }
}

/** Tables written by the running server, not the demo seed, that cubes read. */
const RUNTIME_TABLES = ['audit_events', 'ingest_quarantine', 'ingest_batches'];

async function setupOracleWarehouses(): Promise<void> {
  const db = core.wh.engine.database;
  for (const t of DEMO_TENANTS) {
    const iso = `iso_${t.id}`;
    await core.wh.engine.command(`CREATE DATABASE ${iso}`);
    // Tables filled at run time (the audit mirror, ingestion's quarantine and batches: empty after the seed)
    // back tenant-scoped cubes all the same.
    for (const table of [...DEMO_TABLES, ...RUNTIME_TABLES, 'platforms']) {
      await core.wh.engine.command(`CREATE TABLE ${iso}.${table} AS ${db}.${table}`);
      const where = table === 'platforms' ? '' : ` WHERE tenant_id = '${t.id}'`;
      await core.wh.engine.command(`INSERT INTO ${iso}.${table} SELECT * FROM ${db}.${table}${where}`);
    }
    let rewrites = 0;
    const model = await loadCubeModels((text) =>
      text
        .replace(/^(\s*sql_table:\s*)(\w+)\s*$/gm, (_m, head: string, name: string) => {
          rewrites++;
          return `${head}${iso}.${name}`;
        })
        .replace(/FROM (\w+) FINAL/g, (_m, name: string) => {
          rewrites++;
          return `FROM ${iso}.${name} FINAL`;
        })
        .replace(new RegExp(`FROM (${RUNTIME_TABLES.join('|')})(?=\\s)(?! FINAL)`, 'g'), (_m, name: string) => {
          rewrites++;
          return `FROM ${iso}.${name}`;
        }),
    );
    // Every cube must now read the oracle database, or the oracle would silently read the shared one
    // (a cube whose sql unions several tables, like billing_usage, is rewritten once per table).
    expect(rewrites).toBeGreaterThanOrEqual(Object.keys(model.cubes).length);
    for (const cube of Object.values(model.cubes)) {
      expect(cube.sqlTable ?? cube.sql?.source, cube.name).toContain(`${iso}.`);
      if (cube.sql) expect(cube.sql.source, cube.name).not.toMatch(/FROM (?!iso_)\w+(\s|$)/);
    }
    isoModels.set(t.id, model);
  }
}

/** Values of every public non-time dimension, from every tenant (so filters probe foreign ids). */
async function sampleValues(): Promise<Record<string, SampleValue[]>> {
  const samples: Record<string, SampleValue[]> = {};
  for (const cube of Object.values(core.model.cubes)) {
    for (const d of Object.values(cube.dimensions)) {
      if (!d.public || d.type === 'time') continue;
      const values = new Set<SampleValue>();
      for (const t of DEMO_TENANTS) {
        const { rows } = await core.load(t.id, { dimensions: [d.path], limit: 60 });
        for (const r of rows) if (r[d.path] !== null) values.add(r[d.path] as SampleValue);
      }
      samples[d.path] = [...values];
    }
  }
  return samples;
}

beforeAll(async () => {
  const started = performance.now();
  core = await startCore();
  await setupPoisonTenant();
  await setupOracleWarehouses();
  samples = await sampleValues();
  queries = generateQueries(core.model, { seed: SEED, count: QUERY_COUNT, samples, dataRange: [FIXED_DEMO_START_DATE, FIXED_DEMO_END_DATE] });
  stats.setupMs = Math.round(performance.now() - started);
});

afterAll(async () => {
  console.log(`isolation fuzz: ${JSON.stringify(stats)}`);
  await core?.close();
});

describe('the generator', () => {
  it('is deterministic and covers every source, joined cubes, views, filters and rolling windows', async () => {
    const again = generateQueries(core.model, { seed: SEED, count: QUERY_COUNT, samples, dataRange: [FIXED_DEMO_START_DATE, FIXED_DEMO_END_DATE] });
    expect(again).toEqual(queries);
    const text = queries.map((q) => JSON.stringify(q));
    for (const s of querySources(core.model))
      expect(
        text.some((q) => q.includes(`"${s.name}.`)),
        s.name,
      ).toBe(true);
    const rolling = Object.values(core.model.cubes).flatMap((c) =>
      Object.values(c.measures)
        .filter((m) => m.rollingWindow)
        .map((m) => m.name),
    );
    expect(text.filter((q) => rolling.some((r) => q.includes(`.${r}"`))).length).toBeGreaterThan(5);
    expect(text.filter((q) => /"filters"/.test(q)).length).toBeGreaterThan(QUERY_COUNT / 3);
    expect(text.filter((q) => /"(or|and)":/.test(q)).length).toBeGreaterThan(5);
    // filters that name another tenant's ids
    expect(text.filter((q) => /"(globex|initech)-[a-z]+-\d/.test(q)).length).toBeGreaterThan(3);
  });
});

interface Findings {
  readonly sql: string[];
  readonly ids: string[];
  readonly oracle: string[];
  readonly twin: string[];
}

/** Every check of one query run as `tenant` through `service` (the real one, or a deliberately leaky one). */
async function checkQuery(service: StrataQueryService, tenant: DemoTenant, query: SemanticQuery, withTwin: boolean): Promise<Findings> {
  const principal = principalFor(tenant.id);
  const { normalized, compiled } = service.compile(principal, query);
  let t0 = performance.now();
  const result = await service.load({ requestId: 'fuzz', door: 'cli', principal }, query);
  stats.serviceMs += Math.round(performance.now() - t0);
  stats.queries++;
  stats.rows += result.rows.length;
  t0 = performance.now();
  const findings: Findings = {
    sql: sqlProblems(core.model, compiled, tenant.id),
    ids: idProblems(tenant, core.model, result),
    oracle: await oracleProblems(tenant.id, query, normalized, result),
    twin: [],
  };
  stats.oracleMs += Math.round(performance.now() - t0);
  if (withTwin) {
    // Same data under another tenant id: the same answer (compared unlimited, so limit ties cannot differ).
    t0 = performance.now();
    const unlimited = { ...normalized, limit: LIMITS.maxRowLimit, offset: 0 };
    const run = async (t: string) => {
      const c = compileQuery(service.model, unlimited, principalFor(t).tenantId);
      return shapeRows(c.columns, (await core.wh.engine.query(c.sql, c.params)).rows);
    };
    findings.twin.push(...diff(result.columns, await run(POISON), await run(tenant.id), false));
    stats.poisonCompared++;
    stats.twinMs += Math.round(performance.now() - t0);
  }
  return findings;
}

describe.each(DEMO_TENANTS)('tenant $id sees only its own rows', (tenant) => {
  it(`${QUERY_COUNT} random queries: ids, SQL tenant predicates, oracle warehouse${tenant.id === 'acme' ? ', poison twin' : ''}`, async () => {
    const failures: string[] = [];
    for (const [i, query] of queries.entries()) {
      const label = `#${i} ${JSON.stringify(query)}`;
      try {
        const f = await checkQuery(core.service, tenant, query, tenant.id === 'acme' && i % 4 === 0);
        const problems = [...f.sql, ...f.ids, ...f.oracle, ...f.twin.map((p) => `poison twin: ${p}`)];
        if (problems.length) failures.push(`${label}\n    ${problems.slice(0, 3).join('\n    ')}`);
      } catch (e) {
        failures.push(`${label}\n    threw ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
      }
    }
    expect(failures.slice(0, 8).join('\n'), `${failures.length} failing queries`).toBe('');
  }, 120_000);
});

describe('the checks catch a leak', () => {
  it('a model whose campaigns cube lost its tenant scope is caught by the SQL, id and oracle checks', async () => {
    // The loader refuses a cube without a tenant column unless it is declared shared: declare campaigns shared.
    // (Rollups are kept per tenant, so a shared cube cannot declare them: the rewritten files lose theirs.)
    const leaky = await loadCubeModels((text) =>
      text.includes('name: campaigns\n')
        ? text.replace('tenant_column: tenant_id', 'shared: true').replace(/\n {4}pre_aggregations:\n(?: {6,}.*\n|[ \t]*\n)*/g, '\n')
        : text,
    );
    expect(leaky.cubes.campaigns.tenant.kind).toBe('shared');
    const service = createQueryService({ model: leaky, engine: core.wh.engine, limits: LIMITS, queryTimeoutMs: 30_000, now: () => NOW });
    const acme = DEMO_TENANTS.find((t) => t.id === 'acme')!;
    const caught = { sql: 0, ids: 0, oracle: 0 };
    for (const query of queries.filter((q) => JSON.stringify(q).includes('"campaigns.')).slice(0, 30)) {
      const f = await checkQuery(service, acme, query, false);
      for (const k of Object.keys(caught) as (keyof typeof caught)[]) if (f[k].length > 0) caught[k]++;
    }
    expect(caught.sql).toBeGreaterThan(0);
    expect(caught.ids).toBeGreaterThan(0);
    expect(caught.oracle).toBeGreaterThan(0);
    // (the poison twin cannot see this one: a fully unscoped cube gives acme and mallory the same wrong answer)
  }, 60_000);
});

/**
 * The same checks with rollups on: queries drawn from each rollup's own members (so most are answered
 * from it), run by a service that routes to the rollups built over this warehouse (the poison twin's
 * rows included). The oracle still runs on the facts of the tenant-only warehouse.
 */
describe('with rollups on', () => {
  let rolled: StrataQueryService;
  let rollupQueries: SemanticQuery[];
  const routed = new Map<string, number>();

  /** The model as one rollup sees it: its cube alone, with the members the rollup stores. */
  function rollupSource(pre: PreAggregation): Model {
    const cube = core.model.cubes[pre.cube];
    const served = shapeOf(core.model, pre).served;
    const dims = new Set([...pre.dimensions, ...(pre.timeDimension ? [pre.timeDimension] : [])]);
    const pick = <T>(members: Readonly<Record<string, T>>, keep: (name: string) => boolean) =>
      Object.fromEntries(Object.entries(members).filter(([n]) => keep(n)));
    const only = {
      ...cube,
      measures: pick(cube.measures, (n) => served.has(n)),
      dimensions: pick(cube.dimensions, (n) => dims.has(n)),
      segments: pick(cube.segments, (n) => pre.segments.includes(n)),
      // many_to_one lookups stay (a rollup joins them on its stored keys), with their dimensions
      joins: pick(cube.joins, (n) => cube.joins[n].relationship !== 'one_to_many'),
    };
    const lookups = Object.keys(only.joins).map((n) => [n, { ...core.model.cubes[n], measures: {}, segments: {}, joins: {} }] as const);
    return { cubes: { [cube.name]: only, ...Object.fromEntries(lookups) }, views: {} };
  }

  beforeAll(async () => {
    const report = await ensureRollups(core.wh.engine, core.model);
    rolled = createQueryService({
      model: core.model,
      engine: core.wh.engine,
      limits: LIMITS,
      queryTimeoutMs: 30_000,
      now: () => NOW,
      rollups: () => report.ready,
    });
    rollupQueries = Object.values(core.model.cubes)
      .flatMap((c) =>
        (c.preAggregations ?? []).flatMap((pre, i) =>
          generateQueries(rollupSource(pre), {
            seed: SEED + 7 * i + c.name.length,
            count: 60,
            samples,
            dataRange: [FIXED_DEMO_START_DATE, FIXED_DEMO_END_DATE],
          }),
        ),
      )
      .filter((q) => (q.measures?.length ?? 0) > 0); // a rollup answers measures
  }, 120_000);
  afterAll(() => console.log(`rollup fuzz: ${rollupQueries.length} queries per tenant, answered from a rollup: ${JSON.stringify(Object.fromEntries(routed))}`));

  describe.each(DEMO_TENANTS)('tenant $id sees only its own rows', (tenant) => {
    it('queries answered from rollups: ids, SQL tenant predicates, oracle warehouse', async () => {
      const failures: string[] = [];
      let fromRollups = 0;
      for (const [i, query] of rollupQueries.entries()) {
        const label = `#${i} ${JSON.stringify(query)}`;
        try {
          if (rolled.compile(principalFor(tenant.id), query).compiled.rollup) fromRollups++;
          const f = await checkQuery(rolled, tenant, query, false);
          const problems = [...f.sql, ...f.ids, ...f.oracle];
          if (problems.length) failures.push(`${label}\n    ${problems.slice(0, 3).join('\n    ')}`);
        } catch (e) {
          failures.push(`${label}\n    threw ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
        }
      }
      routed.set(tenant.id, fromRollups);
      expect(failures.slice(0, 8).join('\n'), `${failures.length} failing queries`).toBe('');
      // Many do read a rollup (the rest reads the facts: a DateTime cube in another zone, a lookup
      // joined on a key that rollup lacks, a measure of the lookup...).
      expect(fromRollups).toBeGreaterThan(rollupQueries.length / 3);
    }, 180_000);
  });
});
