/**
 * The SQL proxy over the REAL stack: chDB on a temp dir, the real migrations, model loader,
 * query service and authenticator (JWT). Real clients: node-postgres and psql.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createQueryService } from '../../../src/query/query-service.js';
import { loadModel } from '../../../src/semantic/load.js';
import { startSqlProxy, type SqlProxy } from '../../../src/sqlproxy/server.js';

const run = promisify(execFile);
const SECRET = 'sqlproxy-e2e-secret';

const MODEL = `
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
      - name: ctr
        type: number
        sql: "{clicks} / nullIf({impressions}, 0)"
    dimensions:
      - name: platform
        type: string
        sql: platform
      - name: device
        type: string
        sql: device
      - name: mobile_device
        type: string
        sql: "nullIf(device, 'desktop')"
      - name: date
        type: time
        sql: date
    segments:
      - name: mobile
        sql: "{CUBE}.device = 'mobile'"
views:
  - name: ads
    cubes:
      - join_path: ad_performance
        includes: [clicks, platform, date]
`;

interface Fact {
  tenant_id: string;
  date: string;
  platform: string;
  device: string;
  clicks: number;
  impressions: number;
  cost: number;
}

/** Distinct platforms per tenant, so a leak would show up as a foreign platform name. */
function facts(): Fact[] {
  const out: Fact[] = [];
  const platforms: Record<string, string[]> = { acme: ['google_ads', 'meta_ads'], globex: ['tiktok_ads', 'linkedin_ads'] };
  for (const tenant of ['acme', 'globex']) {
    for (let d = 0; d < 75; d++) {
      const date = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
      platforms[tenant].forEach((platform, i) => {
        for (const device of ['mobile', 'desktop']) {
          const seed = (d + 3) * (i + 5) * (device === 'mobile' ? 3 : 7) * (tenant === 'acme' ? 1 : 2);
          out.push({ tenant_id: tenant, date, platform, device, clicks: seed % 89, impressions: 500 + (seed % 211), cost: (seed % 40) + 0.5 });
        }
      });
    }
  }
  return out;
}

const rows = facts();
let dir: string;
let engine: Engine;
let proxy: SqlProxy;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(`${tmpdir()}/strata-`);
  engine = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  await engine.insert(
    'ad_performance',
    rows.map((r) => ({
      ...r,
      account_id: 'a',
      campaign_id: 'c',
      ad_group_id: 'g',
      ad_id: 'ad',
      country: 'US',
      conversions: 0,
      conversion_value: 0,
      video_views: 0,
      engagements: 0,
    })),
  );
  const logger = createLogger('silent');
  const model = loadModel([{ path: 'cube-models/sqlproxy-e2e.yml', text: MODEL }]);
  const query = createQueryService({
    model,
    engine,
    limits: { defaultRowLimit: 1000, maxRowLimit: 5000 },
    queryTimeoutMs: 30_000,
    cache: { ttlMs: 60_000, maxEntries: 1000 },
    logger,
    metrics: createMetrics(),
  });
  const authenticator = createAuthenticator({ auth: { jwtSecret: SECRET } });
  proxy = await startSqlProxy({ config: { enabled: true, port: 0, host: '127.0.0.1' }, query, authenticator, logger });
  tokens.acme = await mintDevToken(SECRET, { tenantId: 'acme', scopes: ['metrics:read', 'finance:read'] });
  tokens.acmeViewer = await mintDevToken(SECRET, { tenantId: 'acme', scopes: ['metrics:read'] });
  tokens.globex = await mintDevToken(SECRET, { tenantId: 'globex', scopes: ['metrics:read', 'finance:read'] });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function client(token: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'bi', database: 'strata', password: token });
  c.on('error', () => {});
  await c.connect();
  return c;
}

function expected(tenant: string, pick: (f: Fact) => boolean, key: (f: Fact) => string) {
  const out = new Map<string, { clicks: number; impressions: number; cost: number; n: number }>();
  for (const f of rows) {
    if (f.tenant_id !== tenant || !pick(f)) continue;
    const k = key(f);
    const cur = out.get(k) ?? { clicks: 0, impressions: 0, cost: 0, n: 0 };
    out.set(k, { clicks: cur.clicks + f.clicks, impressions: cur.impressions + f.impressions, cost: cur.cost + f.cost, n: cur.n + 1 });
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('numbers against the real engine, scoped to the credential tenant', () => {
  it('each tenant sees exactly its own rows', async () => {
    for (const tenant of ['acme', 'globex']) {
      const c = await client(tokens[tenant]);
      const res = await c.query('SELECT platform, SUM(clicks) AS clicks, COUNT(*) AS n FROM ad_performance GROUP BY platform ORDER BY platform');
      expect(res.rows).toEqual(
        expected(
          tenant,
          () => true,
          (f) => f.platform,
        ).map(([platform, v]) => ({ platform, clicks: String(v.clicks), n: String(v.n) })),
      );
      await c.end();
    }
  });

  it('date_trunc + time range + segment + HAVING + MEASURE(number)', async () => {
    const c = await client(tokens.acme);
    const res = await c.query(
      "SELECT date_trunc('month', date) AS month, SUM(clicks) AS clicks, MEASURE(ctr) AS ctr FROM ad_performance WHERE mobile AND date >= $1 AND date < CAST('2024-03-01' AS date) GROUP BY 1 HAVING SUM(clicks) > 0 ORDER BY 1",
      ['2024-01-15'],
    );
    const want = expected(
      'acme',
      (f) => f.device === 'mobile' && f.date >= '2024-01-15' && f.date < '2024-03-01',
      (f) => f.date.slice(0, 7),
    );
    expect(res.rows.map((r) => [r.month.getFullYear() * 100 + r.month.getMonth() + 1, Number(r.clicks)])).toEqual(
      want.map(([m, v]) => [Number(m.replace('-', '')), v.clicks]),
    );
    res.rows.forEach((r, i) => {
      expect(Number(r.ctr)).toBeCloseTo(want[i][1].clicks / want[i][1].impressions, 9);
    });
    await c.end();
  });

  it('views are tables too', async () => {
    const c = await client(tokens.globex);
    const res = await c.query("SELECT platform, SUM(clicks) AS clicks FROM ads WHERE platform LIKE 'tik%' GROUP BY 1");
    expect(res.rows).toEqual(
      expected(
        'globex',
        (f) => f.platform.startsWith('tik'),
        (f) => f.platform,
      ).map(([platform, v]) => ({ platform, clicks: String(v.clicks) })),
    );
    await c.end();
  });

  it('finance columns need finance:read (42501); with it the numbers match', async () => {
    const viewer = await client(tokens.acmeViewer);
    await expect(viewer.query('SELECT platform, SUM(cost) FROM ad_performance GROUP BY 1')).rejects.toMatchObject({ code: '42501', position: '22' });
    const cols = await viewer.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'ad_performance'");
    expect(cols.rows.map((r) => r.column_name).sort()).toEqual([
      'clicks',
      'count',
      'ctr',
      'date',
      'device',
      'impressions',
      'mobile',
      'mobile_device',
      'platform',
    ]);
    await viewer.end();
    const analyst = await client(tokens.acme);
    const res = await analyst.query('SELECT SUM(cost) AS cost FROM ad_performance');
    const total = rows.filter((r) => r.tenant_id === 'acme').reduce((a, r) => a + r.cost, 0);
    expect(Number(res.rows[0].cost)).toBeCloseTo(total, 6);
    await analyst.end();
  });
});

describe('Postgres NULL semantics', () => {
  it("a negated comparison never matches NULL (Cube's notEquals would)", async () => {
    const c = await client(tokens.acme);
    const count = async (where: string) => Number((await c.query(`SELECT COUNT(*) AS n FROM ad_performance WHERE ${where}`)).rows[0].n);
    const mobile = rows.filter((f) => f.tenant_id === 'acme' && f.device === 'mobile').length;
    const desktop = rows.filter((f) => f.tenant_id === 'acme' && f.device === 'desktop').length;
    // mobile_device is NULL on desktop rows.
    expect(await count("mobile_device <> 'mobile'")).toBe(0);
    expect(await count("NOT (mobile_device = 'mobile')")).toBe(0);
    expect(await count("mobile_device NOT IN ('tablet')")).toBe(mobile);
    expect(await count("mobile_device NOT LIKE 'tab%'")).toBe(mobile);
    expect(await count('mobile_device IS NULL')).toBe(desktop);
    expect(await count("mobile_device <> 'mobile' OR mobile_device IS NULL")).toBe(desktop);
    // IS [NOT] DISTINCT FROM is the NULL-safe comparison.
    expect(await count("mobile_device IS DISTINCT FROM 'mobile'")).toBe(desktop);
    expect(await count("mobile_device IS NOT DISTINCT FROM 'mobile'")).toBe(mobile);
    expect(await count('mobile_device IS DISTINCT FROM NULL')).toBe(mobile);
    await c.end();
  });
});

describe('refusals: nothing user-written reaches ClickHouse', () => {
  it('quotes and parameters stay values', async () => {
    const c = await client(tokens.acme);
    expect((await c.query("SELECT platform, SUM(clicks) FROM ad_performance WHERE platform = 'x'' OR tenant_id <> ''' GROUP BY 1")).rows).toEqual([]);
    expect((await c.query('SELECT platform, SUM(clicks) FROM ad_performance WHERE platform = $1 GROUP BY 1', ["' OR 1=1 --"])).rows).toEqual([]);
    await c.end();
  });

  it('raw ClickHouse functions, hidden columns and system tables are refused', async () => {
    const c = await client(tokens.acme);
    await expect(c.query('SELECT toStartOfMonth(date), SUM(clicks) FROM ad_performance GROUP BY 1')).rejects.toMatchObject({ code: '0A000', position: '8' });
    await expect(c.query('SELECT tenant_id, SUM(clicks) FROM ad_performance GROUP BY 1')).rejects.toMatchObject({ code: '42703' });
    await expect(c.query('SELECT * FROM system.tables')).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query("SELECT * FROM url('http://example.com', 'CSV')")).rejects.toMatchObject({ code: '42883' });
    await expect(c.query('SELECT platform FROM ad_performance; DROP TABLE ad_performance')).rejects.toMatchObject({ code: '25006' });
    await expect(c.query('SELECT SUM(clicks) FROM ad_performance WHERE platform IN (SELECT name FROM system.tables)')).rejects.toMatchObject({ code: '0A000' });
    await c.end();
  });

  it('an expired or foreign token is refused at startup (28P01)', async () => {
    const forged = await mintDevToken('another-secret', { tenantId: 'acme', scopes: ['metrics:read'] });
    await expect(client(forged)).rejects.toMatchObject({ code: '28P01' });
  });
});

describe('composed statements (WITH, UNION, windows, subqueries, joins of results)', () => {
  const totals = (tenant: string) =>
    expected(
      tenant,
      () => true,
      (f) => f.platform,
    );

  it('UNION ALL, a window and a join of two results equal an independent computation, per tenant', async () => {
    for (const tenant of ['acme', 'globex']) {
      const c = await client(tokens[tenant]);
      const byPlatform = totals(tenant);
      const all = byPlatform.reduce((n, [, v]) => n + v.clicks, 0);
      const union = await c.query(
        "SELECT platform, SUM(clicks) AS clicks FROM ad_performance GROUP BY platform UNION ALL SELECT 'zz_all', SUM(clicks) FROM ad_performance ORDER BY 1",
      );
      expect(union.rows).toEqual([...byPlatform.map(([platform, v]) => ({ platform, clicks: String(v.clicks) })), { platform: 'zz_all', clicks: String(all) }]);

      const ranked = await c.query(
        'SELECT platform, SUM(clicks) AS clicks, rank() OVER (ORDER BY SUM(clicks) DESC) AS r FROM ad_performance GROUP BY platform ORDER BY r',
      );
      const byClicks = [...byPlatform].sort((a, b) => b[1].clicks - a[1].clicks);
      expect(ranked.rows.map((r) => [r.platform, Number(r.clicks), Number(r.r)])).toEqual(byClicks.map(([p, v], i) => [p, v.clicks, i + 1]));

      const mobile = expected(
        tenant,
        (f) => f.device === 'mobile',
        (f) => f.platform,
      );
      const joined = await c.query(
        "SELECT a.platform, a.clicks, b.mobile FROM (SELECT platform, SUM(clicks) AS clicks FROM ad_performance GROUP BY platform) a JOIN (SELECT platform, SUM(clicks) AS mobile FROM ad_performance WHERE device = 'mobile' GROUP BY platform) b ON a.platform = b.platform ORDER BY 1",
      );
      expect(joined.rows).toEqual(byPlatform.map(([platform, v], i) => ({ platform, clicks: String(v.clicks), mobile: String(mobile[i][1].clicks) })));
      await c.end();
    }
  });

  it('hostile composed statements see only the caller tenant: no foreign platform in any cell', async () => {
    const c = await client(tokens.globex);
    const foreign = ['google_ads', 'meta_ads'];
    const statements = [
      'SELECT platform FROM ad_performance UNION SELECT platform FROM ad_performance WHERE platform NOT IN (SELECT platform FROM ad_performance)',
      'WITH t AS (SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform) SELECT a.platform, b.platform FROM t a JOIN t b ON a.platform <> b.platform',
      'WITH t AS (SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform) SELECT * FROM t, t AS u',
      'SELECT platform, rank() OVER (PARTITION BY platform ORDER BY SUM(clicks)) FROM ad_performance GROUP BY platform',
      'SELECT platform, SUM(clicks) FROM ad_performance WHERE EXISTS (SELECT 1 FROM ad_performance WHERE platform IS NOT NULL) GROUP BY 1',
      "SELECT platform FROM ad_performance WHERE platform IN (SELECT platform FROM ad_performance WHERE platform LIKE '%') GROUP BY 1",
      'SELECT * FROM (SELECT platform, COUNT(*) AS n FROM ad_performance GROUP BY 1) x FULL JOIN (SELECT device, COUNT(*) AS n FROM ad_performance GROUP BY 1) y ON true',
      'SELECT platform FROM ad_performance GROUP BY 1 EXCEPT SELECT platform FROM ad_performance WHERE device = $1 GROUP BY 1',
      'SELECT platform, device, SUM(clicks), GROUPING(platform, device) FROM ad_performance GROUP BY ROLLUP(platform, device)',
      "SELECT platform, SUM(clicks) FILTER (WHERE device <> 'x') FROM ad_performance GROUP BY CUBE(platform)",
      'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT platform FROM ad_performance, r GROUP BY 1',
    ];
    const texts: string[] = [];
    for (const sql of statements) {
      const res = await c.query(sql, sql.includes('$1') ? ['nothing'] : undefined).catch((e: { code?: string }) => ({ rows: [], error: e.code }));
      texts.push(JSON.stringify(res.rows));
    }
    for (const t of texts) for (const f of foreign) expect(t).not.toContain(f);
    // At least the ordinary ones answered with the caller's own platforms.
    expect(texts.filter((t) => t.includes('tiktok_ads')).length).toBeGreaterThanOrEqual(9);
    // Leaf tables never outlive their statement, and cannot be named next to a cube.
    await expect(c.query('SELECT * FROM pg_temp.strata_leaf_1')).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query('SELECT platform FROM ad_performance UNION ALL SELECT c1 FROM pg_temp.strata_leaf_1')).rejects.toMatchObject({ code: '0A000' });
    await expect(c.query('SELECT platform FROM ad_performance UNION SELECT pg_sleep(1)::text')).rejects.toMatchObject({ code: '42501' });
    await c.end();
  });

  it('two tenants composing at once on the shared post engine each get only their own rows', async () => {
    const sql =
      "SELECT platform, SUM(clicks) AS clicks FROM ad_performance GROUP BY platform UNION ALL SELECT 'zz_all', SUM(clicks) FROM ad_performance ORDER BY 1";
    const want = (tenant: string) => {
      const rows = totals(tenant).map(([platform, v]) => ({ platform, clicks: String(v.clicks) }));
      return [...rows, { platform: 'zz_all', clicks: String(totals(tenant).reduce((n, [, v]) => n + v.clicks, 0)) }];
    };
    const clients = await Promise.all(['acme', 'globex', 'acme', 'globex'].map(async (t) => ({ t, c: await client(tokens[t]) })));
    const results = await Promise.all(clients.flatMap(({ t, c }) => Array.from({ length: 5 }, async () => ({ t, rows: (await c.query(sql)).rows }))));
    for (const r of results) expect(r.rows).toEqual(want(r.t));
    await Promise.all(clients.map(({ c }) => c.end()));
  });
});

describe('psql against the real stack', () => {
  it('\\dt, \\d and a query', async () => {
    const env = { ...process.env, PGPASSWORD: tokens.globex, PGSSLMODE: 'disable' };
    const base = ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'bi', '-d', 'strata', '-X', '-v', 'ON_ERROR_STOP=1'];
    const dt = await run('psql', [...base, '-c', '\\dt'], { env });
    expect(dt.stdout).toMatch(/public \| ad_performance \| table/);
    const l = await run('psql', [...base, '-c', '\\l'], { env });
    expect(l.stdout).toMatch(/List of databases/);
    expect(l.stdout).toMatch(/^\s*strata\s*\|/m);
    const who = await run('psql', [...base, '-A', '-t', '-c', 'SELECT current_user, current_database(), version()'], { env });
    expect(who.stdout).toMatch(/^bi\|strata\|PostgreSQL 18\.6 /);
    const d = await run('psql', [...base, '-c', '\\d ad_performance'], { env });
    expect(d.stdout).toMatch(/cost\s+\| numeric/);
    const q = await run(
      'psql',
      [
        ...base,
        '-A',
        '-t',
        '-c',
        "SELECT platform, SUM(clicks) FROM ad_performance WHERE date BETWEEN '2024-02-01' AND '2024-02-29' GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
      ],
      { env },
    );
    const want = expected(
      'globex',
      (f) => f.date >= '2024-02-01' && f.date <= '2024-02-29',
      (f) => f.platform,
    ).sort((a, b) => b[1].clicks - a[1].clicks)[0];
    expect(q.stdout.trim()).toBe(`${want[0]}|${want[1].clicks}`);
  });

  it('\\copy exports a query as CSV with a header, and a table as COPY text (NULLs as \\N)', async () => {
    const env = { ...process.env, PGPASSWORD: tokens.globex, PGSSLMODE: 'disable' };
    const base = ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'bi', '-d', 'strata', '-X', '-v', 'ON_ERROR_STOP=1'];
    const file = `${dir}/export.csv`;
    await run(
      'psql',
      [...base, '-c', `\\copy (SELECT platform, SUM(clicks) AS clicks FROM ad_performance GROUP BY 1 ORDER BY 1) TO '${file}' WITH (FORMAT csv, HEADER)`],
      { env },
    );
    const want = expected(
      'globex',
      () => true,
      (f) => f.platform,
    ).map(([p, v]) => `${p},${v.clicks}`);
    expect(readFileSync(file, 'utf8')).toBe(['platform,clicks', ...want, ''].join('\n'));
    const text = await run('psql', [...base, '-c', 'COPY (SELECT platform, mobile_device FROM ad_performance GROUP BY 1, 2 ORDER BY 1, 2) TO STDOUT'], { env });
    const rows = [...new Set(rows_(tokens.globex))];
    expect(text.stdout.trim().split('\n').sort()).toEqual(rows);
    // COPY FROM writes: refused.
    // (stdin closed, as a script's would be: psql waits on an open one)
    const refused = await run('sh', ['-c', `psql ${base.join(' ')} -c 'COPY ad_performance FROM STDIN' < /dev/null`], { env }).catch(
      (e: { stderr: string }) => e,
    );
    expect((refused as { stderr: string }).stderr).toMatch(/read-only/);
  });
});

/** The (platform, mobile_device) pairs of globex as COPY text lines: desktop rows have no mobile_device (\N). */
function rows_(_token: string): string[] {
  return rows
    .filter((f) => f.tenant_id === 'globex')
    .map((f) => `${f.platform}\t${f.device === 'desktop' ? '\\N' : f.device}`)
    .sort();
}
