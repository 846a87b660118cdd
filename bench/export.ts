/**
 * A 1M-row CSV export through the real path (GraphQL createExport → export job → the engine writes
 * the file → stored in the metadata database in 1 MiB chunks → the download link streams it), with
 * the server process's RSS sampled from /proc every 50 ms: peak RSS during the export and during
 * the download against the RSS before, duration and bytes.
 *
 * Part of `npm run bench` (run.ts, on the cached server). Alone, on the bench's seeded dataset
 * (bench/.data/seed-<scale>, copied first; seeded by run.ts):
 *
 *   npx tsx bench/export.ts [--scale 9.05]
 */
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mintDevToken } from '../src/auth/jwt.js';
import { FIXED_DEMO_END_DATE } from '../src/demo/window.js';
import { type ServerChild, startServerChild } from './child.js';

export interface ExportBenchResult {
  /** Rows asked for: the export cap, the query has more (truncate: true). */
  readonly rowsAsked: number;
  readonly rows: number;
  readonly truncated: boolean;
  /** CSV bytes written by the engine (and downloaded). */
  readonly bytes: number;
  readonly downloadBytes: number;
  /** createExport until the export is stored and its link ready (the mutation waits for the job). */
  readonly exportSeconds: number;
  readonly downloadSeconds: number;
  readonly rssBefore: number;
  readonly peakRssExport: number;
  readonly peakRssDownload: number;
  /** JS heap used and external memory (ArrayBuffers, WebAssembly memories such as PGlite's) before and at their peaks. */
  readonly heapBefore: number;
  readonly externalBefore: number;
  readonly peakHeapExport: number;
  readonly peakExternalExport: number;
  readonly peakHeapDownload: number;
  readonly peakExternalDownload: number;
}

/** Every fact row of the tenant, one result row per ad, day, country and device: more rows than the cap. */
const EXPORT_QUERY = {
  measures: ['ad_performance.clicks', 'ad_performance.cost', 'ad_performance.conversions'],
  dimensions: ['ad_performance.ad_id', 'ad_performance.country', 'ad_performance.device'],
  timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: ['2024-11-01', FIXED_DEMO_END_DATE] }],
};

/** Peaks while `fn` runs: RSS from /proc every 50 ms, and the JS heap / external memory (ArrayBuffers, WebAssembly memories) over IPC. */
async function peaks<T>(server: ServerChild, fn: () => Promise<T>): Promise<{ value: T; rss: number; heap: number; external: number }> {
  let rss = server.rss();
  let heap = 0;
  let external = 0;
  const timer = setInterval(() => {
    rss = Math.max(rss, server.rss());
  }, 50);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = await server.call<NodeJS.MemoryUsage>({ op: 'memory', gc: false });
      heap = Math.max(heap, m.heapUsed);
      external = Math.max(external, m.external);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    const value = await fn();
    return { value, rss: Math.max(rss, server.rss()), heap, external };
  } finally {
    clearInterval(timer);
    sampling = false;
    await sampler;
  }
}

/** The bench tenant (acme) is on the pro plan: its export cap is 1M rows (reports/controls.ts PLAN_EXPORTS). */
export const EXPORT_ROWS = 1_000_000;

/** `rows` is the tenant's export cap: the query has more, so the export is cut there and flagged truncated. */
export async function runExport(o: { server: ServerChild; token: string; rows: number }): Promise<ExportBenchResult> {
  const rssBefore = o.server.rss();
  const before = await o.server.call<NodeJS.MemoryUsage>({ op: 'memory', gc: true });
  const t0 = performance.now();
  const created = await peaks(o.server, async () => {
    const res = await fetch(`${o.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify({
        query: 'mutation($s: JSON!) { createExport(source: $s, format: "csv", truncate: true) { status rows bytes truncated downloadUrl error } }',
        variables: { s: { kind: 'query', query: EXPORT_QUERY } },
      }),
    });
    const body = (await res.json()) as { data?: { createExport: Record<string, any> }; errors?: { message: string }[] };
    if (body.errors || body.data?.createExport.status !== 'ready') throw new Error(`export failed: ${JSON.stringify(body.errors ?? body.data)}`);
    return body.data.createExport;
  });
  const exportSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const downloaded = await peaks(o.server, async () => {
    const res = await fetch(created.value.downloadUrl, { headers: { authorization: `Bearer ${o.token}` } });
    if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`);
    const reader = res.body.getReader();
    let bytes = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
    return bytes;
  });
  return {
    rowsAsked: o.rows,
    rows: Number(created.value.rows),
    truncated: Boolean(created.value.truncated),
    bytes: Number(created.value.bytes),
    downloadBytes: downloaded.value,
    exportSeconds,
    downloadSeconds: (performance.now() - t1) / 1000,
    rssBefore,
    peakRssExport: created.rss,
    peakRssDownload: downloaded.rss,
    heapBefore: before.heapUsed,
    externalBefore: before.external,
    peakHeapExport: created.heap,
    peakExternalExport: created.external,
    peakHeapDownload: downloaded.heap,
    peakExternalDownload: downloaded.external,
  };
}

export function describeExport(r: ExportBenchResult): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return (
    `${r.rows.toLocaleString('en-US')} rows${r.truncated ? ' (cut at the cap)' : ''}, ${mib(r.bytes)} CSV: export ${r.exportSeconds.toFixed(1)} s, ` +
    `download ${r.downloadSeconds.toFixed(1)} s; server RSS ${mib(r.rssBefore)} before, peak ${mib(r.peakRssExport)} exporting, ${mib(r.peakRssDownload)} downloading; ` +
    `JS heap ${mib(r.heapBefore)} → peak ${mib(r.peakHeapExport)} / ${mib(r.peakHeapDownload)}, external ${mib(r.externalBefore)} → ${mib(r.peakExternalExport)} / ${mib(r.peakExternalDownload)}`
  );
}

// ---- alone: npx tsx bench/export.ts ----
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ROOT = fileURLToPath(new URL('../', import.meta.url));
  const DATA = join(ROOT, 'bench/.data');
  const argv = process.argv.slice(2);
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = existsSync(DATA) ? readdirSync(DATA).filter((d) => d.startsWith('seed-')) : [];
  const seed = arg('scale') ? `seed-${arg('scale')}` : seeds[0];
  if (!seed || !existsSync(join(DATA, seed, 'dataset.json'))) throw new Error('no seeded dataset in bench/.data: run `npm run bench` once (it seeds)');
  const runDir = join(DATA, 'export-run');
  rmSync(runDir, { recursive: true, force: true });
  cpSync(join(DATA, seed), runDir, { recursive: true });
  const secret = 'strata-bench-secret-0123456789abcdef0123';
  const server = await startServerChild({
    env: {
      STRATA_ENV: 'production',
      // As the image runs (Dockerfile: ENV NODE_ENV=production): libraries take their production paths
      // (graphql-js drops its development-only instanceof checks).
      NODE_ENV: 'production',
      JWT_SECRET: secret,
      DATA_DIR: runDir,
      HOST: '127.0.0.1',
      PORT: '0',
      SQL_PROXY_ENABLED: 'false',
      MODELS_DIR: 'cube-models',
      SEED_DEMO: 'false',
      DEMO_END_DATE: FIXED_DEMO_END_DATE,
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      EXPORT_WAIT_MS: '600000',
    },
  });
  try {
    const token = await mintDevToken(secret, { tenantId: 'acme', roles: ['analyst'], expiresIn: '1h', subject: 'bench' });
    const r = await runExport({ server, token, rows: EXPORT_ROWS });
    process.stdout.write(`${describeExport(r)}\n${JSON.stringify(r)}\n`);
  } finally {
    await server.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}
