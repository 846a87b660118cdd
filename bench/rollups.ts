/**
 * `npx tsx bench/rollups.ts [--scale 9.05] [--rounds 15] [--insert-rows 100000]` — the bench's
 * 8-widget dashboard with and without rollups (cube-models' pre_aggregations) on the embedded
 * engine, over a copy of bench/.data/seed-<scale> (seeded here, in process, when missing; 9.05 ≈ 10M
 * fact rows). Prints, from one run:
 *  - build: time to create and backfill every rollup, rows and bytes on disk vs the fact tables;
 *  - hit rate: widgets answered from a rollup; every routed widget's rows checked equal to the
 *    fact-table answer first (row count + numeric checksum);
 *  - per widget and for the whole dashboard (8 widgets one after another): p50 / p95 with and
 *    without, rounds interleaved;
 *  - insert overhead: an INSERT of N ad_performance rows without and with the marker views, and the
 *    refresh that folds them into the rollups afterwards.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileQuery } from '../src/compiler/compile.js';
import { normalizeQuery } from '../src/compiler/normalize.js';
import type { CompiledQuery } from '../src/compiler/compiled.js';
import { seedDemo } from '../src/demo/seed.js';
import { FIXED_DEMO_END_DATE } from '../src/demo/window.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine } from '../src/engine/engine.js';
import { migrateClickhouse } from '../src/engine/migrate.js';
import { readModelFiles } from '../src/model-files.js';
import { createRollupMaintainer } from '../src/rollups/maintainer.js';
import { ensureRollups, ROLLUPS_TABLE } from '../src/rollups/warehouse.js';
import { loadModel } from '../src/semantic/load.js';
import { checksum, sameChecksum } from './checksum.js';
import { BENCH_TENANT, WIDGETS } from './workload.js';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const scale = arg('scale', '9.05');
const rounds = Number(arg('rounds', '15'));
const insertRows = Number(arg('insert-rows', '100000'));
const log = (msg: string) => process.stderr.write(`[rollups ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ms = (x: number) => x.toFixed(1);

async function seeded(): Promise<string> {
  const seed = join(ROOT, 'bench/.data', `seed-${scale}`);
  if (existsSync(join(seed, 'dataset.json'))) return seed;
  rmSync(seed, { recursive: true, force: true });
  mkdirSync(seed, { recursive: true });
  log(`seeding scale ${scale} into ${seed}`);
  const started = performance.now();
  const engine = createEngine({ database: 'strata', chdbPath: join(seed, 'clickhouse'), queryTimeoutMs: 600_000 });
  await migrateClickhouse(engine);
  const { rows } = await seedDemo(engine, { scale: Number(scale), endDate: FIXED_DEMO_END_DATE });
  await engine.close();
  writeFileSync(join(seed, 'dataset.json'), JSON.stringify({ scale: Number(scale), seedSeconds: (performance.now() - started) / 1000, rows }, null, 2));
  return seed;
}

async function tableSizes(engine: Engine, like: string): Promise<{ rows: number; bytes: number }> {
  const { rows } = await engine.query<{ r: string; b: string }>(
    `SELECT toString(sum(rows)) AS r, toString(sum(bytes_on_disk)) AS b FROM system.parts WHERE active AND database = currentDatabase() AND table LIKE {like:String}`,
    { like },
  );
  return { rows: Number(rows[0]?.r ?? 0), bytes: Number(rows[0]?.b ?? 0) };
}

const dir = mkdtempSync(join(tmpdir(), 'strata-rollups-'));
cpSync(await seeded(), dir, { recursive: true });
const engine = createEngine({ database: 'strata', chdbPath: join(dir, 'clickhouse'), queryTimeoutMs: 600_000 });
try {
  await migrateClickhouse(engine);
  const model = loadModel(await readModelFiles('cube-models', ROOT));
  const facts = await tableSizes(engine, 'ad_performance');
  const totalFacts = await engine.query<{ n: string }>('SELECT toString(count()) AS n FROM ad_performance');
  log(`dataset: ${Number(totalFacts.rows[0].n).toLocaleString('en-US')} ad_performance rows`);

  // Insert overhead, part 1: no rollups (no marker views) yet.
  const source = `SELECT * REPLACE (concat(ad_id, '-b', toString(rowNumberInAllBlocks() % 3)) AS ad_id, now64(3) AS ingested_at) FROM ad_performance WHERE tenant_id = '${BENCH_TENANT}' LIMIT ${insertRows}`;
  const timeInsert = async () => {
    const t0 = performance.now();
    await engine.command(`INSERT INTO ad_performance ${source}`);
    return performance.now() - t0;
  };
  const plainInserts = [await timeInsert(), await timeInsert()];

  // Build from scratch.
  // Built ones from the seed (a server seeded it) go first: the build is timed from scratch.
  const { rows: old } = await engine.query<{ name: string; engine: string }>(
    "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name LIKE 'rollup\\_%'",
  );
  for (const o of old) await engine.command(`DROP ${o.engine === 'MaterializedView' ? 'VIEW' : 'TABLE'} IF EXISTS \`${o.name}\``);
  await engine.command(`DROP TABLE IF EXISTS ${ROLLUPS_TABLE}`);
  const t0 = performance.now();
  const report = await ensureRollups(engine, model);
  const buildMs = performance.now() - t0;
  const maintainer = createRollupMaintainer(engine, report.planned);
  await maintainer.refresh();
  console.log(`\n## Rollups at ${Number(totalFacts.rows[0].n).toLocaleString('en-US')} ad_performance rows (scale ${scale})\n`);
  console.log(`Build (create + backfill, all ${report.planned.length}): ${(buildMs / 1000).toFixed(1)} s`);
  console.log('| rollup | rows | MiB on disk | build s |\n| --- | ---: | ---: | ---: |');
  for (const b of report.built) {
    const size = await tableSizes(engine, b.table);
    console.log(
      `| ${report.planned.find((p) => p.table === b.table)!.key} | ${b.rows.toLocaleString('en-US')} | ${(size.bytes / 2 ** 20).toFixed(1)} | ${(b.ms / 1000).toFixed(1)} |`,
    );
  }
  console.log(`| (ad_performance facts) | ${facts.rows.toLocaleString('en-US')} | ${(facts.bytes / 2 ** 20).toFixed(1)} | |`);

  // Widgets: compiled both ways, checked equal, then timed interleaved.
  const options = { now: new Date('2026-11-01T00:00:00Z'), defaultLimit: 10_000, maxLimit: 50_000 };
  const forms = WIDGETS.map((w) => {
    const n = normalizeQuery(model, w.cube, options);
    return { id: w.id, facts: compileQuery(model, n, BENCH_TENANT), rollup: compileQuery(model, n, BENCH_TENANT, report.ready) };
  });
  const run = (c: CompiledQuery) => engine.query(c.sql, c.params);
  for (const f of forms) {
    if (!f.rollup.rollup) continue;
    const [a, b] = [(await run(f.facts)).rows, (await run(f.rollup)).rows];
    if (a.length !== b.length || !sameChecksum(checksum(a), checksum(b))) throw new Error(`${f.id}: the rollup's answer differs from the facts'`);
  }
  const hits = forms.filter((f) => f.rollup.rollup).length;
  const times = new Map(forms.map((f) => [f.id, { facts: [] as number[], rollup: [] as number[] }]));
  const dash = { facts: [] as number[], rollup: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? (['facts', 'rollup'] as const) : (['rollup', 'facts'] as const)) {
      const started = performance.now();
      for (const f of forms) {
        const s = performance.now();
        await run(f[side]);
        times.get(f.id)![side].push(performance.now() - s);
      }
      dash[side].push(performance.now() - started);
    }
  }
  console.log(
    `\nHit rate: ${hits} of ${forms.length} widgets answered from a rollup (answers checked equal to the facts' first). ${rounds} rounds, interleaved.\n`,
  );
  console.log('| widget | rollup | facts p50 / p95 ms | rollup p50 / p95 ms | speed-up (p50) |\n| --- | --- | ---: | ---: | ---: |');
  for (const f of forms) {
    const t = times.get(f.id)!;
    console.log(
      `| ${f.id} | ${f.rollup.rollup?.name ?? '—'} | ${ms(pct(t.facts, 50))} / ${ms(pct(t.facts, 95))} | ${ms(pct(t.rollup, 50))} / ${ms(pct(t.rollup, 95))} | ${(pct(t.facts, 50) / pct(t.rollup, 50)).toFixed(1)}× |`,
    );
  }
  console.log(
    `| **dashboard (8 widgets in sequence)** | | ${ms(pct(dash.facts, 50))} / ${ms(pct(dash.facts, 95))} | ${ms(pct(dash.rollup, 50))} / ${ms(pct(dash.rollup, 95))} | ${(pct(dash.facts, 50) / pct(dash.rollup, 50)).toFixed(1)}× |`,
  );

  // Insert overhead, part 2: with the marker views, then the refresh of the touched buckets.
  const withViews = [await timeInsert(), await timeInsert()];
  const r0 = performance.now();
  const refreshed = await maintainer.refresh(BENCH_TENANT);
  const refreshMs = performance.now() - r0;
  console.log(
    `\nInsert of ${insertRows.toLocaleString('en-US')} ad_performance rows (INSERT … SELECT, two runs each): ${plainInserts.map(ms).join(' / ')} ms without rollups, ` +
      `${withViews.map(ms).join(' / ')} ms with their marker views; then the refresh folding both inserts into the rollups: ${ms(refreshMs)} ms ` +
      `(${refreshed.groups} rollup × tenant groups, ${refreshed.buckets} day buckets).`,
  );

  // What a live dashboard waits for after a small batch (the bench's live scenario sends 50 rows of one day).
  const small: number[] = [];
  for (let i = 0; i < 7; i++) {
    await engine.command(
      `INSERT INTO ad_performance SELECT * REPLACE (concat(ad_id, '-s${i}') AS ad_id, now64(3) AS ingested_at) FROM ad_performance WHERE tenant_id = '${BENCH_TENANT}' AND date = '2026-10-31' LIMIT 50`,
    );
    const s0 = performance.now();
    await maintainer.refresh(BENCH_TENANT, ['ad_performance']);
    small.push(performance.now() - s0);
  }
  console.log(
    `A 50-row batch of one day, folded into ad_performance's ${report.planned.filter((p) => p.pre.cube === 'ad_performance').length} rollups: p50 ${ms(pct(small, 50))} ms, max ${ms(Math.max(...small))} ms (7 batches).`,
  );
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
