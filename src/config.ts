/**
 * The ONLY reader of process.env. Parses and validates once and returns a frozen Config.
 * Every other module receives the values it needs from here.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const bool = z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', '']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const EnvSchema = z.object({
  STRATA_ENV: z.enum(['development', 'production', 'test']).optional(),
  NODE_ENV: z.string().optional(),
  PORT: int(4000, 0),
  HOST: z.string().default('127.0.0.1'),
  /** Proxies in front of Strata that append to x-forwarded-for: false/0 (default) = none, true = 1, or a count. */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|yes|no|on|off|\d{1,2})?$/, 'must be true, false or a number of proxy hops')
    .transform((v) => (['true', 'yes', 'on'].includes(v) ? 1 : /^\d+$/.test(v) ? Number(v) : 0))
    .optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  DATA_DIR: z.string().default('./data'),

  CLICKHOUSE_URL: z.string().url().optional(),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default('strata'),
  CHDB_PATH: z.string().optional(),
  QUERY_TIMEOUT_MS: int(30_000, 100),

  DATABASE_URL: z.string().optional(),
  PGLITE_PATH: z.string().optional(),

  MODELS_DIR: z.string().default('./cube-models'),

  JWT_SECRET: z.string().min(1).optional(),
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  /** JWKS keys are refetched after this long: a key removed at the identity provider stops verifying within it. */
  JWT_JWKS_MAX_AGE_MS: int(60_000, 1_000),
  /** Least time between two JWKS fetches (an unknown kid waits for the next one). */
  JWT_JWKS_COOLDOWN_MS: int(1_000, 0),
  JWT_JWKS_TIMEOUT_MS: int(5_000, 100),
  /** Identity provider unreachable: the last keys fetched keep verifying this long past JWT_JWKS_MAX_AGE_MS. */
  JWT_JWKS_GRACE_MS: int(300_000, 0),
  /** HS256 rotation: the previous secret, accepted until JWT_PREVIOUS_SECRET_UNTIL (an ISO date-time). */
  JWT_PREVIOUS_SECRET: z.string().min(1).optional(),
  JWT_PREVIOUS_SECRET_UNTIL: z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date-time, e.g. 2026-12-08T12:00:00Z')
    .optional(),
  /** SIGTERM/SIGINT: how long in-flight requests and statements may finish before the process exits. */
  DRAIN_TIMEOUT_MS: int(10_000, 0),
  /** `strata mcp` (stdio): the caller's credential (a JWT or an API key), and a running server to go through. */
  STRATA_TOKEN: z.string().optional(),
  STRATA_URL: z.string().url().optional().or(z.literal('')),
  /** Accept JWTs without exp until iat + this many seconds (and cap longer ones). Unset: exp is required. */
  AUTH_MAX_TOKEN_AGE_SECONDS: z.coerce.number().int().min(1).optional(),
  /** Create an unknown tenant (default plan) on the first valid credential that names it, and log it. */
  TENANT_AUTO_PROVISION: bool.default(false),
  TENANT_DEFAULT_PLAN: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/)
    .default('free'),
  /** Fallback re-check of open sessions (WebSocket, SQL proxy) besides the LISTEN/NOTIFY signals. */
  ACCESS_RECHECK_INTERVAL_MS: int(5_000, 100),
  /** Apply each tenant's plan retention to the fact tables (ClickHouse TTL): at start and on a plan change. */
  DATA_RETENTION_ENABLED: bool.default(false),
  /** Build the models' rollups (pre_aggregations) and answer the queries they serve exactly from them. */
  ROLLUPS_ENABLED: bool.default(true),
  /** Days of fact rows per plan, "free:90,pro:1095,enterprise:" (empty: keep everything); replaces the defaults. */
  DATA_RETENTION_PLAN_DAYS: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}:(\d{1,5})?(,[a-z][a-z0-9_-]{0,31}:(\d{1,5})?)*$/, 'must be plan:days pairs, e.g. "free:90,pro:1095,enterprise:"')
    .transform((v) =>
      Object.fromEntries(
        v
          .split(',')
          .map((p) => p.split(':'))
          .map(([plan, d]) => [plan, d ? Number(d) : undefined]),
      ),
    )
    .refine((m) => Object.values(m).every((d) => d === undefined || (d >= 1 && d <= 36_500)), 'days must be 1-36500')
    .optional(),

  DEFAULT_ROW_LIMIT: int(10_000, 1),
  MAX_ROW_LIMIT: int(50_000, 1),
  MAX_QUERY_DEPTH: int(12, 1),
  MAX_QUERY_COMPLEXITY: int(2_000, 1),
  MAX_GRAPHQL_BODY_BYTES: int(1_048_576, 1_024),
  CACHE_TTL_MS: int(60_000, 0),
  CACHE_MAX_ENTRIES: int(5_000, 0),

  SQL_PROXY_ENABLED: bool.default(true),
  SQL_PROXY_PORT: int(15432, 0),
  SQL_PROXY_HOST: z.string().default('127.0.0.1'),
  SQL_PROXY_TLS_CERT: z.string().optional(),
  SQL_PROXY_TLS_KEY: z.string().optional(),
  /** Accept cleartext passwords from non-loopback clients without TLS (trusted private networks only). */
  SQL_PROXY_ALLOW_CLEARTEXT_NETWORK: bool.default(false),
  /** Most rows one SQL-proxy statement returns (read in MAX_ROW_LIMIT pages); past it the statement fails, naming it. */
  SQL_PROXY_MAX_ROWS: int(1_000_000, 1),
  /** Most rows the parts of one composed SQL-proxy statement (UNION, WITH, windows, joins of results) hold on the post engine. */
  SQL_PROXY_COMPOSE_MAX_ROWS: int(200_000, 1),
  /** Open SQL-proxy connections at most (logged in or logging in); past it FATAL 53300, as Postgres' max_connections. */
  SQL_PROXY_MAX_CONNECTIONS: int(200, 1),
  /** Logged-in SQL-proxy sessions one tenant may hold at once; past it FATAL 53300 naming the tenant. */
  SQL_PROXY_MAX_CONNECTIONS_PER_TENANT: int(50, 1),

  RATE_LIMIT_ENABLED: bool.default(true),
  /** Engine statements at once (fair sharing between tenants); default 1 for embedded chDB (one at a time), 8 over HTTP. */
  ENGINE_SLOTS: int(0, 0),
  /** Engine statements at once of one tenant; the others wait in the tenant's queue. */
  ENGINE_SLOTS_PER_TENANT: int(2, 1),
  /** Monthly plan quotas (queries) are enforced. */
  QUOTAS_ENABLED: bool.default(true),

  GRAPHIQL_ENABLED: bool.optional(),
  STUDIO_ENABLED: bool.optional(),

  SEED_DEMO: bool.optional(),
  DEMO_SCALE: z.coerce.number().positive().default(1),
  /** Last day of demo data, YYYY-MM-DD; empty or unset: yesterday (UTC) when the seed runs. */
  DEMO_END_DATE: z
    .string()
    .regex(/^(\d{4}-\d{2}-\d{2})?$/, 'must be a date YYYY-MM-DD')
    .refine((v) => v === '' || new Date(Date.parse(`${v}T00:00:00Z`) || 0).toISOString().startsWith(v), 'must be a calendar date')
    .optional(),

  MAX_SUBSCRIPTIONS_PER_CONNECTION: int(100, 1),
  MAX_SUBSCRIPTIONS_PER_TENANT: int(20_000, 1),
  REFRESH_CHECK_INTERVAL_MS: int(1_000, 50),

  /** The durable job queue (jobs/): this instance runs jobs (exports, scheduled reports). */
  JOBS_ENABLED: bool.default(true),
  /** A job's lease: an instance that stops renewing it (crashed) loses the job after this long. */
  JOBS_LEASE_MS: int(30_000, 300),
  JOBS_POLL_MS: int(1_000, 20),
  JOBS_CONCURRENCY: int(2, 1),
  JOBS_RETRY_BASE_MS: int(5_000, 10),
  /** This instance's name in the job queue (locked_by, logs); the pid is appended. Default: w. */
  JOBS_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .optional(),
  /** Reports' email: smtp://user:pass@host:port (smtps:// for TLS from the start). Unset: email destinations fail their runs. */
  SMTP_URL: z.string().url().optional(),
  SMTP_FROM: z.string().default('Strata reports <reports@localhost>'),
  SMTP_TIMEOUT_MS: int(10_000, 100),
  /** Base of the links in emails and webhooks; default http://HOST:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  /** An export mutation waits this long for its file before answering PENDING. */
  EXPORT_WAIT_MS: int(10_000, 0),
  EXPORT_TIMEOUT_MS: int(300_000, 1_000),
  EMAIL_ATTACH_MAX_BYTES: int(10_485_760, 0),
  WEBHOOK_ATTEMPTS: int(3, 1),
  WEBHOOK_RETRY_BASE_MS: int(1_000, 1),
  WEBHOOK_TIMEOUT_MS: int(10_000, 100),
  /** Allow webhooks to loopback, private and link-local addresses (off: a tenant could reach internal services). */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  SCHEDULE_MIN_INTERVAL_SECONDS: int(60, 0),
  SCHEDULE_FAILURE_BACKOFF_MS: int(300_000, 0),
  /** Snapshots are deleted this many days after they are taken (0: kept). */
  SNAPSHOT_RETENTION_DAYS: int(365, 0),
});

export type Environment = 'development' | 'production' | 'test';

export interface Config {
  readonly env: Environment;
  readonly port: number;
  readonly host: string;
  /** How many proxies append to x-forwarded-for (0: ignore the header; see edge/client-address.ts). */
  readonly trustProxy: number;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly clickhouse: {
    readonly url?: string;
    readonly username?: string;
    readonly password?: string;
    readonly database: string;
    /** On-disk directory of the embedded engine (used when url is unset). */
    readonly chdbPath: string;
    readonly queryTimeoutMs: number;
  };
  readonly postgres: {
    /** A Postgres server; when unset, embedded PGlite at pglitePath. */
    readonly url?: string;
    readonly pglitePath: string;
  };
  readonly modelsDir: string;
  readonly auth: {
    readonly jwtSecret?: string;
    readonly jwksUrl?: string;
    readonly issuer?: string;
    readonly audience?: string;
    /** JWKS key lifetime, refetch cooldown, fetch timeout and outage grace (auth/jwks-cache.ts). */
    readonly jwks?: { readonly maxAgeMs: number; readonly cooldownMs: number; readonly timeoutMs: number; readonly graceMs: number };
    /** HS256 rotation: the previous secret, accepted until `until` (epoch ms). */
    readonly previousSecret?: { readonly secret: string; readonly until: number };
    /** Seconds; see token-lifetime.ts (auth/). */
    readonly maxTokenAgeSeconds?: number;
  };
  readonly tenancy: {
    readonly autoProvision: boolean;
    readonly defaultPlan: string;
    readonly recheckIntervalMs: number;
  };
  /** Plan retention (ingest/retention.ts); planDays unset: PLAN_RETENTION_DAYS. */
  /** Rollups from the models' pre_aggregations (src/rollups/). */
  readonly rollups: { readonly enabled: boolean };
  readonly retention: {
    readonly enabled: boolean;
    readonly planDays?: Readonly<Record<string, number | undefined>>;
  };
  readonly limits: {
    readonly defaultRowLimit: number;
    readonly maxRowLimit: number;
    readonly maxDepth: number;
    readonly maxComplexity: number;
    /** Largest POST /graphql body; larger ones get 413. */
    readonly maxGraphQLBodyBytes: number;
  };
  readonly cache: { readonly ttlMs: number; readonly maxEntries: number };
  readonly sqlProxy: {
    readonly enabled: boolean;
    readonly port: number;
    readonly host: string;
    readonly tlsCert?: string;
    readonly tlsKey?: string;
    /** Accept passwords over unencrypted non-loopback connections (opt-in, logged as a warning). */
    readonly allowCleartextNetwork: boolean;
    /** Most rows per statement, and rows per query-service load (= limits.maxRowLimit). */
    readonly rowLimits: { readonly maxRows: number; readonly pageRows: number; readonly composedRows?: number };
    /** Open connections at most, and logged-in sessions per tenant (server.ts admit). */
    readonly connections: { readonly max: number; readonly perTenant: number };
  };
  readonly rateLimit: { readonly enabled: boolean };
  /** Fair sharing of the engine: statements at once in all, and of one tenant (query/engine-slots.ts). */
  readonly engineSlots: { readonly total: number; readonly perTenant: number };
  readonly quotas: { readonly enabled: boolean };
  /** Graceful drain on SIGTERM/SIGINT: in-flight work gets this long (server.ts drain). */
  readonly drain: { readonly timeoutMs: number };
  /** `strata mcp` over stdio: the credential it acts with, and the server to relay to (else in-process). */
  readonly mcp: { readonly token?: string; readonly serverUrl?: string };
  /**
   * GraphiQL at GET /graphql (served with its assets from this server, no CDN). On by default in
   * development only; GRAPHIQL_ENABLED=true turns it on elsewhere. Only development opens it signed in.
   */
  readonly graphiql: { readonly enabled: boolean };
  /**
   * Strata Studio at GET /studio (and / redirects there): catalog, query builder, dashboards. On by
   * default in development only; STUDIO_ENABLED=true turns it on elsewhere. Only development offers
   * the one-click demo tenant sign-in.
   */
  readonly studio: { readonly enabled: boolean };
  readonly demo: {
    readonly seed: boolean;
    readonly scale: number;
    /** Last day of demo data when seeding; undefined: yesterday (UTC) at seed time. */
    readonly endDate?: string;
  };
  readonly live: {
    readonly maxPerConnection: number;
    readonly maxPerTenant: number;
    readonly refreshCheckIntervalMs: number;
  };
  /** The durable job queue (jobs/runner.ts). */
  readonly jobs: {
    readonly enabled: boolean;
    readonly leaseMs: number;
    readonly pollMs: number;
    readonly concurrency: number;
    readonly retryBaseMs: number;
    readonly workerId?: string;
  };
  /** Exports, snapshots, schedules (reports/). */
  readonly reports: {
    readonly smtp?: { readonly url: string; readonly from: string; readonly timeoutMs: number };
    readonly publicUrl: string;
    /** PUBLIC_URL was given (else the server's own address, known once it listens). */
    readonly publicUrlSet: boolean;
    readonly workDir: string;
    readonly exportWaitMs: number;
    readonly exportTimeoutMs: number;
    readonly attachMaxBytes: number;
    readonly webhook: { readonly attempts: number; readonly retryBaseMs: number; readonly timeoutMs: number; readonly allowPrivate: boolean };
    readonly minScheduleIntervalSeconds: number;
    readonly failureBackoffMs: number;
    readonly snapshotRetentionDays: number;
  };
}

/** Shortest HS256 secret accepted in production: 256 bits, the size of the HMAC-SHA-256 key. */
export const MIN_PRODUCTION_SECRET_BYTES = 32;

/** The well-known development secret; refused outside development and test. */
export const DEV_JWT_SECRET = 'strata-development-secret-do-not-use-in-production';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<string, string>> = {}): Config {
  const parsed = EnvSchema.safeParse({ ...env, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const mode: Environment = e.STRATA_ENV ?? (e.NODE_ENV === 'production' ? 'production' : e.NODE_ENV === 'test' ? 'test' : 'development');
  const dataDir = resolve(e.DATA_DIR);
  let jwtSecret = e.JWT_SECRET;
  if (!jwtSecret && !e.JWT_JWKS_URL) {
    if (mode === 'production') throw new ConfigError('invalid configuration:\n  JWT_SECRET or JWT_JWKS_URL is required in production');
    jwtSecret = DEV_JWT_SECRET;
  }
  if (mode === 'production' && jwtSecret === DEV_JWT_SECRET) {
    throw new ConfigError('invalid configuration:\n  JWT_SECRET must not be the development secret in production');
  }
  if (mode === 'production' && jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < MIN_PRODUCTION_SECRET_BYTES) {
    throw new ConfigError(
      `invalid configuration:\n  JWT_SECRET must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production (it has ${Buffer.byteLength(jwtSecret, 'utf8')}); generate one with: openssl rand -base64 48`,
    );
  }
  if (Boolean(e.JWT_PREVIOUS_SECRET) !== Boolean(e.JWT_PREVIOUS_SECRET_UNTIL) || (e.JWT_PREVIOUS_SECRET && !jwtSecret)) {
    throw new ConfigError('invalid configuration:\n  JWT_PREVIOUS_SECRET needs JWT_SECRET (the new one) and JWT_PREVIOUS_SECRET_UNTIL (when the overlap ends)');
  }
  if (mode === 'production' && e.JWT_PREVIOUS_SECRET !== undefined && Buffer.byteLength(e.JWT_PREVIOUS_SECRET, 'utf8') < MIN_PRODUCTION_SECRET_BYTES) {
    throw new ConfigError(`invalid configuration:\n  JWT_PREVIOUS_SECRET must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production`);
  }
  if (e.JWT_JWKS_COOLDOWN_MS > e.JWT_JWKS_MAX_AGE_MS) {
    throw new ConfigError('invalid configuration:\n  JWT_JWKS_COOLDOWN_MS must not exceed JWT_JWKS_MAX_AGE_MS');
  }
  if (e.MAX_ROW_LIMIT < e.DEFAULT_ROW_LIMIT) {
    throw new ConfigError('invalid configuration:\n  MAX_ROW_LIMIT must be >= DEFAULT_ROW_LIMIT');
  }
  if (Boolean(e.SQL_PROXY_TLS_CERT) !== Boolean(e.SQL_PROXY_TLS_KEY)) {
    throw new ConfigError('invalid configuration:\n  SQL_PROXY_TLS_CERT and SQL_PROXY_TLS_KEY must be set together');
  }
  const config: Config = {
    env: mode,
    port: e.PORT,
    host: e.HOST,
    trustProxy: e.TRUST_PROXY ?? 0,
    logLevel: e.LOG_LEVEL ?? (mode === 'test' ? 'silent' : 'info'),
    dataDir,
    clickhouse: {
      url: e.CLICKHOUSE_URL,
      username: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE,
      chdbPath: resolve(e.CHDB_PATH ?? `${dataDir}/clickhouse`),
      queryTimeoutMs: e.QUERY_TIMEOUT_MS,
    },
    postgres: { url: e.DATABASE_URL || undefined, pglitePath: resolve(e.PGLITE_PATH ?? `${dataDir}/postgres`) },
    modelsDir: resolve(e.MODELS_DIR),
    auth: {
      jwtSecret,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      maxTokenAgeSeconds: e.AUTH_MAX_TOKEN_AGE_SECONDS,
      jwks: { maxAgeMs: e.JWT_JWKS_MAX_AGE_MS, cooldownMs: e.JWT_JWKS_COOLDOWN_MS, timeoutMs: e.JWT_JWKS_TIMEOUT_MS, graceMs: e.JWT_JWKS_GRACE_MS },
      ...(e.JWT_PREVIOUS_SECRET && e.JWT_PREVIOUS_SECRET_UNTIL
        ? { previousSecret: { secret: e.JWT_PREVIOUS_SECRET, until: Date.parse(e.JWT_PREVIOUS_SECRET_UNTIL) } }
        : {}),
    },
    tenancy: { autoProvision: e.TENANT_AUTO_PROVISION, defaultPlan: e.TENANT_DEFAULT_PLAN, recheckIntervalMs: e.ACCESS_RECHECK_INTERVAL_MS },
    rollups: { enabled: e.ROLLUPS_ENABLED },
    retention: { enabled: e.DATA_RETENTION_ENABLED, ...(e.DATA_RETENTION_PLAN_DAYS ? { planDays: e.DATA_RETENTION_PLAN_DAYS } : {}) },
    limits: {
      defaultRowLimit: e.DEFAULT_ROW_LIMIT,
      maxRowLimit: e.MAX_ROW_LIMIT,
      maxDepth: e.MAX_QUERY_DEPTH,
      maxComplexity: e.MAX_QUERY_COMPLEXITY,
      maxGraphQLBodyBytes: e.MAX_GRAPHQL_BODY_BYTES,
    },
    cache: { ttlMs: e.CACHE_TTL_MS, maxEntries: e.CACHE_MAX_ENTRIES },
    sqlProxy: {
      enabled: e.SQL_PROXY_ENABLED,
      port: e.SQL_PROXY_PORT,
      host: e.SQL_PROXY_HOST,
      tlsCert: e.SQL_PROXY_TLS_CERT,
      tlsKey: e.SQL_PROXY_TLS_KEY,
      allowCleartextNetwork: e.SQL_PROXY_ALLOW_CLEARTEXT_NETWORK,
      rowLimits: { maxRows: e.SQL_PROXY_MAX_ROWS, pageRows: e.MAX_ROW_LIMIT, composedRows: e.SQL_PROXY_COMPOSE_MAX_ROWS },
      connections: { max: e.SQL_PROXY_MAX_CONNECTIONS, perTenant: e.SQL_PROXY_MAX_CONNECTIONS_PER_TENANT },
    },
    rateLimit: { enabled: e.RATE_LIMIT_ENABLED },
    engineSlots: { total: e.ENGINE_SLOTS || (e.CLICKHOUSE_URL ? 8 : 1), perTenant: e.ENGINE_SLOTS_PER_TENANT },
    quotas: { enabled: e.QUOTAS_ENABLED },
    drain: { timeoutMs: e.DRAIN_TIMEOUT_MS },
    mcp: { token: e.STRATA_TOKEN || undefined, serverUrl: e.STRATA_URL || undefined },
    graphiql: { enabled: e.GRAPHIQL_ENABLED ?? mode === 'development' },
    studio: { enabled: e.STUDIO_ENABLED ?? mode === 'development' },
    demo: { seed: e.SEED_DEMO ?? mode !== 'production', scale: e.DEMO_SCALE, endDate: e.DEMO_END_DATE || undefined },
    live: {
      maxPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxPerTenant: e.MAX_SUBSCRIPTIONS_PER_TENANT,
      refreshCheckIntervalMs: e.REFRESH_CHECK_INTERVAL_MS,
    },
    jobs: {
      enabled: e.JOBS_ENABLED,
      leaseMs: e.JOBS_LEASE_MS,
      pollMs: e.JOBS_POLL_MS,
      concurrency: e.JOBS_CONCURRENCY,
      retryBaseMs: e.JOBS_RETRY_BASE_MS,
      workerId: e.JOBS_WORKER_ID,
    },
    reports: {
      ...(e.SMTP_URL ? { smtp: { url: e.SMTP_URL, from: e.SMTP_FROM, timeoutMs: e.SMTP_TIMEOUT_MS } } : {}),
      publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
      publicUrlSet: Boolean(e.PUBLIC_URL),
      workDir: resolve(`${dataDir}/exports`),
      exportWaitMs: e.EXPORT_WAIT_MS,
      exportTimeoutMs: e.EXPORT_TIMEOUT_MS,
      attachMaxBytes: e.EMAIL_ATTACH_MAX_BYTES,
      webhook: { attempts: e.WEBHOOK_ATTEMPTS, retryBaseMs: e.WEBHOOK_RETRY_BASE_MS, timeoutMs: e.WEBHOOK_TIMEOUT_MS, allowPrivate: e.WEBHOOK_ALLOW_PRIVATE },
      minScheduleIntervalSeconds: e.SCHEDULE_MIN_INTERVAL_SECONDS,
      failureBackoffMs: e.SCHEDULE_FAILURE_BACKOFF_MS,
      snapshotRetentionDays: e.SNAPSHOT_RETENTION_DAYS,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
