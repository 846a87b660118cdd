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

  RATE_LIMIT_ENABLED: bool.default(true),

  GRAPHIQL_ENABLED: bool.optional(),

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
  };
  readonly rateLimit: { readonly enabled: boolean };
  /**
   * GraphiQL at GET /graphql (served with its assets from this server, no CDN). On by default in
   * development only; GRAPHIQL_ENABLED=true turns it on elsewhere. Only development opens it signed in.
   */
  readonly graphiql: { readonly enabled: boolean };
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
    auth: { jwtSecret, jwksUrl: e.JWT_JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
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
    },
    rateLimit: { enabled: e.RATE_LIMIT_ENABLED },
    graphiql: { enabled: e.GRAPHIQL_ENABLED ?? mode === 'development' },
    demo: { seed: e.SEED_DEMO ?? mode !== 'production', scale: e.DEMO_SCALE, endDate: e.DEMO_END_DATE || undefined },
    live: {
      maxPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxPerTenant: e.MAX_SUBSCRIPTIONS_PER_TENANT,
      refreshCheckIntervalMs: e.REFRESH_CHECK_INTERVAL_MS,
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
