/**
 * In-process harness for the admin extension: the real yoga server, the real metadata store on
 * PGlite in a temp dir, the real authenticator (dev JWTs and API keys from that store) and the real
 * query service over the GraphQL fixture model. Only the warehouse is replaced: a recording engine
 * that answers every SELECT with one row (the SQL it receives is what the tests count).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthenticator } from '../../../../src/auth/create-authenticator.js';
import type { Principal } from '../../../../src/auth/principal.js';
import { mintDevToken } from '../../../../src/auth/jwt.js';
import { loadConfig } from '../../../../src/config.js';
import type { Engine } from '../../../../src/engine/engine.js';
import { adminExtensions } from '../../../../src/graphql/admin/extension.js';
import { createGraphQLServer } from '../../../../src/graphql/server.js';
import type { IngestInput, IngestReport, IngestService } from '../../../../src/ingest/ingest-service.js';
import { createLogger } from '../../../../src/logger.js';
import { createMetrics } from '../../../../src/metrics.js';
import { createQueryService } from '../../../../src/query/query-service.js';
import { createStore, type Store } from '../../../../src/store/store.js';
import { fixtureModel } from '../fixture-model.js';

export interface RecordingEngine extends Engine {
  readonly statements: { sql: string; params: Readonly<Record<string, unknown>> }[];
}

/** Every SELECT answers one row holding 7 in each aliased column (enough for shaping). */
export function recordingEngine(): RecordingEngine {
  const statements: RecordingEngine['statements'] = [];
  return {
    kind: 'chdb',
    database: 'test',
    statements,
    async query<T>(sql: string, params: Readonly<Record<string, unknown>> = {}) {
      statements.push({ sql, params });
      const aliases = [...sql.matchAll(/ AS `([A-Za-z0-9_]+)`/g)].map((m) => m[1]);
      return { rows: [Object.fromEntries(aliases.map((a) => [a, 7]))] as T[], elapsedMs: 1 };
    },
    async command() {},
    async insert() {},
    async insertRaw() {},
    async cancel() {},
    async ping() {
      return true;
    },
    stats: () => ({ queries: statements.length, errors: 0 }),
    onQuery() {},
    async close() {},
  };
}

export interface GqlResponse {
  status: number;
  data?: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface AdminHarness {
  readonly store: Store;
  readonly engine: RecordingEngine;
  readonly logs: string[];
  readonly ingestCalls: { principal: Principal; table: string; rows: IngestInput; batchId?: string }[];
  /** A dev JWT for the tenant with these roles and/or scopes. */
  token(tenantId: string, opts: { roles?: string[]; scopes?: string[]; subject?: string }): Promise<string>;
  gql(credential: string, query: string, variables?: Record<string, unknown>): Promise<GqlResponse>;
  close(): Promise<void>;
}

export async function createAdminHarness(): Promise<AdminHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-admin-'));
  const config = loadConfig({ STRATA_ENV: 'test', DATA_DIR: dir });
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const store = await createStore({ pglitePath: join(dir, 'pg') }, logger);
  await store.migrate();
  await store.ensureDemoTenants();
  const model = fixtureModel();
  const engine = recordingEngine();
  const query = createQueryService({ model, engine, limits: config.limits, queryTimeoutMs: 5_000, logger, audit: store.audit });
  const ingestCalls: AdminHarness['ingestCalls'] = [];
  const ingest: IngestService = {
    async ingest(principal, table, rows, batchId): Promise<IngestReport> {
      ingestCalls.push({ principal, table, rows, batchId });
      return {
        batchId: batchId ?? 'generated',
        table,
        inserted: 1,
        quarantined: [{ line: 2, reason: 'clicks must be a number' }],
        quarantinedCount: 1,
        duplicate: false,
      };
    },
    // Batch history and quarantine are covered by test/integration/ingest/quarantine-history.test.ts.
    batches: async () => [],
    quarantine: async () => [],
    replay: async () => {
      throw new Error('not used by the admin harness');
    },
    discard: async () => 0,
    deleteRows: async () => {
      throw new Error('not used by the admin harness');
    },
  };
  const authenticator = createAuthenticator({ auth: config.auth, apiKeys: store.apiKeys });
  const yoga = createGraphQLServer({
    model,
    query,
    authenticator,
    config,
    logger,
    metrics: createMetrics(),
    extensions: adminExtensions({ store, ingest, query }),
  });
  const secret = config.auth.jwtSecret!;
  return {
    store,
    engine,
    logs,
    ingestCalls,
    token: (tenantId, opts) => mintDevToken(secret, { tenantId, roles: opts.roles, scopes: opts.scopes, subject: opts.subject ?? `user@${tenantId}` }),
    async gql(credential, q, variables) {
      const res = await yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${credential}` },
        body: JSON.stringify({ query: q, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
