/**
 * `npx tsx bench/startup.ts [--runs 5]` — time to ready and memory of `strata serve` started the way
 * production starts it (`node dist/cli/main.mjs serve`, the bundle built at install / image build)
 * and the way `npm start` used to (`tsx src/main.ts serve`, TypeScript compiled at every start).
 * Each run is a fresh process on one data directory migrated and seeded beforehand (a restart, not a
 * first start); runs alternate between the two modes; prints medians. Time to ready = spawn until
 * GET /ready answers 200; RSS = the process's VmRSS right then and after one GraphQL query. Defaults
 * otherwise: the SQL proxy on (with its spare catalog engine), jobs on, cache on.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
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
): Promise<{ readyMs: number; rss: number; rssAfterQuery: number }> {
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
    return { readyMs, rss, rssAfterQuery: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'strata-startup-bench-'));
try {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'ignore' });
  // A first start migrates and seeds (demo data, tenants registered), so every measured start is a restart.
  await once('bundle', dataDir, { SEED_DEMO: 'true', DEMO_SCALE: '0.2', DEMO_END_DATE: '2026-10-31' });
  const results: Record<string, { readyMs: number[]; rss: number[]; rssAfterQuery: number[] }> = {};
  for (let i = 0; i < runs; i++) {
    for (const mode of Object.keys(MODES) as (keyof typeof MODES)[]) {
      const r = await once(mode, dataDir);
      const acc = (results[mode] ??= { readyMs: [], rss: [], rssAfterQuery: [] });
      acc.readyMs.push(r.readyMs);
      acc.rss.push(r.rss);
      acc.rssAfterQuery.push(r.rssAfterQuery);
    }
  }
  console.log(`strata serve, embedded engines, restart on a seeded directory; median of ${runs}`);
  console.log('mode     ready (ms)   RSS at ready (MiB)   RSS after one query (MiB)');
  for (const [mode, r] of Object.entries(results)) {
    console.log(
      `${mode.padEnd(8)} ${median(r.readyMs).toFixed(0).padStart(10)}   ${median(r.rss).toFixed(0).padStart(18)}   ${median(r.rssAfterQuery).toFixed(0).padStart(25)}`,
    );
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
