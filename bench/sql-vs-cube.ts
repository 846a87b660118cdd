/**
 * `npx tsx bench/sql-vs-cube.ts [--rounds 30]` — floor vs floor: the engine time of Strata's SQL for
 * the bench's 8 widgets vs the SQL Cube 1.7.43 generates for the same questions
 * (../shared/reference/cube-sql-for-bench-widgets.md, values inlined as Cube's driver does), on the
 * same embedded engine and the bench's seeded dataset (a copy of bench/.data/seed-<scale>; `npm run
 * bench` seeds it). Both run through Engine.query, so with the same settings (final = 1: one row per
 * natural key; Cube's SQL then reads FINAL too). Rounds are interleaved; prints p50 per widget and
 * the ratio of the sums. `--variant where` also times Strata's SQL with the tenant predicate in the
 * outer WHERE instead of a per-table subquery (the form the compiler now emits is the first column).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandScopes } from '../src/auth/principal.js';
import { createEngine } from '../src/engine/create-engine.js';
import { readModelFiles } from '../src/model-files.js';
import { createQueryService } from '../src/query/query-service.js';
import { loadModel } from '../src/semantic/load.js';
import { BENCH_ROLES, BENCH_TENANT, WIDGETS } from './workload.js';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const rounds = Number(arg('rounds', '30'));
const scale = arg('scale', '9.05');
const REFERENCE = join(ROOT, '../shared/reference/cube-sql-for-bench-widgets.md');

/** Cube's SQL per widget id, its `?` placeholders replaced by the listed values (inlined, as its driver does). */
function cubeSql(): Map<string, string> {
  const text = readFileSync(REFERENCE, 'utf8');
  const out = new Map<string, string>();
  for (const section of text.split(/^## /m).slice(1)) {
    const id = section.split('\n')[0]!.trim();
    const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    const values = /Values, in order: `(\[.*\])`/.exec(section)?.[1];
    if (!sql || !values) continue;
    const list = JSON.parse(values) as string[];
    let i = 0;
    out.set(
      id,
      sql.replace(/\?/g, () => `'${String(list[i++]).replace(/'/g, "\\'")}'`),
    );
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const seed = join(ROOT, 'bench/.data', `seed-${scale}`);
if (!existsSync(seed)) throw new Error(`no seeded dataset at ${seed}: run npm run bench once`);
const dir = mkdtempSync(join(tmpdir(), 'strata-sql-vs-cube-'));
cpSync(seed, dir, { recursive: true });
const engine = createEngine({ database: 'strata', chdbPath: join(dir, 'clickhouse'), queryTimeoutMs: 120_000 });
try {
  const model = loadModel(await readModelFiles('cube-models', ROOT));
  const query = createQueryService({ model, engine, limits: { defaultRowLimit: 10_000, maxRowLimit: 50_000 }, queryTimeoutMs: 120_000 });
  const principal = { tenantId: BENCH_TENANT, roles: BENCH_ROLES, scopes: expandScopes([], BENCH_ROLES), subject: 'bench', via: 'cli' as const };
  const cube = cubeSql();
  const variant = arg('variant', '');
  const forms = WIDGETS.map((w) => {
    const { compiled } = query.compile(principal, w.cube);
    const where = compiled.sql.replace(
      /\(SELECT \* FROM (\w+) WHERE `tenant_id` = \{tenant:String\}\) AS `(\w+)`\nWHERE /,
      '$1 AS `$2`\nWHERE `$2`.`tenant_id` = {tenant:String} AND ',
    );
    return { id: w.id, strata: { sql: compiled.sql, params: compiled.params }, where: { sql: where, params: compiled.params }, cube: cube.get(w.id) };
  });
  const missing = forms.filter((f) => !f.cube).map((f) => f.id);
  if (missing.length) throw new Error(`no Cube SQL for ${missing.join(', ')} in ${REFERENCE}`);
  const times = new Map<string, { strata: number[]; cube: number[]; where: number[] }>(forms.map((f) => [f.id, { strata: [], cube: [], where: [] }]));
  const rows = new Map<string, string>();
  for (let r = -2; r < rounds; r++) {
    for (const f of forms) {
      const t = times.get(f.id)!;
      const run = async (sql: string, params: Readonly<Record<string, unknown>>): Promise<number> => {
        const res = await engine.query(sql, params);
        if (r === 0) rows.set(`${f.id}:${sql === f.cube ? 'cube' : 'strata'}`, String(res.rows.length));
        return res.elapsedMs;
      };
      // Alternate which goes first, so neither always meets the warmer cache.
      const order = r % 2 ? ['cube', 'strata', 'where'] : ['strata', 'where', 'cube'];
      for (const form of order) {
        if (form === 'where' && !variant) continue;
        const ms = form === 'cube' ? await run(f.cube!, {}) : await run(f[form as 'strata' | 'where'].sql, f[form as 'strata' | 'where'].params);
        if (r >= 0) t[form as 'strata' | 'cube' | 'where'].push(ms);
      }
    }
  }
  console.log(`floor vs floor, ${rounds} interleaved rounds, p50 ms (engine elapsed), tenant ${BENCH_TENANT}, dataset seed-${scale}`);
  console.log(`widget               Strata    Cube   ratio${variant ? '   Strata(WHERE)  ratio' : ''}   rows S/C`);
  let sumS = 0;
  let sumC = 0;
  let sumW = 0;
  for (const f of forms) {
    const t = times.get(f.id)!;
    const [s, c] = [median(t.strata), median(t.cube)];
    sumS += s;
    sumC += c;
    const w = variant ? median(t.where) : 0;
    sumW += w;
    console.log(
      `${f.id.padEnd(18)} ${s.toFixed(2).padStart(8)} ${c.toFixed(2).padStart(7)} ${(s / c).toFixed(2).padStart(7)}${variant ? `${w.toFixed(2).padStart(16)} ${(w / c).toFixed(2).padStart(6)}` : ''}   ${rows.get(`${f.id}:strata`)}/${rows.get(`${f.id}:cube`)}`,
    );
  }
  console.log(
    `${'sum'.padEnd(18)} ${sumS.toFixed(2).padStart(8)} ${sumC.toFixed(2).padStart(7)} ${(sumS / sumC).toFixed(2).padStart(7)}${variant ? `${sumW.toFixed(2).padStart(16)} ${(sumW / sumC).toFixed(2).padStart(6)}` : ''}`,
  );
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
