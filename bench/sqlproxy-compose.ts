/**
 * `npx tsx bench/sqlproxy-compose.ts [--runs 15]` — what composing costs in the SQL proxy.
 *
 * 1. The post engine alone (catalog-db.ts runOverRows on a PGlite worker): leaf rows copied into a
 *    temporary table, then a count and a window function over them, for 100 to 100,000 rows.
 * 2. End to end through `pg` on the real stack (embedded chDB, demo data at scale 0.2, result cache on,
 *    so the leaves are cache hits and the figure is the proxy's own work): one plain statement, and the
 *    same question composed (UNION ALL arm, window function, join of two results), plus the rewrites
 *    that stay pushed down (CTE, subquery in WHERE, series-limit join).
 * Prints medians (ms) of each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] || 15) || 15;
const SECRET = 'strata-bench-secret-0123456789abcdef0123';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function postEngineAlone(): Promise<void> {
  const { CatalogEngines } = await import('../src/sqlproxy/catalog-db.js');
  const { frontend } = await import('../src/sqlproxy/codec.js');
  const { createLogger } = await import('../src/logger.js');
  const engines = new CatalogEngines({ logger: createLogger('silent'), statementTimeoutMs: 60_000 });
  const session = await engines.forCatalog([]);
  console.log('\n## Post engine alone (PGlite worker): leaf rows in, one statement out\n');
  console.log('| leaf rows | count(*) ms | window ms | rows/s (window) |');
  console.log('| --------: | ----------: | --------: | --------------: |');
  for (const n of [100, 1_000, 10_000, 100_000]) {
    const rows = Array.from({ length: n }, (_, i) => [`platform_${i % 7}`, String((i * 37) % 1000), `2026-0${1 + (i % 9)}-1${i % 10} 00:00:00`]);
    const table = {
      name: 'strata_leaf_1',
      columns: [
        { name: 'c1', type: 'text' },
        { name: 'c2', type: 'numeric' },
        { name: 'c3', type: 'timestamp' },
      ],
      rows,
    };
    const run = (sql: string) => session.runOverRows([table], [frontend.parse('', sql, []), frontend.bind('', '', [], [], []), frontend.execute('', 0)]);
    const counts: number[] = [];
    const windows: number[] = [];
    for (let i = 0; i < Math.max(3, Math.min(RUNS, n >= 100_000 ? 3 : RUNS)); i++) {
      counts.push(await timed(() => run('SELECT count(*) FROM pg_temp.strata_leaf_1')));
      windows.push(await timed(() => run('SELECT c1, c2, rank() OVER (PARTITION BY c1 ORDER BY c2 DESC) FROM pg_temp.strata_leaf_1')));
    }
    const w = median(windows);
    console.log(`| ${n.toLocaleString('en-US')} | ${median(counts).toFixed(1)} | ${w.toFixed(1)} | ${Math.round((n / w) * 1000).toLocaleString('en-US')} |`);
  }
  await engines.close();
}

const STATEMENTS: [string, string][] = [
  ['plain: SUM by platform', 'SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform'],
  ['pushed down: CTE inlined', 'WITH t AS (SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform) SELECT platform, c FROM t ORDER BY c DESC'],
  [
    'pushed down: subquery in WHERE',
    "SELECT platform, SUM(clicks) AS c FROM ad_performance WHERE campaign_id IN (SELECT campaign_id FROM campaigns WHERE status = 'active') GROUP BY platform",
  ],
  [
    'pushed down: series-limit join',
    'SELECT platform, SUM(clicks) AS c FROM ad_performance JOIN (SELECT platform AS p__, SUM(clicks) AS m FROM ad_performance GROUP BY platform ORDER BY m DESC LIMIT 3) AS s ON platform = p__ GROUP BY platform',
  ],
  [
    'composed: UNION ALL with a total',
    "SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform UNION ALL SELECT 'all', SUM(clicks) FROM ad_performance",
  ],
  ['composed: window (rank)', 'SELECT platform, SUM(clicks) AS c, rank() OVER (ORDER BY SUM(clicks) DESC) FROM ad_performance GROUP BY platform'],
  [
    'composed: join of two results',
    "SELECT a.platform, a.c, b.m FROM (SELECT platform, SUM(clicks) AS c FROM ad_performance GROUP BY platform) a JOIN (SELECT platform, SUM(clicks) AS m FROM ad_performance WHERE device = 'mobile' GROUP BY platform) b ON a.platform = b.platform",
  ],
  [
    'composed: window over 1 row per campaign and day',
    'SELECT date, campaign_id, SUM(clicks) AS c, SUM(SUM(clicks)) OVER (PARTITION BY campaign_id ORDER BY date) AS running FROM ad_performance GROUP BY 1, 2',
  ],
];

async function endToEnd(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-compose-bench-'));
  try {
    const { loadConfig } = await import('../src/config.js');
    const { createServices } = await import('../src/services.js');
    const { startSqlProxy } = await import('../src/sqlproxy/server.js');
    const { mintDevToken } = await import('../src/auth/jwt.js');
    const pg = (await import('pg')).default;
    const config = loadConfig({
      STRATA_ENV: 'test',
      DATA_DIR: dir,
      JWT_SECRET: SECRET,
      SEED_DEMO: 'true',
      DEMO_SCALE: '0.2',
      MODELS_DIR: 'cube-models',
      LOG_LEVEL: 'silent',
    });
    const services = await createServices(config);
    const proxy = await startSqlProxy({
      config: { ...config.sqlProxy, port: 0 },
      query: services.query,
      authenticator: services.authenticator,
      logger: services.logger,
    });
    const password = await mintDevToken(SECRET, { tenantId: 'acme', roles: ['analyst'] });
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'acme', database: 'strata', password });
    await client.connect();
    console.log(`\n## End to end through pg (scale 0.2, result cache on: leaves are cache hits), median of ${RUNS}\n`);
    console.log('| statement | rows | ms |');
    console.log('| --- | ---: | ---: |');
    for (const [name, sql] of STATEMENTS) {
      const { rowCount } = await client.query(sql); // warm: engine result cached, catalog engine booted
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await timed(() => client.query(sql)));
      console.log(`| ${name} | ${rowCount} | ${median(samples).toFixed(2)} |`);
    }
    await client.end();
    await proxy.close();
    await services.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await postEngineAlone();
await endToEnd();
process.exit(0);
