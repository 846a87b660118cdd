/**
 * In-process harness for the GraphQL door: the real yoga server over the fixture model, with a
 * recording QueryService (it keeps every semantic query and answers with rows keyed like the
 * real service) and a token -> principal authenticator.
 */
import type { Authenticator } from '../../../src/auth/authenticator.js';
import type { Principal } from '../../../src/auth/principal.js';
import { loadConfig } from '../../../src/config.js';
import { UnauthenticatedError } from '../../../src/errors.js';
import { createGraphQLServer } from '../../../src/graphql/server.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { buildCatalog } from '../../../src/query/catalog.js';
import type { CellValue, QueryResult, QueryService, RequestContext } from '../../../src/query/types.js';
import type { Model } from '../../../src/semantic/model.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { fixtureModel } from './fixture-model.js';

export function principal(scopes: string[], tenantId = 'acme'): Principal {
  return { tenantId, scopes: new Set(scopes), subject: 'user-1', via: 'jwt', roles: [] };
}

export const TOKENS: Record<string, Principal> = {
  analyst: principal(['metrics:read', 'finance:read']),
  viewer: principal(['metrics:read']),
  nobody: principal([]),
  other: principal(['metrics:read'], 'globex'),
};

export const authenticator: Authenticator = {
  async authenticate(credential) {
    const p = TOKENS[credential];
    if (!p) throw new UnauthenticatedError('invalid token: signature verification failed');
    return p;
  },
};

/** Rows for a query: `rows` of them, values derived from the column key and row index. */
export function fakeRows(q: SemanticQuery, rows = 2): Record<string, CellValue>[] {
  const keys = [
    ...(q.measures ?? []),
    ...(q.dimensions ?? []),
    ...(q.timeDimensions ?? []).filter((td) => td.granularity).map((td) => `${td.dimension}.${td.granularity}`),
  ];
  return Array.from({ length: rows }, (_, i) =>
    Object.fromEntries(
      keys.map((k) => {
        if ((q.measures ?? []).includes(k)) return [k, (i + 1) * 10];
        if (k.split('.').length === 3) return [k, `2024-01-0${i + 1}T00:00:00.000`];
        return [k, `${k.split('.')[1]}-${i}`];
      }),
    ),
  );
}

export function fakeResult(q: SemanticQuery, rows = fakeRows(q)): QueryResult {
  const ann = { title: 't', shortTitle: 's', type: 'number' as const };
  return {
    query: {
      measures: q.measures ?? [],
      dimensions: q.dimensions ?? [],
      segments: q.segments ?? [],
      timeDimensions: [],
      filters: [],
      order: [],
      limit: q.limit ?? 10_000,
      offset: q.offset ?? 0,
      total: q.total ?? false,
      timezone: q.timezone ?? 'UTC',
      ungrouped: false,
    },
    columns: [],
    rows,
    annotation: {
      measures: Object.fromEntries((q.measures ?? []).map((m) => [m, { ...ann, format: 'currency' as const }])),
      dimensions: Object.fromEntries((q.dimensions ?? []).map((d) => [d, { ...ann, type: 'string' as const }])),
      segments: {},
      timeDimensions: Object.fromEntries(
        (q.timeDimensions ?? [])
          .filter((td) => td.granularity)
          .map((td) => [`${td.dimension}.${td.granularity}`, { ...ann, type: 'time' as const, granularity: { name: td.granularity!, title: 'Day' } }]),
      ),
    },
    total: q.total ? 42 : undefined,
    lastRefreshTime: '2024-01-01T00:00:00.000Z',
    fromCache: false,
  };
}

export interface Harness {
  readonly model: Model;
  readonly calls: { ctx: RequestContext; query: SemanticQuery }[];
  readonly logs: Record<string, unknown>[];
  readonly metrics: ReturnType<typeof createMetrics>;
  /** Replace to make load fail or answer differently. */
  answer: (q: SemanticQuery) => Promise<QueryResult> | QueryResult;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  post(
    body: { query: string; variables?: Record<string, unknown>; operationName?: string },
    opts?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: any; errors?: any[] }>;
}

export function createHarness(env: Record<string, string> = {}): Harness {
  const model = fixtureModel();
  const calls: Harness['calls'] = [];
  const logs: Record<string, unknown>[] = [];
  const metrics = createMetrics();
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line)) });
  const config = loadConfig({ STRATA_ENV: 'test', ...env });
  const h: Harness = {
    model,
    calls,
    logs,
    metrics,
    answer: (q) => fakeResult(q),
    fetch: async (url, init = {}) => yoga.fetch(url, init),
    async post(body, opts = {}) {
      const token = opts.token === undefined ? 'analyst' : opts.token;
      return yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
        body: JSON.stringify(body),
      });
    },
    async gql(query, variables, token = 'analyst') {
      const res = await h.post({ query, variables }, { token });
      return (await res.json()) as { data?: any; errors?: any[] };
    },
  };
  const query: QueryService = {
    async load(ctx, q) {
      calls.push({ ctx, query: q });
      return h.answer(q);
    },
    compile() {
      throw new Error('not used by the GraphQL door');
    },
    prepare() {
      throw new Error('not used by the GraphQL door');
    },
    catalog: (p) => buildCatalog(model, p),
  };
  const yoga = createGraphQLServer({ model, query, authenticator, config, logger, metrics });
  return h;
}
