/**
 * The CLI as a user runs it (a child process: tsx src/main.ts …) on a throwaway DATA_DIR:
 * validate-models lists the cubes; `query` seeds the demo warehouse on first use and prints a table
 * whose numbers equal plain SQL over the raw tables; bad JSON and unknown members exit non-zero with
 * a clear message (and a suggestion). The SQL check opens the warehouse only after every CLI run has
 * exited: libchdb binds a data directory to one process at a time.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/create-engine.js';
import { makeTempDir } from '../helpers/clickhouse.js';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CTR_QUERY = '{"measures":["ad_performance.ctr"],"dimensions":["ad_performance.platform"]}';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let dataDir: string;

function strata(args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['src/main.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, DEMO_SCALE: '0.05', LOG_LEVEL: 'warn' },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) });
      },
    );
  });
}

/** "a │ b" table lines -> rows of cells (header, separator and "(n rows)" dropped). */
function parseTable(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.trim().split('\n').filter((l) => l.includes('│'));
  const cells = lines.map((l) => l.split('│').map((c) => c.trim()));
  return { header: cells[0], rows: cells.slice(1) };
}

const runs: Record<string, Run> = {};

beforeAll(async () => {
  dataDir = makeTempDir('strata-cli-');
  // Sequential: every run opens the same chDB directory.
  runs.validate = await strata(['validate-models']);
  runs.firstQuery = await strata(['query', '--tenant', 'acme', CTR_QUERY]);
  runs.seededQuery = await strata(['query', '--tenant', 'acme', CTR_QUERY]);
  runs.json = await strata(['query', '--tenant', 'acme', '--json', CTR_QUERY]);
  runs.badJson = await strata(['query', '--tenant', 'acme', '{"measures":["ad_performance.ctr"']);
  runs.unknown = await strata(['query', '--tenant', 'acme', '{"measures":["ad_performance.clik"]}']);
  runs.noTenant = await strata(['query', CTR_QUERY]);
  console.log(`cli timings (ms, whole process): ${JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, r.ms])))}`);
}, 240_000);

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('strata validate-models', () => {
  it('exits 0 and lists every cube and view of cube-models/', () => {
    const r = runs.validate;
    expect(r.code, r.stderr).toBe(0);
    for (const cube of ['ad_performance', 'campaigns', 'clients', 'conversions', 'email_activity', 'platforms', 'web_sessions']) {
      expect(r.stdout).toMatch(new RegExp(`^${cube}\\s+│`, 'm'));
    }
    for (const view of ['campaign_performance', 'traffic_by_campaign', 'conversion_attribution']) expect(r.stdout).toContain(`${view} (view)`);
    expect(r.stdout).toMatch(/8 files, 7 cubes, 3 views: OK/);
  });
});

describe('strata query', () => {
  let direct: Map<string, number>;

  beforeAll(async () => {
    // Every CLI process has exited: the test process may open the warehouse now.
    const engine = createEngine({ database: 'strata', chdbPath: join(dataDir, 'clickhouse'), queryTimeoutMs: 30_000 });
    try {
      const { rows } = await engine.query<{ p: string; ctr: number }>(
        "SELECT platform AS p, 100 * sum(clicks) / sum(impressions) AS ctr FROM ad_performance WHERE tenant_id = 'acme' GROUP BY p",
      );
      direct = new Map(rows.map((r) => [r.p, Number(r.ctr)]));
    } finally {
      await engine.close();
    }
  });

  it('seeds on first use and prints a table whose CTRs equal direct SQL (to the 4 printed decimals)', () => {
    for (const r of [runs.firstQuery, runs.seededQuery]) {
      expect(r.code, r.stderr).toBe(0);
      const { header, rows } = parseTable(r.stdout);
      expect(header).toEqual(['ad_performance.platform', 'ad_performance.ctr']);
      expect(rows.length).toBe(direct.size);
      expect(direct.size).toBeGreaterThan(2);
      for (const [platform, ctr] of rows) {
        expect(direct.has(platform), platform).toBe(true);
        expect(Math.abs(Number(ctr) - direct.get(platform)!), platform).toBeLessThanOrEqual(0.00005 + 1e-12);
      }
      expect(r.stdout).toContain(`(${direct.size} rows)`);
    }
  });

  it('--json prints the full-precision numbers', () => {
    expect(runs.json.code, runs.json.stderr).toBe(0);
    const rows = JSON.parse(runs.json.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(direct.size);
    for (const r of rows) {
      const want = direct.get(String(r['ad_performance.platform']))!;
      expect(Math.abs(Number(r['ad_performance.ctr']) - want)).toBeLessThanOrEqual(1e-9 * want);
    }
  });

  it('bad JSON exits 1 with the parse error', () => {
    expect(runs.badJson.code).toBe(1);
    expect(runs.badJson.stderr).toMatch(/^error: query is not valid JSON: /);
    expect(runs.badJson.stdout).toBe('');
  });

  it('an unknown member exits 1 and suggests the intended one', () => {
    expect(runs.unknown.code).toBe(1);
    expect(runs.unknown.stderr.trim()).toBe('error: unknown member "ad_performance.clik" — did you mean "ad_performance.clicks"?');
  });

  it('a missing --tenant exits 1 and says how to pass it', () => {
    expect(runs.noTenant.code).toBe(1);
    expect(runs.noTenant.stderr.trim()).toBe('error: --tenant is required (e.g. --tenant acme)');
  });
});
