/**
 * The Docker image's build, replayed without Docker (there is no engine on our machines).
 *
 * The test parses ./Dockerfile and ./.dockerignore and replays each stage in a temporary directory
 * standing for its WORKDIR: COPY from the build context copies exactly the files the Dockerfile names
 * (minus what .dockerignore excludes), RUN runs the same command line with `sh -c` (npm may take
 * packages from the local cache: npm_config_prefer_offline), COPY --from copies between the stages'
 * directories. Then it starts the image's CMD from the runtime directory with the image's ENV (plus
 * what `docker run -e` would add: a JWT secret, free ports, a data directory) and runs the image's
 * HEALTHCHECK command against it.
 *
 * An instruction the replay does not know fails the test, so the Dockerfile and the replay cannot
 * drift apart silently. Not covered (needs Docker): the base image itself (its node/npm versions,
 * glibc for chDB), file ownership and the non-root user's permissions, layer caching.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { freePort } from '../../helpers/server-process.js';

const ROOT = process.cwd();
const JWT_SECRET = 'dockerfile-replay-secret-0123456789abcdef0123456789';

// ------------------------------------------------------------------ Dockerfile

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

/** Instructions per stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    while (line.endsWith('\\')) {
      line = line.slice(0, -1).trimEnd();
      let next = lines[++i]!.trim();
      while (next.startsWith('#')) next = lines[++i]!.trim();
      line += ` ${next}`;
    }
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = op!.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!);
      if (!m) throw new Error(`Dockerfile:${start}: cannot read FROM ${args}`);
      stages.push({ base: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else {
      if (!stages.length) throw new Error(`Dockerfile:${start}: ${upper} before FROM`);
      stages.at(-1)!.instructions.push({ op: upper, args: args!, line: start });
    }
  }
  return stages;
}

/** JSON (exec) form or whitespace-split words. */
function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter(Boolean);
}

/** `K=V K2="v 2"` pairs of ENV. */
function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}

/** `--flag=value` options, then the remaining words. */
function flags(args: string): { flags: Record<string, string>; rest: string[] } {
  const all = words(args);
  const f: Record<string, string> = {};
  while (all[0]?.startsWith('--')) {
    const [k, v] = all.shift()!.slice(2).split('=');
    f[k!] = v ?? 'true';
  }
  return { flags: f, rest: all };
}

// ------------------------------------------------------------------ .dockerignore

/** Docker's .dockerignore rules (moby/patternmatcher): last matching pattern wins, `!` re-includes, `**` spans directories. */
function dockerignore(text: string): (relPath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else re += '.*';
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (relPath) => {
    // A path is excluded when it or one of its parent directories matches (last rule wins).
    const parts = relPath.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

// ------------------------------------------------------------------ replay

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const stages = parseDockerfile(dockerfile);
const work = mkdtempSync(join(tmpdir(), 'strata-docker-replay-'));

interface Image {
  dir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
  ran: string[];
}
const images = new Map<string, Image & { workdir: string }>();

function copyFromContext(sources: string[], dest: string): void {
  for (const src of sources) {
    const from = join(ROOT, src);
    if (src !== '.' && ignored(posix.normalize(src))) throw new Error(`COPY ${src}: excluded by .dockerignore`);
    if (!existsSync(from)) throw new Error(`COPY ${src}: not in the build context`);
    const to = src === '.' || dest.endsWith('/') || sources.length > 1 ? join(dest, src === '.' ? '' : posix.basename(src)) : dest;
    cpSync(from, to, {
      recursive: true,
      filter: (path) => {
        const rel = relative(ROOT, path).split('\\').join('/');
        return rel === '' || !ignored(rel);
      },
    });
  }
}

/** COPY --from: hard links where the file system allows (same bytes, no 800 MB copy), else a copy. */
function copyFromStage(from: Image & { workdir: string }, src: string, dest: string): void {
  if (!src.startsWith(`${from.workdir}/`) && src !== from.workdir) throw new Error(`COPY --from: ${src} is outside the stage's WORKDIR ${from.workdir}`);
  const source = join(from.dir, relative(from.workdir, src));
  if (!existsSync(source)) throw new Error(`COPY --from: ${src} does not exist in the build stage`);
  mkdirSync(dirname(dest), { recursive: true });
  const linked = spawnSync('cp', ['-al', source, dest]);
  if (linked.status !== 0) cpSync(source, dest, { recursive: true });
}

/** `sh -c` without blocking this worker's event loop; output kept (the tail of a failure is what matters). */
function runShell(
  command: string,
  o: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout = (stdout + d).slice(-1_000_000)));
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-1_000_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function replay(stage: Stage): Promise<void> {
  const dir = join(work, stage.name);
  mkdirSync(dir, { recursive: true });
  const image: Image & { workdir: string } = { dir, workdir: '', env: {}, ran: [] };
  const at = (i: Instruction) => `Dockerfile:${i.line} (${i.op} in stage ${stage.name})`;
  for (const i of stage.instructions) {
    switch (i.op) {
      case 'WORKDIR':
        if (image.workdir && image.workdir !== i.args) throw new Error(`${at(i)}: one WORKDIR per stage is replayable`);
        image.workdir = i.args;
        break;
      case 'ENV':
        Object.assign(image.env, envPairs(i.args));
        break;
      case 'COPY': {
        const { flags: f, rest } = flags(i.args);
        const unknown = Object.keys(f).filter((k) => k !== 'from' && k !== 'chown');
        if (unknown.length) throw new Error(`${at(i)}: COPY --${unknown[0]} is not replayed`);
        const dest = rest.pop()!;
        if (dest.startsWith('/')) throw new Error(`${at(i)}: use a destination relative to WORKDIR`);
        if (f.from) {
          const from = images.get(f.from);
          if (!from) throw new Error(`${at(i)}: no stage ${f.from}`);
          if (rest.length !== 1) throw new Error(`${at(i)}: one source per COPY --from`);
          copyFromStage(from, rest[0]!, join(dir, dest));
        } else copyFromContext(rest, dest === '.' || dest === './' ? `${dir}/` : join(dir, dest));
        break;
      }
      case 'RUN': {
        if (stage !== stages[0]) throw new Error(`${at(i)}: RUN outside the build stage is not replayable here (root-only steps)`);
        // Not spawnSync: `npm ci` can outlast vitest's 60 s worker RPC timeout on a busy machine.
        const r = await runShell(i.args, {
          cwd: dir,
          env: {
            PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
            HOME: process.env.HOME ?? '',
            ...image.env,
            npm_config_prefer_offline: 'true',
            npm_config_update_notifier: 'false',
          },
          timeoutMs: 300_000,
        });
        if (r.status !== 0) throw new Error(`${at(i)}: \`${i.args}\` exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
        image.ran.push(i.args);
        break;
      }
      case 'USER':
        image.user = i.args;
        break;
      case 'CMD':
        if (!i.args.startsWith('[')) throw new Error(`${at(i)}: use the exec form of CMD`);
        image.cmd = words(i.args);
        break;
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])\s*$/.exec(i.args);
        if (!m) throw new Error(`${at(i)}: use HEALTHCHECK ... CMD ["..."]`);
        image.healthcheck = JSON.parse(m[1]!) as string[];
        break;
      }
      case 'EXPOSE':
      case 'LABEL':
        break;
      default:
        throw new Error(`${at(i)}: ${i.op} is not replayed by this test; teach it`);
    }
  }
  if (!image.workdir) throw new Error(`stage ${stage.name}: no WORKDIR`);
  images.set(stage.name, image);
}

let server: ChildProcess | undefined;
let output = '';
let url = '';
let runtime: Image;
let runEnv: Record<string, string>;

beforeAll(async () => {
  for (const stage of stages) await replay(stage);
  runtime = images.get(stages.at(-1)!.name)!;
  const [port, sqlPort] = [await freePort(), await freePort()];
  // The image's ENV, plus what an operator passes with `docker run -e` (and a throwaway DATA_DIR
  // instead of the image's /home/node/data).
  runEnv = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: runtime.dir,
    ...runtime.env,
    PORT: String(port),
    SQL_PROXY_PORT: String(sqlPort),
    DATA_DIR: join(work, 'data'),
    JWT_SECRET,
    // A production image seeds nothing and knows no tenant: let the first credential register acme.
    TENANT_AUTO_PROVISION: 'true',
  };
  const [cmd, ...args] = runtime.cmd!;
  server = spawn(cmd === 'node' ? process.execPath : cmd!, args, { cwd: runtime.dir, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (
    !(await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (server.exitCode !== null) throw new Error(`the image's CMD exited with ${server.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`no /health after 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 600_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    const t = setTimeout(() => server!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
  rmSync(work, { recursive: true, force: true });
});

describe('Dockerfile, replayed in a temporary directory', () => {
  it('is multi-stage: installs, builds and prunes in the build stage; the runtime stage runs as a non-root user with a HEALTHCHECK', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = images.get(stages[0]!.name)!;
    expect(build.ran.some((c) => /\bnpm ci\b/.test(c))).toBe(true);
    expect(build.ran.some((c) => /\bnpm run build/.test(c))).toBe(true);
    expect(build.ran.some((c) => /\bnpm prune\b.*--omit=dev/.test(c))).toBe(true);
    expect(runtime.user).toBeTruthy();
    expect(runtime.user).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.healthcheck).toBeTruthy();
  });

  it('copies no host state into the build context (.dockerignore)', () => {
    const build = images.get(stages[0]!.name)!;
    for (const path of ['.git', 'data', 'test', 'bench', 'coverage']) expect(existsSync(join(build.dir, path)), path).toBe(false);
    for (const path of ['src/main.ts', 'migrations', 'cube-models', 'scripts/build-cli.mjs']) expect(existsSync(join(build.dir, path)), path).toBe(true);
    // The host's dist/ was not copied: the bundle in the build stage is the one the build made.
    expect(readdirSync(join(build.dir, 'dist/cli'))).toContain('main.mjs');
  });

  it('ships production dependencies only', () => {
    for (const dep of ['chdb', '@electric-sql/pglite', 'graphql-yoga', 'pg']) expect(existsSync(join(runtime.dir, 'node_modules', dep)), dep).toBe(true);
    // Every package the lockfile marks dev-only (esbuild stays: tsx, a runtime dependency, needs it).
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => p.dev && path.startsWith('node_modules/') && !path.includes('/node_modules/', 1));
    expect(devOnly.map(([path]) => path)).toContain('node_modules/vitest');
    for (const [path] of devOnly) expect(existsSync(join(runtime.dir, path)), path).toBe(false);
  });

  it("starts with the image's CMD and ENV, and the image's HEALTHCHECK passes", () => {
    const [cmd, ...args] = runtime.healthcheck!;
    const r = spawnSync(cmd === 'node' ? process.execPath : cmd!, args, { cwd: runtime.dir, env: runEnv, encoding: 'utf8', timeout: 10_000 });
    expect(r.status, r.stderr).toBe(0);
  });

  it('answers /ready (migrations found and applied) and a REST catalog request with a token', async () => {
    const deadline = Date.now() + 60_000;
    let ready = await fetch(`${url}/ready`);
    while (!ready.ok && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      ready = await fetch(`${url}/ready`);
    }
    expect(ready.status, output).toBe(200);
    const token = await mintDevToken(JWT_SECRET, { tenantId: 'acme', roles: ['analyst'], expiresIn: '5m', subject: 'replay' });
    const meta = await fetch(`${url}/cubejs-api/v1/meta`, { headers: { authorization: `Bearer ${token}` } });
    expect(meta.status).toBe(200);
    const body = (await meta.json()) as { cubes: { name: string }[] };
    expect(body.cubes.map((c) => c.name)).toContain('ad_performance');
    // Production mode (NODE_ENV from the image): JSON logs, no development banner.
    expect(output).not.toContain('Strata ready (development)');
  });

  it("serves the SQL proxy, catalog engine included (the bundle's worker file shipped)", async () => {
    const token = await mintDevToken(JWT_SECRET, { tenantId: 'acme', roles: ['analyst'], expiresIn: '5m', subject: 'replay' });
    const client = new pg.Client({ host: '127.0.0.1', port: Number(runEnv.SQL_PROXY_PORT), user: 'replay', database: 'strata', password: token });
    await client.connect();
    try {
      const tables = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toContain('ad_performance');
    } finally {
      await client.end();
    }
  });
});
