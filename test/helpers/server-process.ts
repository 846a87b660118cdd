/**
 * Starts `strata serve` as a real child process on free ports with a throwaway data directory,
 * the way a user runs it, and stops it afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXED_DEMO_END_DATE } from '../../src/demo/window.js';

export const TEST_JWT_SECRET = 'strata-e2e-secret-0123456789abcdef';

export interface ServerProcess {
  readonly url: string;
  readonly sqlProxyPort: number;
  readonly dataDir: string;
  readonly jwtSecret: string;
  /** Everything the process printed (JSON log lines). */
  output(): string;
  /** Sends a signal (e.g. SIGTERM for a drain) without waiting. */
  signal(name: NodeJS.Signals): void;
  /** The exit code, once the process has exited. */
  readonly exited: Promise<number>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** When the server counts as started (default: /ready answers 200). */
  readonly started?: (url: string) => Promise<boolean>;
}

export async function startServerProcess(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
  // env.PORT / env.SQL_PROXY_PORT: a caller that must know the address before the server is ready.
  const port = Number(env.PORT ?? (await freePort()));
  const sqlProxyPort = Number(env.SQL_PROXY_PORT ?? (await freePort()));
  // node itself with tsx's loader (not the tsx CLI, which runs the server in a child): signals, kill -9
  // included, reach the server process, and a SIGKILL on timeout leaves nothing behind.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      STRATA_ENV: 'test',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      PORT: String(port),
      SQL_PROXY_PORT: String(sqlProxyPort),
      JWT_SECRET: TEST_JWT_SECRET,
      DEMO_SCALE: '0.05',
      SEED_DEMO: 'true',
      // Fixed data window so expected numbers never move; pass DEMO_END_DATE: '' for "yesterday".
      DEMO_END_DATE: FIXED_DEMO_END_DATE,
      RATE_LIMIT_ENABLED: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 250))]);
    if (code !== null) throw new Error(`server exited with ${code} before it was ready:\n${out}`);
    const ready = options.started
      ? await options.started(url).catch(() => false)
      : await fetch(`${url}/ready`).then(
          // Ready, and done building rollups: tests then see only the statements they cause.
          async (r) => r.ok && ((await r.json()) as { rollups?: string }).rollups !== 'building',
          () => false,
        );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready after 120 s:\n${out}`);
    }
  }
  return {
    url,
    sqlProxyPort,
    dataDir,
    jwtSecret: TEST_JWT_SECRET,
    output: () => out,
    signal: (name) => child.kill(name),
    exited,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
