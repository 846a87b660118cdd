/**
 * The CLI as a user runs it (a child process: tsx src/main.ts …) on a throwaway DATA_DIR:
 * validate-models lists the cubes; `query` seeds the demo warehouse on first use (with the real
 * clock: the data ends yesterday, so the README's "last month" example has rows) and prints a table
 * whose numbers equal plain SQL over the raw tables; bad JSON and unknown members exit non-zero with
 * a clear message (and a suggestion); every command answers --help, and a bad option or a missing
 * argument is one line and exit 2; `tenant create --admin-key` makes a key that authenticates.
 * The SQL check opens the warehouse only after every CLI run has exited: libchdb binds a data
 * directory to one process at a time.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { COMMANDS } from '../../src/cli/commands.js';
import { yesterdayUtc } from '../../src/demo/window.js';
import { createEngine } from '../../src/engine/create-engine.js';
import { createStore } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/clickhouse.js';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CTR_QUERY = '{"measures":["ad_performance.ctr"],"dimensions":["ad_performance.platform"]}';
/** The README's CLI example, verbatim. */
const README_QUERY =
  '{"measures":["ad_performance.cpa","ad_performance.ctr"],"dimensions":["ad_performance.platform"],"timeDimensions":[{"dimension":"ad_performance.date","dateRange":"last month"}]}';

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
  const lines = stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes('│'));
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
  runs.readme = await strata(['query', '--tenant', 'acme', README_QUERY]);
  runs.tenantCreate = await strata(['tenant', 'create', 'umbrella', '--name', 'Umbrella Corp', '--plan', 'pro', '--admin-key', '--json']);
  runs.tenantAgain = await strata(['tenant', 'create', 'umbrella', '--name', 'Other name']);
  runs.tenantBadId = await strata(['tenant', 'create', 'Not_OK!']);
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
    // Counted independently from the YAML files.
    const docs = readdirSync(join(ROOT, 'cube-models'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => parseYaml(readFileSync(join(ROOT, 'cube-models', f), 'utf8')) as { cubes?: unknown[]; views?: unknown[] });
    const cubes = docs.reduce((n, d) => n + (d.cubes?.length ?? 0), 0);
    const views = docs.reduce((n, d) => n + (d.views?.length ?? 0), 0);
    expect(r.stdout).toContain(`${docs.length} files, ${cubes} cubes, ${views} views: OK`);
  });

  it('lists every rollup with what it answers and why the other measures are not', () => {
    const r = runs.validate;
    const declared = readdirSync(join(ROOT, 'cube-models'))
      .filter((f) => f.endsWith('.yml'))
      .flatMap((f) => {
        const doc = parseYaml(readFileSync(join(ROOT, 'cube-models', f), 'utf8')) as { cubes?: { name: string; pre_aggregations?: { name: string }[] }[] };
        return (doc.cubes ?? []).flatMap((c) => (c.pre_aggregations ?? []).map((p) => `${c.name}.${p.name}`));
      });
    expect(declared.length).toBeGreaterThan(0);
    for (const name of declared) expect(r.stdout).toMatch(new RegExp(`^${name.replace('.', '\\.')}\\s+│`, 'm'));
    expect(r.stdout).toMatch(/^ad_performance\.daily_by_platform_geo .*│ platform, country, device .*active_campaigns \(not listed\)/m);
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

  it('a missing --tenant exits 2 and says how to pass it', () => {
    expect(runs.noTenant.code).toBe(2);
    expect(runs.noTenant.stderr.trim()).toBe("strata query: --tenant is required (e.g. --tenant acme). See 'strata query --help'.");
  });
});

describe('the README CLI example on a fresh data directory (real clock)', () => {
  it('returns rows for "last month": the demo data ends yesterday', async () => {
    const r = runs.readme;
    expect(r.code, r.stderr).toBe(0);
    const { header, rows } = parseTable(r.stdout);
    expect(header).toEqual(['ad_performance.platform', 'ad_performance.cpa', 'ad_performance.ctr']);
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) expect(Number(row[2]), row.join(' ')).toBeGreaterThan(0);
    const engine = createEngine({ database: 'strata', chdbPath: join(dataDir, 'clickhouse'), queryTimeoutMs: 30_000 });
    try {
      const { rows: last } = await engine.query<{ d: string }>("SELECT toString(max(date)) AS d FROM ad_performance WHERE tenant_id = 'acme'");
      const { rows: recorded } = await engine.query<{ d: string }>('SELECT toString(end_date) AS d FROM demo_dataset WHERE complete = 1');
      // seeded at most a few minutes ago: yesterday then or (past midnight UTC) the day before today
      expect([yesterdayUtc(new Date()), yesterdayUtc(new Date(Date.now() - 3_600_000))]).toContain(last[0].d);
      expect(recorded).toEqual([{ d: last[0].d }]);
    } finally {
      await engine.close();
    }
  });
});

describe('help and usage errors', () => {
  const cli = (args: string[]) => strata(args);
  const oneLine = (r: Run) => {
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at |ERR_PARSE_ARGS|Error:/);
  };

  it('strata --help, strata help and strata tenant --help print usage and exit 0', async () => {
    const [top, help, tenant] = await Promise.all([cli(['--help']), cli(['help']), cli(['tenant', '--help'])]);
    for (const r of [top, help]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage: strata <command> \[options\]$/m);
      for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} `, 'm'));
      expect(r.stdout).toMatch(/^Example:\n {2}npx strata query --tenant acme /m);
    }
    expect(tenant.code).toBe(0);
    expect(tenant.stdout).toContain('Usage: strata tenant <subcommand>');
    expect(tenant.stdout).toContain('create');
  });

  it('every command answers --help with its usage, every option and an example, exit 0', async () => {
    const results = await Promise.all(COMMANDS.map((c) => cli([...c.name.split(' '), '--help'])));
    for (const [i, c] of COMMANDS.entries()) {
      const r = results[i];
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: strata ${c.name}( |$)`, 'm'));
      for (const option of [...Object.keys(c.options), 'help']) expect(r.stdout, `${c.name} --${option}`).toContain(`--${option}`);
      expect(r.stdout).toMatch(/^Examples?:\n {2}npx strata|^Examples?:\n {2}[A-Z_]+=/m);
    }
    // `strata help <command>` prints the same
    const viaHelp = await cli(['help', 'token']);
    expect(viaHelp.stdout).toBe(results[COMMANDS.findIndex((c) => c.name === 'token')].stdout);
  });

  it('an unknown option exits 2 with one line (and a suggestion), for every command', async () => {
    const results = await Promise.all(COMMANDS.map((c) => cli([...c.name.split(' '), '--no-such-option'])));
    for (const [i, c] of COMMANDS.entries()) {
      const r = results[i];
      expect(r.code, `${c.name}: ${r.stderr}`).toBe(2);
      oneLine(r);
      expect(r.stderr.trim()).toBe(`strata ${c.name}: unknown option --no-such-option. See 'strata ${c.name} --help'.`);
      expect(r.stdout).toBe('');
    }
    const typo = await cli(['token', '--tenent', 'acme']);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe("strata token: unknown option --tenent (did you mean --tenant?). See 'strata token --help'.");
  });

  it('missing arguments, values and commands exit 2 with one line', async () => {
    const cases: [string[], string][] = [
      [['token'], "strata token: --tenant is required (e.g. --tenant acme). See 'strata token --help'."],
      [['query', '--tenant', 'acme'], "strata query: missing <json>: the query as JSON. See 'strata query --help'."],
      [['query', '--tenant'], "strata query: --tenant needs a value. See 'strata query --help'."],
      [
        ['tenant', 'create'],
        "strata tenant create: missing <id>: tenant id: lower-case letters, digits, - and _ (e.g. umbrella). See 'strata tenant create --help'.",
      ],
      [['tenant'], "strata tenant: missing subcommand (create). See 'strata tenant --help'."],
      [
        ['tenant', 'create', 'x', '--plan', 'gold'],
        'strata tenant create: --plan must be one of free, pro, enterprise, got "gold". See \'strata tenant create --help\'.',
      ],
      [['seed', '--end-date', '2026-02-30'], 'strata seed: --end-date must be a date YYYY-MM-DD, got "2026-02-30". See \'strata seed --help\'.'],
      [['serve', 'now'], 'strata serve: unexpected argument "now". See \'strata serve --help\'.'],
      [['qeury'], 'strata: unknown command "qeury" (did you mean "query"?). See \'strata --help\'.'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i].code, args.join(' ')).toBe(2);
      oneLine(results[i]);
      expect(results[i].stderr.trim()).toBe(message);
    }
  });
});

describe('strata tenant create', () => {
  it('creates the tenant and a first admin API key, printing the secret once', async () => {
    const r = runs.tenantCreate;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      tenant: { id: string; name: string; plan: string };
      created: boolean;
      apiKey: { id: string; secret: string; scopes: string[] };
    };
    expect(out.tenant).toEqual({ id: 'umbrella', name: 'Umbrella Corp', plan: 'pro', status: 'active' });
    expect(out.created).toBe(true);
    expect(out.apiKey.secret).toMatch(/^sk_live_[0-9A-Za-z]{46}$/);
    expect(out.apiKey.scopes).toEqual(expect.arrayContaining(['metrics:read', 'ingest:write', 'keys:admin']));

    expect(runs.tenantAgain.code, runs.tenantAgain.stderr).toBe(0);
    expect(runs.tenantAgain.stdout.trim()).toBe('tenant umbrella already exists (unchanged: "Umbrella Corp", plan pro)');
    expect(runs.tenantBadId.code).toBe(1);
    expect(runs.tenantBadId.stderr.trim()).toMatch(/^error: tenant id "Not_OK!" must match/);

    // The key authenticates against the same store, as the tenant, and only its hash is stored.
    const store = await createStore({ pglitePath: join(dataDir, 'postgres') });
    try {
      const info = await store.apiKeys.verify(out.apiKey.secret);
      expect(info).toMatchObject({ id: out.apiKey.id, tenantId: 'umbrella', name: 'first admin key', createdBy: 'cli' });
      expect((await store.tenants.get('umbrella'))?.name).toBe('Umbrella Corp');
      expect(JSON.stringify(await store.apiKeys.list('umbrella'))).not.toContain(out.apiKey.secret);
    } finally {
      await store.close();
    }
  });
});
