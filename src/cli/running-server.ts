/**
 * The server that holds a data directory. Embedded ClickHouse (chDB) binds one directory per
 * process, so while `strata serve` runs on DATA_DIR the CLI cannot open it: `serve` leaves
 * DATA_DIR/server.json (its pid and URL) and the CLI's query/sql go through that server's HTTP API.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningServerInfo {
  readonly pid: number;
  readonly url: string;
  readonly startedAt: string;
}

const FILE = 'server.json';

/** Written by `serve` once it listens; removed when it exits. */
export function recordRunningServer(dataDir: string, url: string): () => void {
  const file = join(dataDir, FILE);
  const info: RunningServerInfo = { pid: process.pid, url, startedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(info)}\n`);
  const remove = () => {
    try {
      // Only our own record: another server may have started on the directory since.
      if ((JSON.parse(readFileSync(file, 'utf8')) as RunningServerInfo).pid === process.pid) rmSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', remove);
  return remove;
}

/** The live server recorded for dataDir, if its process still runs. */
export function findRunningServer(dataDir: string): RunningServerInfo | undefined {
  let info: RunningServerInfo;
  try {
    info = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as RunningServerInfo;
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(info.pid) || typeof info.url !== 'string' || info.pid === process.pid) return undefined;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch (e) {
    // EPERM: it runs under another user; ESRCH: it is gone (a crash left the file).
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? info : undefined;
  }
}

/** chDB's refusal to open a directory another process holds. */
export function isDataDirLocked(e: unknown): boolean {
  const text = `${(e as Error)?.message ?? ''} ${String((e as { cause?: unknown })?.cause ?? '')}`;
  return /Cannot lock file|lock.*(held|in use)|Resource temporarily unavailable/i.test(text);
}
