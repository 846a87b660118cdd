/**
 * `npm run bench` — Strata against the engine's own floor, on a deterministic demo dataset.
 *
 *   npm run bench                      10M fact rows, every scenario, writes BENCHMARKS.md
 *   npm run bench -- --quick           small dataset (scale 0.2), short runs (development); writes
 *                                      bench/out/BENCHMARKS-quick.md, never the published BENCHMARKS.md
 *   npm run bench -- --rows 100M       or --scale 9 (1 ≈ 1.1M fact rows)
 *   npm run bench -- --profile         also V8 CPU profiles of the server (bench/.data/profiles)
 *   npm run bench -- --fresh           rebuild the dataset instead of reusing it
 *   npm run bench -- --out FILE        write the report elsewhere (`--quick --out BENCHMARKS.md` to publish a quick run)
 *   npm run bench -- --save-baseline L also keep this run's headline figures in bench/baselines.json (before/after)
 *   npm run bench -- --report-only     re-render BENCHMARKS.md from the last run's saved results (text changes only)
 *
 * How: the dataset is seeded once per scale into bench/.data/seed-<scale> and copied to a fresh
 * run directory each run (ingestion scenarios write to it). The server runs as a child process
 * (bench/server.ts = createServices + startServer + a control channel) so the load generator
 * never shares its event loop; the floor runs INSIDE that process on the same engine, through
 * the control channel, interleaved with the door requests. Two server runs: CACHE_TTL_MS=0
 * (uncached doors, batching, uncached load) and a cached one (cached doors, cached load, live
 * subscriptions, ingestion).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintDevToken } from '../src/auth/jwt.js';
import { ROW_TARGETS } from '../src/demo/demo-plan.js';
import { FIXED_DEMO_END_DATE } from '../src/demo/window.js';
import { sameChecksum, checksum } from './checksum.js';
import { startServerChild, type ServerChild } from './child.js';
import { openDoors, type DoorResult, type Doors } from './doors.js';
import { describeExport, EXPORT_ROWS, type ExportBenchResult, runExport } from './export.js';
import { runIngest, type IngestResult } from './ingest.js';
import { runLive, type LiveResult } from './live.js';
import { runLoad, type LoadResult } from './load.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { gitCommit, headline, readBaselines, saveBaseline } from './baselines.js';
import { writeReport } from './report.js';
import type { FloorSample } from './server.js';
import { summarize, type Summary } from './stats.js';
import { BENCH_ROLES, BENCH_TENANT, graphqlDocument, WIDGETS } from './workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATA = join(ROOT, 'bench/.data');
const BASELINES = join(ROOT, 'bench/baselines.json');
const QUICK_OUT = 'bench/out/BENCHMARKS-quick.md';
const SECRET = 'strata-bench-secret-0123456789abcdef0123';
const ROWS_AT_SCALE_1 = Object.values(ROW_TARGETS).reduce((a, b) => a + b, 0);

export interface Options {
  readonly quick: boolean;
  readonly scale: number;
  readonly fresh: boolean;
  readonly profile: boolean;
  readonly out: string;
  readonly rounds: number;
  readonly compileIterations: number;
  readonly loadSeconds: number;
  readonly uncachedLoadSeconds: number;
  readonly concurrency: readonly number[];
  readonly subscriptions: number;
  readonly wsConnections: number;
  readonly liveVariants: number;
  readonly liveChanges: number;
  readonly ingestBatches: number;
  readonly ingestRowsPerBatch: number;
  readonly argv: string;
  /** Append this run's headline figures to bench/baselines.json under this label. */
  readonly saveBaseline?: string;
}

function parseCount(v: string): number {
  const m = /^([\d.]+)\s*([kKmM]?)$/.exec(v.trim());
  if (!m) throw new Error(`not a row count: ${v}`);
  return Number(m[1]) * (m[2].toLowerCase() === 'm' ? 1e6 : m[2].toLowerCase() === 'k' ? 1e3 : 1);
}

function parseArgs(argv: string[]): Options {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = flag('quick');
  const rows = value('rows');
  const scale = value('scale') ? Number(value('scale')) : rows ? parseCount(rows) / ROWS_AT_SCALE_1 : quick ? 0.2 : 1e7 / ROWS_AT_SCALE_1;
  if (!(scale > 0)) throw new Error('--scale/--rows must be positive');
  const num = (name: string, def: number) => (value(name) ? Number(value(name)) : def);
  return {
    quick,
    scale: Math.round(scale * 1000) / 1000,
    fresh: flag('fresh'),
    profile: flag('profile'),
    // The committed BENCHMARKS.md is the full run's: a quick run goes elsewhere unless --out says so.
    out: value('out') ?? join(ROOT, quick ? QUICK_OUT : 'BENCHMARKS.md'),
    rounds: num('rounds', quick ? 5 : 20),
    compileIterations: quick ? 1_000 : 5_000,
    loadSeconds: num('seconds', quick ? 2 : 8),
    uncachedLoadSeconds: num('seconds', quick ? 2 : 6),
    concurrency: [1, 4, 16, 64],
    subscriptions: num('subs', quick ? 1_000 : 10_000),
    wsConnections: quick ? 4 : 10,
    liveVariants: quick ? 2 : 5,
    liveChanges: quick ? 3 : 5,
    ingestBatches: quick ? 3 : 5,
    ingestRowsPerBatch: quick ? 20_000 : 100_000,
    argv: argv.join(' '),
    saveBaseline: value('save-baseline'),
  };
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function serverEnv(dataDir: string, extra: Record<string, string>): Record<string, string> {
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
    MODELS_DIR: 'cube-models',
    SEED_DEMO: 'false',
    // The fixed data window: workloads use absolute dates, and runs must stay comparable.
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
    // The fact tables: runs stay comparable with earlier ones and with Cube (no pre-aggregations);
    // rollups are measured with and without by bench/rollups.ts.
    ROLLUPS_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Dataset {
  readonly scale: number;
  readonly rows: Record<string, number>;
  readonly factRows: number;
  readonly seedSeconds: number | null;
  readonly reused: boolean;
  readonly chdbVersion: string;
  readonly copySeconds: number;
}

async function prepareDataset(opts: Options): Promise<{ dataset: Dataset; runDir: string }> {
  const seedDir = join(DATA, `seed-${opts.scale}`);
  const marker = join(seedDir, 'dataset.json');
  let seedSeconds: number | null = null;
  let reused = true;
  if (opts.fresh || !existsSync(marker)) {
    reused = false;
    rmSync(seedDir, { recursive: true, force: true });
    mkdirSync(seedDir, { recursive: true });
    log(`seeding the demo warehouse at scale ${opts.scale} (≈${Math.round(opts.scale * ROWS_AT_SCALE_1).toLocaleString('en-US')} fact rows) into ${seedDir}`);
    const t0 = performance.now();
    const seeder = await startServerChild({ env: serverEnv(seedDir, { SEED_DEMO: 'true', DEMO_SCALE: String(opts.scale), SQL_PROXY_ENABLED: 'false' }) });
    seedSeconds = (performance.now() - t0) / 1000;
    const info = await seeder.call<{ chdbVersion: string; rows: Record<string, number> }>({ op: 'info' });
    await seeder.stop();
    writeFileSync(marker, JSON.stringify({ scale: opts.scale, seedSeconds, ...info }, null, 2));
  }
  const saved = JSON.parse(readFileSync(marker, 'utf8')) as { seedSeconds: number; chdbVersion: string; rows: Record<string, number> };
  const runDir = join(DATA, 'run');
  rmSync(runDir, { recursive: true, force: true });
  const t0 = performance.now();
  cpSync(seedDir, runDir, { recursive: true });
  const copySeconds = (performance.now() - t0) / 1000;
  const facts = ['ad_performance', 'web_sessions', 'conversions', 'email_activity'];
  return {
    runDir,
    dataset: {
      scale: opts.scale,
      rows: saved.rows,
      factRows: facts.reduce((a, t) => a + (saved.rows[t] ?? 0), 0),
      seedSeconds: seedSeconds ?? saved.seedSeconds,
      reused,
      chdbVersion: saved.chdbVersion,
      copySeconds,
    },
  };
}

export interface WidgetTimings {
  readonly id: string;
  readonly title: string;
  readonly rows: number;
  readonly compileUs: Summary;
  readonly floor: Summary;
  readonly graphql: Summary;
  readonly rest: Summary;
  readonly sql: Summary;
  readonly cachedGraphql?: Summary;
  readonly cachedRest?: Summary;
  readonly cachedSql?: Summary;
  /** Uncached GraphQL split by its Server-Timing header: engine, Strata (server minus engine), outside the server. */
  readonly graphqlSplit?: { readonly engine: Summary; readonly strata: Summary; readonly outside: Summary };
  readonly mismatches: string[];
}

export interface BatchResult {
  readonly oneRequest: Summary;
  readonly sequential: Summary;
  readonly concurrent: Summary;
  readonly floorSum: number;
}

export interface Results {
  /** The commit the run measured (with "+changes" when the tree was dirty). */
  readonly commit?: string;
  readonly options: Options;
  readonly machine: Record<string, string>;
  readonly dataset: Dataset;
  readonly startedAt: string;
  readonly seconds: number;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly serverStartMs: { uncached: number; cached: number };
  readonly widgets: WidgetTimings[];
  readonly batch: BatchResult;
  readonly uncachedLoad: LoadResult[];
  /** Single-flight: c=16, every connection the same widget, cache off (one run per widget). */
  readonly identicalLoad?: LoadResult[];
  readonly cachedLoad: LoadResult[];
  readonly serverRss: { uncached: number; cached: number };
  readonly live?: LiveResult;
  readonly liveError?: string;
  readonly ingest?: IngestResult;
  readonly ingestError?: string;
  /** The 1M-row CSV export (bench/export.ts). */
  readonly export?: ExportBenchResult;
  readonly exportError?: string;
  readonly profiles: { name: string; summary: ProfileSummary }[];
}

type Door = 'floor' | 'graphql' | 'rest' | 'sql';

async function runDoor(
  door: Door,
  i: number,
  server: ServerChild,
  doors: Doors,
): Promise<{ ms: number; rows: number; sum: number; server?: DoorResult['server'] }> {
  const w = WIDGETS[i];
  if (door === 'floor') {
    const f = await server.call<FloorSample>({ op: 'floor', tenantId: BENCH_TENANT, roles: BENCH_ROLES, query: w.cube });
    return { ms: f.ms, rows: f.rows, sum: f.checksum };
  }
  const r = door === 'graphql' ? await doors.graphql(`{ ${w.graphql} }`) : door === 'rest' ? await doors.rest(w.cube) : await doors.sql(w.sql);
  return { ms: r.ms, rows: r.rows.length, sum: checksum(r.rows), server: r.server };
}

/** Per widget: GraphQL round trips split by Server-Timing (engine / Strata / outside the server). */
type Splits = { engine: number[]; strata: number[]; outside: number[] }[];

/** Each round visits every widget through every door, in a rotating door order (no order bias). */
async function latencyRounds(server: ServerChild, doors: Doors, list: readonly Door[], rounds: number, splits?: Splits): Promise<Map<Door, number[][]>> {
  const out = new Map<Door, number[][]>(list.map((d) => [d, WIDGETS.map(() => [])]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < WIDGETS.length; i++) {
      for (let k = 0; k < list.length; k++) {
        const door = list[(k + r + i) % list.length];
        const res = await runDoor(door, i, server, doors);
        out.get(door)![i].push(res.ms);
        if (splits && res.server) {
          splits[i].engine.push(res.server.engineMs);
          splits[i].strata.push(res.server.totalMs - res.server.engineMs);
          splits[i].outside.push(res.ms - res.server.totalMs);
        }
      }
    }
  }
  return out;
}

/** Every door must return the floor's rows before any of them is timed. */
async function checkDoors(server: ServerChild, doors: Doors): Promise<{ rows: number[]; mismatches: string[][] }> {
  const rows: number[] = [];
  const mismatches: string[][] = [];
  for (let i = 0; i < WIDGETS.length; i++) {
    const floor = await runDoor('floor', i, server, doors);
    rows.push(floor.rows);
    const bad: string[] = [];
    for (const door of ['graphql', 'rest', 'sql'] as const) {
      try {
        const r = await runDoor(door, i, server, doors);
        if (r.rows !== floor.rows || !sameChecksum(r.sum, floor.sum)) {
          bad.push(`${door}: ${r.rows} rows, checksum ${r.sum.toFixed(4)} (floor ${floor.rows} rows, ${floor.sum.toFixed(4)})`);
        }
      } catch (e) {
        bad.push(`${door}: ${(e as Error).message.slice(0, 300)}`);
      }
    }
    if (bad.length) log(`widget ${WIDGETS[i].id}: ${bad.join('; ')}`);
    mismatches.push(bad);
  }
  return { rows, mismatches };
}

async function batching(doors: Doors, rounds: number): Promise<Omit<BatchResult, 'floorSum'>> {
  const whole = graphqlDocument(WIDGETS);
  const one: number[] = [];
  const seq: number[] = [];
  const conc: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    await doors.graphql(whole);
    one.push(performance.now() - t0);
    t0 = performance.now();
    for (const w of WIDGETS) await doors.graphql(`{ ${w.graphql} }`);
    seq.push(performance.now() - t0);
    t0 = performance.now();
    await Promise.all(WIDGETS.map((w) => doors.graphql(`{ ${w.graphql} }`)));
    conc.push(performance.now() - t0);
  }
  return { oneRequest: summarize(one), sequential: summarize(seq), concurrent: summarize(conc) };
}

/** One autocannon run with the server's CPU and engine statements per request. */
async function measuredLoad(server: ServerChild, token: string, bodies: readonly string[], c: number, seconds: number, label?: string): Promise<LoadResult> {
  const cpu0 = server.cpuSeconds();
  const s0 = await server.call<{ queries: number }>({ op: 'engine-stats' });
  const load = await runLoad({ url: `${server.url}/graphql`, token, bodies, connections: c, seconds });
  const s1 = await server.call<{ queries: number }>({ op: 'engine-stats' });
  const r: LoadResult = {
    ...load,
    ...(label ? { label } : {}),
    serverCpuMsPerRequest: ((server.cpuSeconds() - cpu0) * 1000) / Math.max(1, load.requests),
    statementsPerRequest: (s1.queries - s0.queries) / Math.max(1, load.requests),
  };
  log(
    `  ${label ? `${label} ` : ''}c=${c}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, server CPU ${r.serverCpuMsPerRequest!.toFixed(2)} ms/request, ${r.statementsPerRequest!.toFixed(2)} statements/request, errors ${r.errors}, non-2xx ${r.non2xx}`,
  );
  return r;
}

async function loadLevels(server: ServerChild, token: string, opts: Options, seconds: number): Promise<LoadResult[]> {
  const bodies = WIDGETS.map((w) => JSON.stringify({ query: `{ ${w.graphql} }` }));
  const out: LoadResult[] = [];
  for (const c of opts.concurrency) out.push(await measuredLoad(server, token, bodies, c, seconds));
  return out;
}

/**
 * Single-flight: every connection sends the SAME widget (cache off), so requests overlap in flight;
 * identical statements share one execution (query/single-flight.ts). One run per widget.
 */
async function identicalLoad(server: ServerChild, token: string, connections: number, seconds: number): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  for (const w of WIDGETS) out.push(await measuredLoad(server, token, [JSON.stringify({ query: `{ ${w.graphql} }` })], connections, seconds, w.id));
  return out;
}

function machine(): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ''}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (process.argv.includes('--report-only')) {
    // Re-render the report's text from the last run's saved results: no new numbers.
    const results = JSON.parse(readFileSync(join(DATA, 'last-run.json'), 'utf8')) as Results;
    // A quick run's results re-render to the quick report, wherever --quick is (not) repeated.
    const out = process.argv.includes('--out') || !results.options.quick ? opts.out : join(ROOT, QUICK_OUT);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, writeReport(results, readBaselines(BASELINES)));
    log(`wrote ${out} from ${join(DATA, 'last-run.json')} (run of ${results.startedAt})`);
    return;
  }
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  mkdirSync(DATA, { recursive: true });
  const profileDir = join(DATA, 'profiles');
  if (opts.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  const profiles: { name: string; summary: ProfileSummary }[] = [];
  /** With --profile: a CPU profile of the server's main thread over exactly this scenario. */
  async function profiled<T>(server: ServerChild, name: string, file: string, fn: () => Promise<T>): Promise<T> {
    if (!opts.profile) return fn();
    await server.call({ op: 'profile-start' });
    try {
      return await fn();
    } finally {
      const path = join(profileDir, `${file}.cpuprofile`);
      await server.call({ op: 'profile-stop', path });
      profiles.push({ name, summary: summarizeProfile(path) });
      log(`  profile: ${path}`);
    }
  }

  const { dataset, runDir } = await prepareDataset(opts);
  log(
    `dataset: ${dataset.factRows.toLocaleString('en-US')} fact rows (scale ${opts.scale}${dataset.reused ? ', reused' : ''}), copied in ${dataset.copySeconds.toFixed(1)} s`,
  );
  const userToken = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: BENCH_ROLES, expiresIn: '6h', subject: 'bench' });
  const ingestToken = await mintDevToken(SECRET, { tenantId: BENCH_TENANT, roles: ['tenant_admin'], expiresIn: '6h', subject: 'bench-ingest' });

  // ---- uncached server: compile, floor vs doors, batching, uncached load ----
  log('server (CACHE_TTL_MS=0): starting');
  const u = await startServerChild({
    env: serverEnv(runDir, { CACHE_TTL_MS: '0' }),
  });
  let doors = await openDoors(u.url, u.sqlProxyPort, userToken);
  const check = await checkDoors(u, doors);
  await latencyRounds(u, doors, ['floor', 'graphql', 'rest', 'sql'], 1); // warm-up
  // Timed once the server has settled (start-up work such as the SQL proxy's catalog worker is done).
  const compileUs = await u.call<number[][]>({
    op: 'compile',
    tenantId: BENCH_TENANT,
    roles: BENCH_ROLES,
    queries: WIDGETS.map((w) => w.cube),
    iterations: opts.compileIterations,
  });
  log(`compile p50: ${WIDGETS.map((w, i) => `${w.id} ${summarize(compileUs[i]).p50.toFixed(0)} µs`).join(', ')}`);
  log(`uncached latency: ${opts.rounds} rounds × ${WIDGETS.length} widgets × 4 doors`);
  const splits: Splits = WIDGETS.map(() => ({ engine: [], strata: [], outside: [] }));
  const uncached = await latencyRounds(u, doors, ['floor', 'graphql', 'rest', 'sql'], opts.rounds, splits);
  log('batching: 8 widgets in one GraphQL request vs 8 requests');
  const batch = await batching(doors, Math.max(3, Math.round(opts.rounds / 2)));
  log('uncached load (autocannon)');
  const uncachedLoad = await profiled(u, 'uncached GraphQL load (all concurrency levels)', 'uncached-load', () =>
    loadLevels(u, userToken, opts, opts.uncachedLoadSeconds),
  );
  log('single-flight: identical uncached requests, c=16, one widget at a time');
  const identical = await identicalLoad(u, userToken, 16, Math.max(2, Math.round(opts.uncachedLoadSeconds / 2)));
  const rssUncached = u.rss();
  await doors.close();
  await u.stop();

  // ---- cached server: cached doors, cached load, live, ingestion ----
  log('server (cache on): starting');
  const perConnection = Math.ceil(opts.subscriptions / opts.wsConnections);
  const c = await startServerChild({
    // EXPORT_WAIT_MS: the export mutation answers once the 1M-row file is stored (bench/export.ts times it).
    env: serverEnv(runDir, {
      CACHE_TTL_MS: '3600000',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(100, perConnection)),
      EXPORT_WAIT_MS: '600000',
    }),
  });
  doors = await openDoors(c.url, c.sqlProxyPort, userToken);
  await latencyRounds(c, doors, ['graphql', 'rest', 'sql'], 2); // fills the cache
  log(`cached latency: ${opts.rounds} rounds`);
  const cached = await latencyRounds(c, doors, ['graphql', 'rest', 'sql'], opts.rounds);
  log('cached load (autocannon)');
  const cachedLoad = await profiled(c, 'cached GraphQL load (all concurrency levels)', 'cached-load', () => loadLevels(c, userToken, opts, opts.loadSeconds));
  await doors.close();
  const rssCached = c.rss();

  let live: LiveResult | undefined;
  let liveError: string | undefined;
  log(`live: ${opts.subscriptions} subscriptions over ${opts.wsConnections} connections`);
  try {
    live = await profiled(c, 'live subscriptions (subscribe + changes)', 'live', () =>
      runLive({
        server: c,
        userToken,
        ingestToken,
        subscriptions: opts.subscriptions,
        connections: opts.wsConnections,
        variants: opts.liveVariants,
        changes: opts.liveChanges,
        timeoutMs: 20_000,
      }),
    );
    log(
      `  subscribed in ${live.subscribeSeconds.toFixed(1)} s; push p50 ${live.push.p50.toFixed(0)} ms p95 ${live.push.p95.toFixed(0)} ms; ${live.evaluationsPerChange} evaluations/change`,
    );
  } catch (e) {
    liveError = (e as Error).message;
    log(`  live failed: ${liveError}`);
  }
  let ingest: IngestResult | undefined;
  let ingestError: string | undefined;
  log(`ingest: ${opts.ingestBatches} × ${opts.ingestRowsPerBatch.toLocaleString('en-US')} rows`);
  try {
    ingest = await runIngest({
      url: c.url,
      token: ingestToken,
      batches: opts.ingestBatches,
      rowsPerBatch: opts.ingestRowsPerBatch,
      runId: String(Date.now()),
      insertFloor: (ndjson) => c.call({ op: 'insert-floor', table: 'ad_performance', tenantId: 'bench-floor', ndjson }),
      around: (fn) => profiled(c, 'ingestion (the HTTP batches)', 'ingest', fn),
    });
    log(
      `  ${ingest.rowsPerSecond.toFixed(0)} rows/s (engine.insert floor ${ingest.floor.rowsPerSecond.toFixed(0)} rows/s, engine.insertRaw ${ingest.floor.rawFormat ?? ''} ${ingest.floor.rawRowsPerSecond?.toFixed(0)} rows/s)`,
    );
  } catch (e) {
    ingestError = (e as Error).message;
    log(`  ingest failed: ${ingestError}`);
  }
  let exported: ExportBenchResult | undefined;
  let exportError: string | undefined;
  log(`export: ${EXPORT_ROWS.toLocaleString('en-US')}-row CSV`);
  try {
    exported = await runExport({ server: c, token: userToken, rows: EXPORT_ROWS });
    log(`  ${describeExport(exported)}`);
  } catch (e) {
    exportError = (e as Error).message;
    log(`  export failed: ${exportError}`);
  }
  await c.stop();
  rmSync(runDir, { recursive: true, force: true });

  const widgets: WidgetTimings[] = WIDGETS.map((w, i) => ({
    id: w.id,
    title: w.title,
    rows: check.rows[i],
    compileUs: summarize(compileUs[i]),
    floor: summarize(uncached.get('floor')![i]),
    graphql: summarize(uncached.get('graphql')![i]),
    graphqlSplit: splits[i].engine.length
      ? { engine: summarize(splits[i].engine), strata: summarize(splits[i].strata), outside: summarize(splits[i].outside) }
      : undefined,
    rest: summarize(uncached.get('rest')![i]),
    sql: summarize(uncached.get('sql')![i]),
    cachedGraphql: summarize(cached.get('graphql')![i]),
    cachedRest: summarize(cached.get('rest')![i]),
    cachedSql: summarize(cached.get('sql')![i]),
    mismatches: check.mismatches[i],
  }));
  const results: Results = {
    commit: gitCommit(),
    options: opts,
    machine: { ...machine(), chdb: dataset.chdbVersion },
    dataset,
    startedAt,
    seconds: (performance.now() - started) / 1000,
    loadBefore,
    loadAfter: os.loadavg(),
    serverStartMs: { uncached: u.readyMs, cached: c.readyMs },
    widgets,
    batch: { ...batch, floorSum: widgets.reduce((a, w) => a + w.floor.p50, 0) },
    uncachedLoad,
    identicalLoad: identical,
    cachedLoad,
    serverRss: { uncached: rssUncached, cached: rssCached },
    live,
    liveError,
    ingest,
    ingestError,
    export: exported,
    exportError,
    profiles,
  };
  writeFileSync(join(DATA, 'last-run.json'), JSON.stringify(results, null, 2));
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, writeReport(results, readBaselines(BASELINES)));
  // Saved after the report: this run appears once, as "this run"; later runs list it as a baseline.
  if (opts.saveBaseline) saveBaseline(BASELINES, headline(results, opts.saveBaseline));
  log(`wrote ${opts.out} (${results.seconds.toFixed(0)} s)`);
}

main().catch((e) => {
  log(`failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
