/**
 * `npx tsx bench/startup.ts [--runs 5]` — time to ready and memory of `strata serve` started the way
 * production starts it (`node dist/cli/main.mjs serve`, the bundle built at install / image build)
 * and the way `npm start` used to (`tsx src/main.ts serve`, TypeScript compiled at every start).
 * Each run is a fresh process on one data directory migrated and seeded beforehand (a restart, not a
 * first start); runs alternate between the setups; prints medians. Time to ready = spawn until
 * GET /ready answers 200; RSS = the process's VmRSS right then, after one GraphQL query, and 8 s
 * later (the SQL proxy's catalog template made, its worker gone). Defaults otherwise: the SQL proxy
 * on, jobs on, cache on.
 *
 * A third setup is how a deployment runs it: the bundle with a Postgres server (DATABASE_URL, a
 * database of its own on 127.0.0.1:5432) and ClickHouse over HTTP (CLICKHOUSE_URL: the test
 * suite's ClickHouse-HTTP adapter, chDB in its own process), so neither PGlite nor chDB loads in
 * the measured process.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startClickhouseHttp } from '../test/helpers/clickhouse-http.js';

const ROOT = join(import.meta.dirname, '..');
const SETTLE_MS = 8_000;
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const SECRET = 'strata-bench-secret-0123456789abcdef0123';

const MODES = {
  bundle: [process.execPath, ['--enable-source-maps', 'dist/cli/main.mjs', 'serve']],
  tsx: [process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve']],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function once(
  mode: keyof typeof MODES,
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ readyMs: number; rss: number; rssAfterQuery: number; rssSettled: number }> {
  const port = await freePort();
  const [cmd, args] = MODES[mode];
  const started = performance.now();
  const child: ChildProcess = spawn(cmd, [...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      STRATA_ENV: 'test',
      SEED_DEMO: 'false',
      JWT_SECRET: SECRET,
      DATA_DIR: dataDir,
      PORT: String(port),
      SQL_PROXY_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      ...extraEnv,
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`${mode}: exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - started;
    const rss = rssMiB(child.pid!);
    const { mintDevToken } = await import('../src/auth/jwt.js');
    const token = await mintDevToken(SECRET, { tenantId: 'acme', roles: ['analyst'] });
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ adPerformance(where: {date: {inDateRange: "last 30 days"}}) { platform cost } }' }),
    });
    if (!res.ok) throw new Error(`${mode}: query answered ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    const rssAfterQuery = rssMiB(child.pid!);
    // Work started at boot (the SQL proxy's catalog template, rollup checks) has finished by now.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { readyMs, rss, rssAfterQuery, rssSettled: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'strata-startup-bench-'));
const serversDir = mkdtempSync(join(tmpdir(), 'strata-startup-bench-servers-'));
const PG_ADMIN = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const pgDatabase = `strata_startup_bench_${process.pid}`;
const clickhouse = await startClickhouseHttp();
const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE ${pgDatabase}`);
const pgUrl = new URL(PG_ADMIN);
pgUrl.pathname = `/${pgDatabase}`;
const SERVERS = { DATABASE_URL: pgUrl.toString(), CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_DATABASE: 'strata' };
try {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'ignore' });
  // A first start migrates and seeds (demo data, tenants registered), so every measured start is a restart.
  const SEED = { SEED_DEMO: 'true', DEMO_SCALE: '0.2', DEMO_END_DATE: '2026-10-31' };
  await once('bundle', dataDir, SEED);
  await once('bundle', serversDir, { ...SERVERS, ...SEED });
  const results: Record<string, { readyMs: number[]; rss: number[]; rssAfterQuery: number[]; rssSettled: number[] }> = {};
  const setups = [
    ['bundle', 'bundle', dataDir, {}],
    ['tsx', 'tsx', dataDir, {}],
    ['servers', 'bundle', serversDir, SERVERS],
  ] as const;
  for (let i = 0; i < runs; i++) {
    for (const [name, mode, dir, env] of setups) {
      const r = await once(mode, dir, env);
      const acc = (results[name] ??= { readyMs: [], rss: [], rssAfterQuery: [], rssSettled: [] });
      acc.readyMs.push(r.readyMs);
      acc.rss.push(r.rss);
      acc.rssAfterQuery.push(r.rssAfterQuery);
      acc.rssSettled.push(r.rssSettled);
    }
  }
  console.log(`strata serve, restart on a seeded warehouse; median of ${runs} (servers: bundle, Postgres server + ClickHouse over HTTP)`);
  console.log(`mode     ready (ms)   RSS at ready (MiB)   RSS after one query (MiB)   RSS ${SETTLE_MS / 1000} s later (MiB)`);
  for (const [mode, r] of Object.entries(results)) {
    console.log(
      `${mode.padEnd(8)} ${median(r.readyMs).toFixed(0).padStart(10)}   ${median(r.rss).toFixed(0).padStart(18)}   ${median(r.rssAfterQuery).toFixed(0).padStart(25)}   ${median(r.rssSettled).toFixed(0).padStart(22)}`,
    );
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(serversDir, { recursive: true, force: true });
  await clickhouse.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
  await admin.end();
}
