/**
 * A real embedded ClickHouse (chDB) warehouse in a fresh temp dir, migrated and optionally
 * seeded with the demo data. libchdb binds one data dir per process: call this once per test
 * file (vitest runs each file in its own fork).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '../../src/demo/seed.js';
import { createEngine } from '../../src/engine/create-engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { migrateClickhouse } from '../../src/engine/migrate.js';
import { FIXED_DEMO_END_DATE } from '../../src/demo/window.js';

/** Small enough for fast integration tests (~55k fact rows, ~1 s to seed on tmpfs). */
export const TEST_SCALE = 0.05;

/**
 * A fresh temp dir, on tmpfs (/dev/shm) when the machine has one: ClickHouse writes one part per
 * month partition per insert, and on a plain disk that I/O dominates small test warehouses.
 */
export function makeTempDir(prefix = 'strata-'): string {
  let parent = tmpdir();
  try {
    accessSync('/dev/shm', constants.W_OK);
    parent = '/dev/shm';
  } catch {
    /* no tmpfs: use the OS temp dir */
  }
  return mkdtempSync(join(parent, prefix));
}

export interface TestWarehouseOptions {
  /** Load the demo dataset (default false). */
  readonly seed?: boolean;
  /** Demo scale when seeding (default TEST_SCALE). */
  readonly scale?: number;
  /** Demo PRNG seed (default: the demo's default seed). */
  readonly seedValue?: number;
  /** Last day of demo data (default FIXED_DEMO_END_DATE: tests never follow the clock). */
  readonly endDate?: string;
  readonly database?: string;
  readonly queryTimeoutMs?: number;
}

export interface TestWarehouse {
  readonly engine: Engine;
  readonly dir: string;
  /** Rows per demo table when seeded. */
  readonly rows?: Record<string, number>;
  close(): Promise<void>;
}

export async function createTestWarehouse(options: TestWarehouseOptions = {}): Promise<TestWarehouse> {
  const dir = makeTempDir();
  const engine = createEngine({
    database: options.database ?? 'strata',
    chdbPath: join(dir, 'clickhouse'),
    queryTimeoutMs: options.queryTimeoutMs ?? 30_000,
  });
  try {
    await migrateClickhouse(engine);
    const seeded = options.seed
      ? await seedDemo(engine, { scale: options.scale ?? TEST_SCALE, seed: options.seedValue, endDate: options.endDate ?? FIXED_DEMO_END_DATE })
      : undefined;
    return {
      engine,
      dir,
      rows: seeded?.rows,
      async close() {
        await engine.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
