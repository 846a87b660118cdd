/**
 * The real server in the test process (createServices + startServer on embedded chDB and PGlite in a
 * fresh data directory, demo data at test scale with the fixed window), for e2e files that also reach
 * into its services (engine listeners, store). Tests that kill or signal the server use server-process.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config.js';
import { FIXED_DEMO_END_DATE } from '../../src/demo/window.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { createServices } from '../../src/services.js';

export interface InProcessServer {
  readonly server: RunningServer;
  /** The dev JWT secret the server verifies with. */
  readonly jwtSecret: string;
  close(): Promise<void>;
}

export async function startInProcessServer(name: string, overrides: Record<string, string> = {}): Promise<InProcessServer> {
  const dir = mkdtempSync(`${tmpdir()}/strata-${name}-`);
  // Never a server from the environment: each file owns its embedded engine and store.
  const { CLICKHOUSE_URL: _c, DATABASE_URL: _d, ...env } = process.env;
  const config = loadConfig({
    ...env,
    DATA_DIR: dir,
    PORT: '0',
    SQL_PROXY_ENABLED: 'false',
    STRATA_ENV: 'test',
    DEMO_SCALE: '0.05',
    DEMO_END_DATE: FIXED_DEMO_END_DATE,
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'error',
    ...overrides,
  });
  const server = await startServer(await createServices(config));
  await server.services.warehouse?.done;
  // Rollups are built in the background (queries read the facts meanwhile): tests start once they are.
  await server.services.warehouse?.rollupsDone;
  return {
    server,
    jwtSecret: config.auth.jwtSecret!,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
