/**
 * `npx tsx bench/catalog-first-query.ts [--runs 5]` — how long the FIRST catalog query of a fresh SQL
 * proxy takes (psql's `\dt` query, through pg, over the real cube-models), with and without the
 * engines' boot template made at start (catalog-engine/engines.ts warm()). Each run is a fresh
 * process (nothing cached across runs); prints the median of each mode.
 *
 * Modes: `cold` (no warm-up), `warm-now` (first query as soon as the proxy listens, while the
 * template is being made), `warm` (first query once the template is made: a BI tool connecting some
 * time after start).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DT =
  "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END as \"Type\" FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','S','f','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2";
const SECRET = 'strata-bench-secret-0123456789abcdef0123';

async function once(mode: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-catalog-bench-'));
  try {
    const { loadConfig } = await import('../src/config.js');
    const { createServices } = await import('../src/services.js');
    const { startSqlProxy } = await import('../src/sqlproxy/server.js');
    const { CatalogEngines } = await import('../src/sqlproxy/catalog-db.js');
    const { mintDevToken } = await import('../src/auth/jwt.js');
    const pg = (await import('pg')).default;
    const original = CatalogEngines.prototype.warm;
    let warming: Promise<void> | undefined;
    CatalogEngines.prototype.warm = function (this: InstanceType<typeof CatalogEngines>) {
      warming = mode === 'cold' ? Promise.resolve() : original.call(this);
      return warming;
    };
    const config = loadConfig({
      STRATA_ENV: 'test',
      DATA_DIR: dir,
      JWT_SECRET: SECRET,
      SEED_DEMO: 'false',
      TENANT_AUTO_PROVISION: 'true',
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
    // A BI tool connecting some time after start: the template is made by then.
    if (mode === 'warm') await warming;
    const password = await mintDevToken(SECRET, { tenantId: 'acme', roles: ['analyst'] });
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'acme', database: 'strata', password });
    await client.connect();
    const started = performance.now();
    const { rows } = await client.query(DT);
    const ms = performance.now() - started;
    if (rows.length === 0) throw new Error('the catalog listed no tables');
    process.stdout.write(`${ms.toFixed(1)}\n`);
    await client.end();
    await proxy.close();
    await services.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const argv = process.argv.slice(2);
if (argv[0] === '--once') {
  await once(argv[1]);
  process.exit(0);
} else {
  const runs = Number(argv[argv.indexOf('--runs') + 1] || 5) || 5;
  const self = fileURLToPath(import.meta.url);
  for (const mode of ['cold', 'warm-now', 'warm']) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(join(process.cwd(), 'node_modules/.bin/tsx'), [self, '--once', mode], { encoding: 'utf8' });
      samples.push(Number(out.trim().split('\n').pop()));
    }
    console.log(`${mode.padEnd(9)} median ${median(samples).toFixed(0)} ms  (runs: ${samples.map((s) => s.toFixed(0)).join(', ')})`);
  }
}
