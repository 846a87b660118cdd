/**
 * Shared setup of the semantic-core integration tests: the REAL models of cube-models/, a real chDB
 * warehouse seeded with the demo data (TEST_SCALE), and the real query service in front of it.
 * Numbers are compared with a relative tolerance: the service and the independent SQL may sum
 * floats in a different order.
 */
import { join } from 'node:path';
import { SCOPES, type Principal } from '../../../src/auth/principal.js';
import { readModelFiles } from '../../../src/model-files.js';
import { createQueryService, type StrataQueryService } from '../../../src/query/query-service.js';
import type { CellValue, QueryResult, RequestContext } from '../../../src/query/types.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { Model } from '../../../src/semantic/model.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import type { RollupAvailability } from '../../../src/compiler/rollup/route.js';
import { createRollupMaintainer, type RollupMaintainer } from '../../../src/rollups/maintainer.js';
import { ensureRollups, type RollupBuildReport } from '../../../src/rollups/warehouse.js';
import { createTestWarehouse, type TestWarehouse } from '../../helpers/clickhouse.js';

export const REPO_ROOT = join(import.meta.dirname, '../../..');
export const LIMITS = { defaultRowLimit: 10_000, maxRowLimit: 50_000 } as const;
/** The demo data ends 2026-10-31; relative ranges resolve against the day after. */
export const NOW = new Date('2026-11-01T00:00:00Z');

/** The model files of cube-models/, optionally rewritten (the isolation oracle qualifies tables). */
export async function loadCubeModels(rewrite: (text: string) => string = (t) => t): Promise<Model> {
  const files = await readModelFiles('cube-models', REPO_ROOT);
  return loadModel(files.map((f) => ({ path: f.path, text: rewrite(f.text) })));
}

export function principalFor(tenantId: string, scopes: Iterable<string> = Object.values(SCOPES)): Principal {
  return { tenantId, scopes: new Set(scopes), subject: 'core-test', via: 'cli', roles: [] };
}

export interface Core {
  readonly wh: TestWarehouse;
  readonly model: Model;
  readonly service: StrataQueryService;
  /** Run a semantic query through the query service as `tenant` with every scope. */
  load(tenant: string, query: SemanticQuery): Promise<QueryResult>;
  /** With startCore({ rollups: true }): the built rollups (the service routes to them) and their maintainer. */
  readonly rollups?: { readonly report: RollupBuildReport; readonly ready: RollupAvailability; readonly maintainer: RollupMaintainer };
  /** Rows of plain SQL against the raw tables (the independent side of every comparison). */
  sql<T = Record<string, unknown>>(text: string, params?: Record<string, unknown>): Promise<T[]>;
  close(): Promise<void>;
}

export async function startCore(options: { rollups?: boolean } = {}): Promise<Core> {
  const model = await loadCubeModels();
  const wh = await createTestWarehouse({ seed: true });
  let rollups: Core['rollups'];
  if (options.rollups) {
    const report = await ensureRollups(wh.engine, model);
    rollups = { report, ready: report.ready, maintainer: createRollupMaintainer(wh.engine, report.planned) };
  }
  const ready = rollups?.ready;
  const service = createQueryService({ model, engine: wh.engine, limits: LIMITS, queryTimeoutMs: 30_000, now: () => NOW, rollups: () => ready });
  let n = 0;
  return {
    wh,
    model,
    service,
    rollups,
    load(tenant, query) {
      const ctx: RequestContext = { requestId: `core-${++n}`, door: 'cli', principal: principalFor(tenant) };
      return service.load(ctx, query);
    },
    async sql<T>(text: string, params?: Record<string, unknown>) {
      return (await wh.engine.query<T>(text, params)).rows;
    },
    close: () => wh.close(),
  };
}

/** ClickHouse returns UInt64 as a string in JSON on a server, and NULL for an empty ratio. */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export const REL_TOLERANCE = 1e-9;

export function isClose(actual: unknown, expected: unknown, rel = REL_TOLERANCE): boolean {
  const a = num(actual);
  const b = num(expected);
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

export function expectClose(actual: unknown, expected: unknown, label: string): void {
  if (!isClose(actual, expected)) throw new Error(`${label}: got ${String(actual)}, expected ${String(expected)}`);
}

/** The cell of a service row as a plain value (time cells "YYYY-MM-DDT..." -> "YYYY-MM-DD"). */
export function day(v: CellValue): string | null {
  return v === null ? null : String(v).slice(0, 10);
}
