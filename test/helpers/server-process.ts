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

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
  const [port, sqlProxyPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(join(process.cwd(), 'node_modules/.bin/tsx'), ['src/main.ts', 'serve'], {
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
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.ok,
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
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
