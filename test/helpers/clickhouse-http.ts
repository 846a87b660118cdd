/**
 * Starts the ClickHouse-HTTP adapter (clickhouse-http-adapter.ts) in its own process on a fresh
 * chDB data directory: a warehouse several Strata processes can share over CLICKHOUSE_URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { makeTempDir } from './clickhouse.js';

export interface ClickhouseHttp {
  readonly url: string;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startClickhouseHttp(): Promise<ClickhouseHttp> {
  const dataDir = makeTempDir('strata-chhttp-');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/clickhouse-http-adapter.ts', dataDir], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr?.on('data', (d) => (out += d));
    void exited.then((code) => reject(new Error(`ClickHouse-HTTP adapter exited with ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
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
