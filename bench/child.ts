/**
 * Starts bench/server.ts as a child process (its own event loop, its own chDB binding) and talks
 * to its control channel over Node IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ControlRequest } from './server.js';

/** USER_HZ: 100 on Linux x86-64 and arm64. */
const CLOCK_TICKS = 100;
const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface ServerChild {
  readonly url: string;
  readonly sqlProxyPort: number;
  readonly pid: number;
  readonly readyMs: number;
  call<T>(req: ControlRequest): Promise<T>;
  /** Resident set size of the server process, from /proc (bytes). */
  rss(): number;
  /** CPU seconds (user + system, all threads) the server process has used, from /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface ServerChildOptions {
  readonly env: Record<string, string>;
}

export async function startServerChild(options: ServerChildOptions): Promise<ServerChild> {
  const { CLICKHOUSE_URL: _c, DATABASE_URL: _d, ...inherited } = process.env;
  const nodeArgs = ['--expose-gc', '--import', 'tsx'];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'bench/server.ts'], {
    cwd: ROOT,
    env: { ...inherited, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const ready = new Promise<{ url: string; sqlProxyPort: number; readyMs: number }>((resolve, reject) => {
    child.on('message', (m: { ready?: { url: string; sqlProxyPort: number; readyMs: number }; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve(m.ready);
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    void exited.then((code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
  });
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`bench server exited with ${code}`));
    pending.clear();
  });
  const info = await ready;
  let stopped: Promise<void> | undefined;
  return {
    url: info.url,
    sqlProxyPort: info.sqlProxyPort,
    pid: child.pid!,
    readyMs: info.readyMs,
    call<T>(req: ControlRequest): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, req });
      });
    },
    rss() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    cpuSeconds() {
      // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the "(comm)" field.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.send({ id: 0, req: { op: 'stop' } });
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
