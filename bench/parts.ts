/**
 * One part of the bench, alone (development: no report is written, figures go to stderr):
 *
 *   npx tsx bench/parts.ts ingest [--scale N] [--batches 5] [--rows 100000] [--repeat 3] [--rollups]
 *   npx tsx bench/parts.ts final [--scale N] [--rounds 20] [--ingest-batches 5]
 *   npx tsx bench/parts.ts live [--scale N] [--subs 10000] [--changes 5] [--rollups] [--profile]
 *
 * ingest: the run's ingestion scenario (bench/ingest.ts: NDJSON batches over HTTP with every
 * data-quality rule) `--repeat` times on one server, rows/s per repeat and their median.
 * final: the upsert design's query cost: each widget's compiled SQL through the engine with
 * FINAL (final = 1, what Strata runs on the ReplacingMergeTree fact tables) and without (final = 0:
 * a plain MergeTree read of the same parts), interleaved per round, on the data as seeded and again
 * after `--ingest-batches` (5) batches of the ingest scenario left fresh, unmerged parts.
 * live: run.ts's live scenario (bench/live.ts) on a cached server: push latency after an ingest;
 * with `--rollups` once the rollups are built (/ready says so), so evaluations read them; with
 * `--profile` a CPU profile of the server over the changes (bench/.data/live.cpuprofile), summarised.
 * Uses run.ts's dataset (bench/.data/seed-<scale>, seeded once by either) and a copy of it.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDevToken } from '../src/auth/jwt.js';
import { ROW_TARGETS } from '../src/demo/demo-plan.js';
import { FIXED_DEMO_END_DATE } from '../src/demo/window.js';
import { sameChecksum } from './checksum.js';
import { startServerChild } from './child.js';
import { runIngest } from './ingest.js';
import { runLive } from './live.js';
import { summarizeProfile } from './profile.js';
import type { FloorSample } from './server.js';
import { summarize } from './stats.js';
import { BENCH_ROLES, BENCH_TENANT, WIDGETS } from './workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = join(ROOT, 'bench/.data');
const SECRET = 'strata-bench-secret-0123456789abcdef0123';
const ROWS_AT_SCALE_1 = Object.values(ROW_TARGETS).reduce((a, b) => a + b, 0);

const argv = process.argv.slice(2);
const value = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const part = argv[0];
if (part !== 'ingest' && part !== 'final' && part !== 'live') throw new Error('usage: bench/parts.ts ingest|final|live [--scale N]');
const scale = Math.round(value('scale', 1e7 / ROWS_AT_SCALE_1) * 1000) / 1000;
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function env(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STRATA_ENV: 'production',
    // As the image runs (Dockerfile: ENV NODE_ENV=production): libraries take their production paths
    // (graphql-js drops its development-only instanceof checks).
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    SQL_PROXY_PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    MODELS_DIR: 'cube-models',
    SEED_DEMO: 'false',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
    // The fact tables: runs stay comparable with earlier ones and with Cube (no pre-aggregations);
    // rollups are measured with and without by bench/rollups.ts.
    ROLLUPS_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** run.ts's seed directory for this scale (seeded here when missing), copied to a run directory. */
async function dataset(): Promise<string> {
  const seedDir = join(DATA, `seed-${scale}`);
  const marker = join(seedDir, 'dataset.json');
  if (!existsSync(marker)) {
    rmSync(seedDir, { recursive: true, force: true });
    mkdirSync(seedDir, { recursive: true });
    log(`seeding scale ${scale} into ${seedDir}`);
    const t0 = performance.now();
    const seeder = await startServerChild({ env: env(seedDir, { SEED_DEMO: 'true', DEMO_SCALE: String(scale) }) });
    const seedSeconds = (performance.now() - t0) / 1000;
    const info = await seeder.call<{ chdbVersion: string; rows: Record<string, number> }>({ op: 'info' });
    await seeder.stop();
    writeFileSync(marker, JSON.stringify({ scale, seedSeconds, ...info }, null, 2));
  }
  const runDir = join(DATA, `run-${part}`);
  rmSync(runDir, { recursive: true, force: true });
  cpSync(seedDir, runDir, { recursive: true });
  const rows = (JSON.parse(readFileSync(marker, 'utf8')) as { rows: Record<string, number> }).rows;
  log(
    `dataset: scale ${scale}, ${Object.values(rows)
      .reduce((a, b) => a + b, 0)
      .toLocaleString('en-US')} rows; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  return runDir;
}

/** Waits until the server's rollups are built (its /ready body says `rollups: "ready"`). */
async function rollupsReady(url: string): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const body = (await (await fetch(`${url}/ready`)).json()) as { rollups?: string };
    if (body.rollups === 'ready') {
      log(`rollups ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
    if (body.rollups === 'failed' || body.rollups === 'off') throw new Error(`rollups ${body.rollups}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const runDir = await dataset();
// --rollups: the production default (marker views on every insert, rollups brought up to date before the change signal).
const subs = value('subs', 10_000);
const server = await startServerChild({
  env: env(runDir, {
    // live: the cached server of run.ts's live scenario.
    CACHE_TTL_MS: part === 'live' ? '3600000' : '0',
    ...(part === 'live' ? { MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(100, Math.ceil(subs / 10))) } : {}),
    ...(argv.includes('--rollups') ? { ROLLUPS_ENABLED: 'true' } : {}),
  }),
});
try {
  if (part === 'live') {
    if (argv.includes('--rollups')) await rollupsReady(server.url);
    const userToken = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: BENCH_ROLES, expiresIn: '6h', subject: 'bench' });
    const ingestToken = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: ['tenant_admin'], expiresIn: '6h', subject: 'bench-ingest' });
    const live = await runLive({
      server,
      userToken,
      ingestToken,
      subscriptions: subs,
      connections: 10,
      variants: 5,
      changes: value('changes', 5),
      timeoutMs: 20_000,
      profilePath: argv.includes('--profile') ? join(DATA, 'live.cpuprofile') : undefined,
    });
    if (argv.includes('--profile'))
      log(`profile ${join(DATA, 'live.cpuprofile')}:\n${JSON.stringify(summarizeProfile(join(DATA, 'live.cpuprofile'), 30), null, 1)}`);
    log(
      `live${argv.includes('--rollups') ? ' (rollups)' : ''}: ${subs} subscriptions, push p50 ${live.push.p50.toFixed(0)} ms p95 ${live.push.p95.toFixed(0)} ms; ` +
        `probe p50 ${live.probePush?.p50.toFixed(0)} ms p95 ${live.probePush?.p95.toFixed(0)} ms; ingest p50 ${live.ingestMs.p50.toFixed(0)} ms; ` +
        `${live.evaluationsPerChange} evaluations, ${live.statementsPerChange.toFixed(1)} statements per change; ` +
        `server RSS ${(live.rssBefore / 1024 ** 2).toFixed(0)} MiB before subscribing, ${(live.rssAfter / 1024 ** 2).toFixed(0)} MiB with them; load ${os.loadavg()[0].toFixed(2)}`,
    );
  } else if (part === 'ingest') {
    const token = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: ['tenant_admin'], expiresIn: '6h', subject: 'bench-ingest' });
    const rates: number[] = [];
    const cpuPerRow: number[] = [];
    for (let r = 0; r < value('repeat', 3); r++) {
      let cpu = 0;
      const res = await runIngest({
        url: server.url,
        token,
        batches: value('batches', 5),
        rowsPerBatch: value('rows', 100_000),
        runId: `${Date.now()}-${r}`,
        insertFloor: (ndjson) => server.call({ op: 'insert-floor', table: 'ad_performance', tenantId: 'bench-floor', ndjson }),
        // Server CPU (all its threads: JS and the engine) over the timed batches: steadier than wall time on a shared machine.
        around: async (fn) => {
          const c0 = server.cpuSeconds();
          // --profile: a V8 CPU profile of the server's main thread over the first repeat's batches.
          const profile = argv.includes('--profile') && r === 0 ? join(DATA, 'ingest.cpuprofile') : undefined;
          if (profile) await server.call({ op: 'profile-start' });
          const out = await fn();
          cpu = server.cpuSeconds() - c0;
          if (profile) {
            await server.call({ op: 'profile-stop', path: profile });
            const summary = summarizeProfile(profile, 30);
            log(`profile ${profile}:\n${JSON.stringify(summary, null, 1)}`);
          }
          return out;
        },
      });
      cpuPerRow.push((cpu * 1e6) / res.rows);
      if (res.quarantined !== res.expectedQuarantined) throw new Error(`quarantined ${res.quarantined}, expected ${res.expectedQuarantined}`);
      rates.push(res.rowsPerSecond);
      log(
        `ingest ${r + 1}: ${res.rowsPerSecond.toFixed(0)} rows/s, server CPU ${cpuPerRow[r].toFixed(2)} µs/row (batch p50 ${res.batchMs.p50.toFixed(0)} ms; insertRaw floor ${res.floor.rawRowsPerSecond?.toFixed(0)} rows/s)`,
      );
    }
    log(
      `ingest median: ${summarize(rates).p50.toFixed(0)} rows/s, server CPU ${summarize(cpuPerRow).p50.toFixed(2)} µs/row over ${rates.length} repeats; load ${os.loadavg()[0].toFixed(2)}`,
    );
  } else {
    const rounds = value('rounds', 20);
    const floor = (i: number, final: boolean) =>
      server.call<FloorSample>({ op: 'floor', tenantId: BENCH_TENANT, roles: BENCH_ROLES, query: WIDGETS[i].cube, final });
    const measure = async (state: string) => {
      const times = WIDGETS.map(() => ({ final: [] as number[], plain: [] as number[] }));
      for (let i = 0; i < WIDGETS.length; i++) {
        const [a, b] = [await floor(i, true), await floor(i, false)]; // warm-up, and the same answer both ways
        if (a.rows !== b.rows || !sameChecksum(a.checksum, b.checksum)) log(`${WIDGETS[i].id}: FINAL and plain reads differ (${state})`);
      }
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < WIDGETS.length; i++) {
          // Alternate which read goes first: no order bias.
          for (const final of r % 2 ? [false, true] : [true, false]) times[i][final ? 'final' : 'plain'].push((await floor(i, final)).ms);
        }
      }
      let sumFinal = 0;
      let sumPlain = 0;
      for (const [i, w] of WIDGETS.entries()) {
        const f = summarize(times[i].final).p50;
        const p = summarize(times[i].plain).p50;
        sumFinal += f;
        sumPlain += p;
        log(`${state}: ${w.id.padEnd(22)} FINAL p50 ${f.toFixed(2)} ms, plain p50 ${p.toFixed(2)} ms, ×${(f / p).toFixed(2)}`);
      }
      log(
        `${state}: all widgets FINAL ${sumFinal.toFixed(1)} ms, plain ${sumPlain.toFixed(1)} ms, ×${(sumFinal / sumPlain).toFixed(2)}; load ${os.loadavg()[0].toFixed(2)}`,
      );
    };
    await measure('as seeded');
    // Fresh parts, as ingestion leaves them before merges: batches over the widgets' dates, then again.
    const batches = value('ingest-batches', 5);
    if (batches > 0) {
      const token = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: ['tenant_admin'], expiresIn: '6h', subject: 'bench-ingest' });
      await runIngest({
        url: server.url,
        token,
        batches,
        rowsPerBatch: value('rows', 100_000),
        runId: `final-${Date.now()}`,
        insertFloor: async () => ({ rows: 0, parseMs: 0, insertMs: 0 }),
      });
      await measure(`after ${batches} ingested batches`);
    }
  }
} finally {
  await server.stop();
  rmSync(runDir, { recursive: true, force: true });
}
