/**
 * Replays the SQL that Metabase, Superset, Grafana, Tableau, DBeaver and pgJDBC send
 * (test/fixtures/bi-corpus) through node-postgres against the proxy over the real stack (chDB with
 * the demo data, the marketing models). Reports answered/refused per tool with SQLSTATEs; every
 * answered statement with a `check` must equal an independent ClickHouse query over the raw rows.
 * Also: no silent truncation (paging past the per-load cap, the maximum named when exceeded).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { seedDemo } from '../../../src/demo/seed.js';
import { FIXED_DEMO_END_DATE } from '../../../src/demo/window.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createQueryService } from '../../../src/query/query-service.js';
import { loadModelFromDir } from '../../../src/services.js';
import { startSqlProxy, type SqlProxy } from '../../../src/sqlproxy/server.js';
import type { CorpusEntry, Tool } from '../../fixtures/bi-corpus/corpus.js';
import { dbeaver } from '../../fixtures/bi-corpus/dbeaver.js';
import { grafana } from '../../fixtures/bi-corpus/grafana.js';
import { metabase } from '../../fixtures/bi-corpus/metabase.js';
import { pgjdbc } from '../../fixtures/bi-corpus/pgjdbc.js';
import { superset } from '../../fixtures/bi-corpus/superset.js';
import { tableau } from '../../fixtures/bi-corpus/tableau.js';

const run = promisify(execFile);
const SECRET = 'bi-corpus-secret-0123456789abcdef';
/** Debian's python3-psycopg2/python3-sqlalchemy and libpostgresql-jdbc-java + a JDK (.ci/run installs them). */
const PYTHON = '/usr/bin/python3';
const JDBC_JAR = '/usr/share/java/postgresql.jar';
const TENANT = 'acme';
const PAGE_ROWS = 1_000;
const MAX_ROWS = 100_000;
/** A second proxy on the same query service with a small maximum, for the over-the-maximum case. */
const SMALL_MAX = 1_500;
const CORPUS: Record<Tool, readonly CorpusEntry[]> = { metabase, superset, grafana, tableau, dbeaver, pgjdbc };
/** Answered statements per tool this build must keep (a ratchet; see README "SQL proxy"). */
const MIN_ANSWERED: Record<Tool, number> = { metabase: 29, superset: 20, grafana: 11, tableau: 16, dbeaver: 27, pgjdbc: 9 };

let dir: string;
let engine: Engine;
let proxy: SqlProxy;
let small: SqlProxy;
let token: string;
let globexToken: string;

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-bi-`);
  engine = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 60_000 });
  await migrateClickhouse(engine);
  await seedDemo(engine, { scale: 0.02, endDate: FIXED_DEMO_END_DATE });
  const logger = createLogger('silent');
  const query = createQueryService({
    model: await loadModelFromDir('cube-models'),
    engine,
    limits: { defaultRowLimit: 1_000, maxRowLimit: PAGE_ROWS },
    queryTimeoutMs: 60_000,
    cache: { ttlMs: 60_000, maxEntries: 1000 },
    logger,
    metrics: createMetrics(),
  });
  const authenticator = createAuthenticator({ auth: { jwtSecret: SECRET } });
  proxy = await startSqlProxy({
    config: { enabled: true, port: 0, host: '127.0.0.1', rowLimits: { maxRows: MAX_ROWS, pageRows: PAGE_ROWS } },
    query,
    authenticator,
    logger,
  });
  small = await startSqlProxy({
    config: { enabled: true, port: 0, host: '127.0.0.1', rowLimits: { maxRows: SMALL_MAX, pageRows: PAGE_ROWS } },
    query,
    authenticator,
    logger,
  });
  token = await mintDevToken(SECRET, { tenantId: TENANT, scopes: ['metrics:read', 'finance:read'] });
  globexToken = await mintDevToken(SECRET, { tenantId: 'globex', scopes: ['metrics:read', 'finance:read'] });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await small?.close();
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rawTypes = { getTypeParser: () => (v: string) => v };

async function client(password = token, port = proxy.port): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'bi', database: 'strata', password, types: rawTypes });
  c.on('error', () => {});
  await c.connect();
  return c;
}

function norm(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  const s = String(v);
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(s)) return String(Number(Number(s).toPrecision(9)));
  return s;
}

async function expected(check: string): Promise<string[][]> {
  const res = await engine.query<Record<string, unknown>>(check, { tenant: TENANT });
  return res.rows.map((r) => Object.values(r).map(norm));
}

const sortRows = (rows: string[][]) => [...rows].sort((a, b) => (a.join('|') < b.join('|') ? -1 : 1));

describe('BI tool corpus', () => {
  it('answers the statements the tools send, with numbers equal to ClickHouse', async () => {
    const c = await client();
    const report: string[] = [];
    const wrong: string[] = [];
    const answered: Record<string, number> = {};
    for (const [tool, entries] of Object.entries(CORPUS) as [Tool, readonly CorpusEntry[]][]) {
      answered[tool] = 0;
      const refusals: string[] = [];
      for (const e of entries) {
        try {
          const res = await c.query({ text: e.sql, values: e.params ? [...e.params] : undefined, rowMode: 'array' });
          answered[tool]++;
          if (e.check) {
            const got = (res.rows as unknown[][]).map((r) => r.map(norm));
            const want = await expected(e.check);
            const [g, w] = e.ordered ? [got, want] : [sortRows(got), sortRows(want)];
            if (JSON.stringify(g) !== JSON.stringify(w)) {
              wrong.push(`${tool} / ${e.name}: got ${JSON.stringify(g.slice(0, 5))} want ${JSON.stringify(w.slice(0, 5))} (${g.length} vs ${w.length} rows)`);
            }
          }
        } catch (err) {
          const pe = err as { code?: string; message: string };
          refusals.push(`    [${pe.code ?? '?'}] ${e.name}: ${pe.message.slice(0, 160)}`);
          if (!pe.code) throw err;
        }
      }
      report.push(`${tool}: ${answered[tool]}/${entries.length} answered`, ...refusals);
    }
    await c.end();
    console.log(`BI corpus\n${report.join('\n')}`);
    expect(wrong).toEqual([]);
    for (const tool of Object.keys(CORPUS) as Tool[]) expect(answered[tool], tool).toBeGreaterThanOrEqual(MIN_ANSWERED[tool]);
  }, 300_000);
});

describe('no silent truncation', () => {
  it('a statement without LIMIT returns every row, paged past the per-load cap', async () => {
    const want = await engine.query<{ n: string }>(
      'SELECT count() AS n FROM (SELECT DISTINCT date, campaign_id FROM ad_performance WHERE tenant_id = {tenant:String})',
      { tenant: TENANT },
    );
    const n = Number(want.rows[0].n);
    expect(n).toBeGreaterThan(PAGE_ROWS * 2);
    expect(n).toBeLessThanOrEqual(MAX_ROWS);
    const c = await client();
    const res = await c.query('SELECT date, campaign_id, SUM(clicks) AS clicks FROM ad_performance GROUP BY 1, 2');
    expect(res.rowCount).toBe(n);
    expect(new Set(res.rows.map((r) => `${r.date}|${r.campaign_id}`)).size).toBe(n);
    const total = await engine.query<{ s: string }>('SELECT sum(clicks) AS s FROM ad_performance WHERE tenant_id = {tenant:String}', { tenant: TENANT });
    expect(res.rows.reduce((s, r) => s + Number(r.clicks), 0)).toBe(Number(total.rows[0].s));
    // Metabase's nested-question LIMIT is accepted.
    const limited = await c.query('SELECT date, campaign_id, SUM(clicks) AS clicks FROM ad_performance GROUP BY 1, 2 LIMIT 1048575');
    expect(limited.rowCount).toBe(n);
    await c.end();
  }, 120_000);

  it('a result over the maximum fails naming the maximum; a LIMIT under it answers', async () => {
    const c = await client(token, small.port);
    const err = await c.query('SELECT date, campaign_id, device, SUM(clicks) FROM ad_performance GROUP BY 1, 2, 3').catch((e) => e);
    expect(err.code).toBe('54000');
    expect(err.message).toContain(String(SMALL_MAX));
    const ok = await c.query(`SELECT date, campaign_id, device, SUM(clicks) FROM ad_performance GROUP BY 1, 2, 3 LIMIT ${SMALL_MAX}`);
    expect(ok.rowCount).toBe(SMALL_MAX);
    await c.end();
  }, 120_000);

  it('pages and post-processed statements never mix tenants: globex sees only its own rows', async () => {
    const c = await client(globexToken);
    const res = await c.query('SELECT date, campaign_id, platform FROM ad_performance GROUP BY 1, 2, 3');
    const want = await engine.query<{ n: string }>(
      'SELECT count() AS n FROM (SELECT DISTINCT date, campaign_id, platform FROM ad_performance WHERE tenant_id = {tenant:String})',
      { tenant: 'globex' },
    );
    expect(res.rowCount).toBe(Number(want.rows[0].n));
    const foreign = await engine.query<{ campaign_id: string }>('SELECT DISTINCT campaign_id FROM ad_performance WHERE tenant_id != {tenant:String}', {
      tenant: 'globex',
    });
    const own = await engine.query<{ campaign_id: string }>('SELECT DISTINCT campaign_id FROM ad_performance WHERE tenant_id = {tenant:String}', {
      tenant: 'globex',
    });
    const ownSet = new Set(own.rows.map((r) => r.campaign_id));
    const foreignOnly = new Set(foreign.rows.map((r) => r.campaign_id).filter((x) => !ownSet.has(x)));
    expect(res.rows.filter((r) => foreignOnly.has(r.campaign_id))).toEqual([]);
    // Post-processed statements (expressions, regrouping, dimension aggregates) see the same rows only.
    const own2 = await engine.query<{ d: string; s: string }>(
      'SELECT uniqExact(campaign_id) AS d, sum(clicks) AS s FROM ad_performance WHERE tenant_id = {tenant:String}',
      {
        tenant: 'globex',
      },
    );
    const post = await c.query('SELECT COUNT(DISTINCT campaign_id) AS d, SUM(clicks) * 1 AS s, MIN(date) AS first FROM ad_performance');
    expect([Number(post.rows[0].d), Number(post.rows[0].s)]).toEqual([Number(own2.rows[0].d), Number(own2.rows[0].s)]);
    const buckets = await c.query('SELECT floor(extract(epoch from date)/604800)*604800 AS t, sum(clicks) AS s FROM ad_performance GROUP BY 1');
    expect(buckets.rows.reduce((x, r) => x + Number(r.s), 0)).toBe(Number(own2.rows[0].s));
    const like = await c.query("SELECT campaign_id FROM ad_performance WHERE platform LIKE '%i%' GROUP BY 1");
    expect(like.rows.filter((r) => foreignOnly.has(r.campaign_id))).toEqual([]);
    await c.end();
  }, 120_000);
});

async function grainCount(tenant: string): Promise<number> {
  const r = await engine.query<{ n: string }>(
    'SELECT count() AS n FROM (SELECT DISTINCT date, campaign_id FROM ad_performance WHERE tenant_id = {tenant:String})',
    { tenant },
  );
  return Number(r.rows[0].n);
}

async function platformClicks(tenant: string, from: string, to = '2100-01-01'): Promise<[string, number][]> {
  const r = await engine.query<{ platform: string; s: string }>(
    'SELECT platform, sum(clicks) AS s FROM ad_performance WHERE tenant_id = {tenant:String} AND date >= {from:Date} AND date < {to:Date} GROUP BY platform ORDER BY platform',
    { tenant, from, to },
  );
  return r.rows.map((x) => [x.platform, Number(x.s)]);
}

const hasPython =
  existsSync(PYTHON) &&
  (await run(PYTHON, ['-c', 'import psycopg2, sqlalchemy']).then(
    () => true,
    () => false,
  ));
const hasJava =
  existsSync(JDBC_JAR) &&
  (await run('javac', ['-version']).then(
    () => true,
    () => false,
  ));

describe('real drivers', () => {
  it.skipIf(!hasPython)(
    'SQLAlchemy + psycopg2: inspection, a bound date, a whole result',
    async () => {
      const { stdout } = await run(PYTHON, ['test/fixtures/drivers/sqlalchemy_probe.py'], {
        env: { ...process.env, PROXY_PORT: String(proxy.port), PROXY_TOKEN: token },
        timeout: 120_000,
      });
      const out = JSON.parse(stdout);
      expect(out.tables).toContain('ad_performance');
      expect(out.views).toContain('campaign_performance');
      expect(out.columns).toEqual(expect.arrayContaining(['date', 'platform', 'clicks', 'count']));
      const byPlatform = await platformClicks(TENANT, '2026-01-01');
      expect(out.by_platform).toEqual(byPlatform);
      const total: [string, number] = ['total', byPlatform.reduce((s, [, v]) => s + v, 0)];
      expect(out.union).toEqual([...byPlatform, total].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      expect(out.all_rows).toBe(await grainCount(TENANT));
    },
    180_000,
  );

  it.skipIf(!hasJava)(
    'pgJDBC: DatabaseMetaData, setDate() parameters, a fetch-size cursor over every row',
    async () => {
      const dir = mkdtempSync(`${tmpdir()}/strata-jdbc-`);
      try {
        copyFileSync('test/fixtures/drivers/JdbcProbe.java', `${dir}/JdbcProbe.java`);
        await run('javac', ['-cp', JDBC_JAR, '-d', dir, `${dir}/JdbcProbe.java`], { timeout: 120_000 });
        const { stdout } = await run('java', ['-cp', `${JDBC_JAR}:${dir}`, 'JdbcProbe', String(proxy.port), token], { timeout: 120_000 });
        const lines = Object.fromEntries(
          stdout
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        expect(lines.product).toMatch(/^PostgreSQL /);
        expect(lines.tables.split(',')).toEqual(expect.arrayContaining(['ad_performance', 'campaigns']));
        expect(Number(lines.columns)).toBeGreaterThan(10);
        expect(lines.schema).toBe('public');
        const jan = (await platformClicks(TENANT, '2026-01-01', '2026-02-01')).reduce((s, [, v]) => s + v, 0);
        expect(Number(lines.sum)).toBe(jan);
        expect([lines.composed_columns, Number(lines.composed_sum), lines.composed_first_rank]).toEqual(['3', jan, '1']);
        expect(Number(lines.rows)).toBe(await grainCount(TENANT));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    240_000,
  );
});
