/**
 * The dependency rules of src/, as data: arrows point inward (semantic <- compiler <- query <- doors),
 * the core does no I/O, each external client has one home, doors never import each other, only
 * config.ts reads process.env. checker.ts enforces them; test/unit/architecture.test.ts runs it over src/.
 *
 * A module is a folder under src/ (`query/`) or a file (`config.ts`, `ingest/http.ts`); a file
 * belongs to the module with the longest matching path. Every file of src/ must belong to one.
 *
 *  - `imports`: the other modules it may import. 'value' = anything, 'type' = only `import type`
 *    (the thing is injected by a composition root, never constructed here). A module may always
 *    import its own files. '*' = any module (composition roots only).
 *  - `packages`: external packages it may import (besides node built-ins, see `builtins`).
 *    Every package has ONE home (PACKAGE_HOMES below): importing it anywhere else is a violation,
 *    and a package not in that table is one too, so a new dependency needs a decision here.
 *  - `builtins`: 'any', or the only node: built-ins allowed (the core does no I/O).
 *  - `kind: 'door'`: doors never import each other.
 */

export type EdgeKind = 'value' | 'type';
export type ModuleKind = 'core' | 'service' | 'adapter' | 'door' | 'edge' | 'leaf' | 'root' | 'tool';

export interface ModuleRule {
  readonly name: string;
  readonly kind: ModuleKind;
  /** Paths under src/: a folder ends with "/", anything else is a file. */
  readonly paths: readonly string[];
  readonly imports: '*' | Readonly<Record<string, EdgeKind>>;
  readonly builtins: 'any' | readonly string[];
  readonly why: string;
}

/** A reasoned exception to the table: one file may import one file it otherwise could not. */
export interface Exception {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export interface Rules {
  readonly modules: readonly ModuleRule[];
  /** package name -> the modules that may import it. */
  readonly packageHomes: Readonly<Record<string, readonly string[]>>;
  readonly exceptions: readonly Exception[];
  /** The only file that may read process.env. */
  readonly envReader: string;
}

/** Built-ins the pure core may use: computation only, no I/O. */
const PURE_BUILTINS = ['node:crypto', 'node:util', 'node:assert'];

const LEAVES = { 'errors.ts': 'value', 'logger.ts': 'type', 'metrics.ts': 'type', 'config.ts': 'type' } as const;

/** What every door may use: the edge, the services, and the leaves. Doors never import doors. */
const DOOR_IMPORTS = {
  ...LEAVES,
  edge: 'value',
  query: 'value',
  auth: 'value',
  semantic: 'value',
  ratelimit: 'value',
  // Doors show compiled columns; they never compile (types only).
  compiler: 'type',
  // Repositories are injected by the composition root; a door never opens a store.
  store: 'type',
  // Open sessions are registered with the access watch, injected by the composition root.
  tenancy: 'type',
} as const;

export const MODULES: readonly ModuleRule[] = [
  // ---- shared leaf files: import nothing of ours ----
  { name: 'errors.ts', kind: 'leaf', paths: ['errors.ts'], imports: {}, builtins: PURE_BUILTINS, why: 'error taxonomy shared by every layer' },
  { name: 'config.ts', kind: 'leaf', paths: ['config.ts'], imports: {}, builtins: 'any', why: 'the only reader of process.env' },
  { name: 'logger.ts', kind: 'leaf', paths: ['logger.ts'], imports: {}, builtins: 'any', why: 'pino setup' },
  { name: 'metrics.ts', kind: 'leaf', paths: ['metrics.ts'], imports: {}, builtins: 'any', why: 'prom-client registry' },
  { name: 'model-files.ts', kind: 'leaf', paths: ['model-files.ts'], imports: {}, builtins: 'any', why: 'the fs side of model loading (semantic/ takes text)' },

  // ---- the pure core: no I/O, nothing of ours but errors ----
  { name: 'semantic', kind: 'core', paths: ['semantic/'], imports: { 'errors.ts': 'value' }, builtins: PURE_BUILTINS, why: 'YAML text -> validated model' },
  {
    name: 'compiler',
    kind: 'core',
    paths: ['compiler/'],
    imports: { 'errors.ts': 'value', semantic: 'value' },
    builtins: PURE_BUILTINS,
    why: '(model, query, tenant) -> {sql, params}; pure and synchronous',
  },

  // ---- adapters: the one home of each external client ----
  {
    name: 'engine',
    kind: 'adapter',
    paths: ['engine/'],
    imports: { 'errors.ts': 'value', 'config.ts': 'type' },
    builtins: 'any',
    why: 'ClickHouse (chDB or HTTP)',
  },
  {
    name: 'store',
    kind: 'adapter',
    paths: ['store/'],
    imports: { 'errors.ts': 'value', 'config.ts': 'type', 'logger.ts': 'type', auth: 'value', semantic: 'type' },
    builtins: 'any',
    why: 'metadata in Postgres (pg) or PGlite',
  },
  {
    name: 'catalog-engine',
    kind: 'adapter',
    paths: ['catalog-engine/'],
    imports: { 'errors.ts': 'value', 'logger.ts': 'type' },
    builtins: 'any',
    why: 'empty in-memory Postgres (PGlite) engines answering pg_catalog queries for the SQL proxy',
  },
  {
    name: 'auth',
    kind: 'adapter',
    paths: ['auth/'],
    imports: { 'errors.ts': 'value', 'config.ts': 'type' },
    builtins: 'any',
    why: 'credentials -> Principal (jose)',
  },

  // ---- services: shared by doors ----
  {
    name: 'query',
    kind: 'service',
    paths: ['query/'],
    imports: { ...LEAVES, semantic: 'value', compiler: 'value', auth: 'value', engine: 'type' },
    builtins: 'any',
    why: 'authorize -> compile -> batch/cache -> execute -> shape -> audit',
  },
  {
    name: 'live',
    kind: 'service',
    paths: ['live/'],
    // edge: its evaluations and refresh-key checks are requests too, built like every door's.
    imports: { ...LEAVES, semantic: 'value', auth: 'value', query: 'value', edge: 'value' },
    builtins: 'any',
    why: 'live queries: a service over the query service (the GraphQL door hosts its subscriptions); no SQL, no engine',
  },
  {
    name: 'ingest',
    kind: 'service',
    paths: ['ingest/'],
    imports: { ...LEAVES, semantic: 'value', auth: 'value', engine: 'type', live: 'type' },
    builtins: 'any',
    why: 'the ingestion service (validation, sink, ledger), shared by the HTTP ingest door and the GraphQL mutation',
  },
  {
    name: 'rollups',
    kind: 'service',
    paths: ['rollups/'],
    // compiler: the rollup's building SELECT and shape come from the compiler, so they match what it routes to.
    imports: { ...LEAVES, semantic: 'type', compiler: 'value', engine: 'type', live: 'type' },
    builtins: 'any',
    why: 'rollup tables from the models (built under the warehouse lock) and their maintenance on insert; the compiler routes to them',
  },
  {
    name: 'tenancy',
    kind: 'service',
    paths: ['tenancy/'],
    // store: the tenant status rule (tenantAdmits) and repository types; the repos themselves are injected.
    imports: { ...LEAVES, auth: 'value', store: 'value' },
    builtins: 'any',
    why: 'tenant registry at every door (directory + authenticator gate), open sessions and the end of their access',
  },
  {
    name: 'audit',
    kind: 'service',
    paths: ['audit/'],
    // Decorators over the repositories and the ingest service (injected, types only); the request in scope from the edge.
    imports: { ...LEAVES, edge: 'value', auth: 'type', store: 'type', ingest: 'type', query: 'type', engine: 'type' },
    builtins: 'any',
    why: 'the audit of changes (who changed what, before/after, from which request) and its ClickHouse mirror (the audit cube)',
  },
  {
    name: 'jobs',
    kind: 'service',
    paths: ['jobs/'],
    // store: the queue's repository type only (injected); the SQL lives in store/job-queue.ts.
    imports: { ...LEAVES, store: 'type' },
    builtins: 'any',
    why: 'the durable job queue runner: claims, leases, heartbeats, retries with backoff, hand-back on drain',
  },
  {
    name: 'reports',
    kind: 'service',
    paths: ['reports/'],
    // edge: background runs build their request context like every door; query: the one path to data.
    imports: { ...LEAVES, query: 'value', edge: 'value', auth: 'value', semantic: 'type', store: 'type', engine: 'type', jobs: 'value' },
    builtins: 'any',
    why: 'exports, snapshots, schedules and their destinations (email, webhooks), run as jobs over the query service',
  },
  { name: 'ratelimit', kind: 'service', paths: ['ratelimit/'], imports: { 'errors.ts': 'value' }, builtins: 'any', why: 'per-tenant token buckets (pure)' },

  // ---- the edge: request context, credentials, error mapping; shared by doors, imports no door ----
  {
    name: 'edge',
    kind: 'edge',
    paths: ['edge/'],
    imports: { ...LEAVES, query: 'value', auth: 'value', semantic: 'type' },
    builtins: 'any',
    why: 'what every door does at its edge, once',
  },

  // ---- doors: never import each other ----
  {
    name: 'graphql',
    kind: 'door',
    paths: ['graphql/'],
    imports: { ...DOOR_IMPORTS, live: 'value', ingest: 'type', reports: 'type' },
    builtins: 'any',
    why: 'GraphQL (yoga + Pothos), subscriptions over graphql-ws',
  },
  { name: 'rest', kind: 'door', paths: ['rest/'], imports: DOOR_IMPORTS, builtins: 'any', why: 'Cube-compatible REST' },
  {
    name: 'sqlproxy',
    kind: 'door',
    paths: ['sqlproxy/'],
    imports: { ...DOOR_IMPORTS, 'catalog-engine': 'value' },
    builtins: 'any',
    why: 'Postgres wire protocol',
  },
  {
    name: 'ingest/http',
    kind: 'door',
    paths: ['ingest/http.ts'],
    imports: { ...DOOR_IMPORTS, ingest: 'value' },
    builtins: 'any',
    why: 'POST /v1/ingest/{table}',
  },
  {
    name: 'mcp',
    kind: 'door',
    paths: ['mcp/'],
    imports: DOOR_IMPORTS,
    builtins: 'any',
    why: 'MCP for AI agents (@modelcontextprotocol/sdk): Streamable HTTP at /mcp and stdio (`strata mcp`), tools over the catalog and the query service',
  },

  {
    name: 'reports/http',
    kind: 'door',
    paths: ['reports/http.ts'],
    imports: { ...DOOR_IMPORTS, reports: 'value' },
    builtins: 'any',
    why: 'GET /v1/exports/{id}/download: expiring, tenant-bound download links',
  },
  {
    name: 'links',
    kind: 'door',
    paths: ['links/'],
    imports: DOOR_IMPORTS,
    builtins: 'any',
    why: 'GET|POST /v1/shared/dashboards/{token}: read-only dashboard share links, the token is the credential (no JWT)',
  },
  {
    name: 'studio',
    kind: 'door',
    paths: ['studio/'],
    imports: DOOR_IMPORTS,
    builtins: 'any',
    why: 'GET /studio: the Studio page and its built assets (dist/studio); the page calls the GraphQL API like any client',
  },
  // ---- tools and generated code ----
  { name: 'demo', kind: 'tool', paths: ['demo/'], imports: { 'errors.ts': 'value', engine: 'type' }, builtins: 'any', why: 'deterministic demo dataset' },
  {
    name: 'cli',
    kind: 'tool',
    paths: ['cli/'],
    imports: { semantic: 'value' },
    builtins: 'any',
    why: 'CLI argument parsing, help and rendering (did-you-mean from semantic/suggest); the running-server record (DATA_DIR/server.json) that serve writes and query/sql read',
  },
  { name: 'sdk', kind: 'tool', paths: ['sdk/'], imports: {}, builtins: [], why: 'generated typed client for graphql-request (shipped to callers)' },

  // ---- composition roots: wire everything, imported by nothing but each other ----
  { name: 'main.ts', kind: 'root', paths: ['main.ts'], imports: '*', builtins: 'any', why: 'CLI entry' },
  { name: 'server.ts', kind: 'root', paths: ['server.ts'], imports: '*', builtins: 'any', why: 'HTTP server: mounts the doors' },
  { name: 'services.ts', kind: 'root', paths: ['services.ts'], imports: '*', builtins: 'any', why: 'composition root' },
  {
    name: 'warehouse-startup.ts',
    kind: 'root',
    paths: ['warehouse-startup.ts'],
    imports: '*',
    builtins: 'any',
    why: 'start-time ClickHouse migrations + demo seed under warehouse locks; the readiness the engine gate and /ready follow',
  },
  { name: 'readiness.ts', kind: 'root', paths: ['readiness.ts'], imports: '*', builtins: 'any', why: '/ready: engines answer and migrations are applied' },
  {
    name: 'schema-extensions.ts',
    kind: 'root',
    paths: ['schema-extensions.ts'],
    imports: '*',
    builtins: 'any',
    why: 'wires the GraphQL extensions to their services',
  },
];

/** Each external package has one home (a second one only when named here, with the reason in its CONTEXT.md). */
export const PACKAGE_HOMES: Readonly<Record<string, readonly string[]>> = {
  '@clickhouse/client': ['engine'],
  chdb: ['engine'],
  pg: ['store'],
  // The store's embedded metadata database, and the SQL proxy's empty catalog engines.
  '@electric-sql/pglite': ['store', 'catalog-engine'],
  jose: ['auth'],
  'graphql-yoga': ['graphql'],
  '@graphql-yoga/render-graphiql': ['graphql'],
  '@pothos/core': ['graphql'],
  '@pothos/plugin-scope-auth': ['graphql'],
  'graphql-ws': ['graphql'],
  ws: ['graphql'],
  // The GraphQL door, and the generated client SDK (types of graphql-request documents).
  graphql: ['graphql', 'sdk'],
  'graphql-request': ['sdk'],
  'libpg-query': ['sqlproxy'],
  // Prints the rewritten parse tree of a composed statement for the post engine (sqlproxy/compose).
  'pgsql-deparser': ['sqlproxy'],
  '@whatwg-node/server': ['server.ts', 'edge'],
  '@modelcontextprotocol/sdk': ['mcp'],
  dataloader: ['query'],
  luxon: ['compiler', 'sqlproxy'],
  yaml: ['semantic'],
  'fastest-levenshtein': ['semantic'],
  // Config validation, and the MCP tools' input schemas (the SDK publishes zod schemas as JSON Schema).
  zod: ['config.ts', 'mcp'],
  pino: ['logger.ts'],
  'prom-client': ['metrics.ts'],
  // Reports: XLSX files (streaming writer), cron with time zones, SMTP email.
  exceljs: ['reports'],
  croner: ['reports'],
  nodemailer: ['reports'],
};

export const EXCEPTIONS: readonly Exception[] = [
  {
    from: 'demo/seed.ts',
    to: 'engine/lock.ts',
    why: 'a seed runs under the warehouse-side demo_seed lock (instances started together seed once); the lock is ClickHouse SQL, so it lives in engine/',
  },
  {
    from: 'rest/query-plan.ts',
    to: 'compiler/normalize.ts',
    why: 'expandCompareDateRange: SemanticQuery -> SemanticQuery[], pure and SQL-free (Cube splits compareDateRange at the REST edge)',
  },
];

export const RULES: Rules = { modules: MODULES, packageHomes: PACKAGE_HOMES, exceptions: EXCEPTIONS, envReader: 'config.ts' };
