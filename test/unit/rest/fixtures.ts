/** Shared fixtures of the REST unit tests: the valid fixture model and hand-made results. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '../../../src/auth/principal.js';
import type { CompiledColumn } from '../../../src/compiler/compiled.js';
import type { CellValue, QueryResult } from '../../../src/query/types.js';
import type { Model } from '../../../src/semantic/model.js';
import type { NormalizedQuery } from '../../../src/semantic/query.js';
import { loadModel } from '../../../src/semantic/load.js';

const dir = join(import.meta.dirname, '../../fixtures/models/valid');

export function fixtureModel(): Model {
  return loadModel(readdirSync(dir).map((f) => ({ path: `test/fixtures/models/valid/${f}`, text: readFileSync(join(dir, f), 'utf8') })));
}

export function principal(scopes: string[] = ['metrics:read', 'marketing:read'], tenantId = 'acme'): Principal {
  return { tenantId, scopes: new Set(scopes), subject: 'u1', via: 'jwt', roles: [] };
}

export function normalized(over: Partial<NormalizedQuery> = {}): NormalizedQuery {
  return {
    measures: ['ad_performance.clicks'],
    dimensions: [],
    segments: [],
    timeDimensions: [],
    filters: [],
    order: [],
    limit: 10_000,
    offset: 0,
    total: false,
    timezone: 'UTC',
    ungrouped: false,
    ...over,
  };
}

export const CLICKS: CompiledColumn = { alias: 'm0', key: 'ad_performance.clicks', member: 'ad_performance.clicks', kind: 'measure', type: 'number' };
export const CHANNEL: CompiledColumn = { alias: 'd0', key: 'ad_performance.channel', member: 'ad_performance.channel', kind: 'dimension', type: 'string' };
export const DAY: CompiledColumn = {
  alias: 't0',
  key: 'ad_performance.date.day',
  member: 'ad_performance.date',
  kind: 'timeDimension',
  type: 'time',
  granularity: 'day',
};

export function result(query: NormalizedQuery, columns: CompiledColumn[], rows: Record<string, CellValue>[], total?: number): QueryResult {
  const ann = (title: string) => ({ title, shortTitle: title, type: 'number' as const });
  return {
    query,
    columns,
    rows,
    annotation: {
      measures: Object.fromEntries(query.measures.map((m) => [m, ann(m)])),
      dimensions: Object.fromEntries(query.dimensions.map((d) => [d, { ...ann(d), type: 'string' as const }])),
      segments: {},
      timeDimensions: Object.fromEntries(
        query.timeDimensions
          .filter((t) => t.granularity)
          .flatMap((t) => [
            [`${t.dimension}.${t.granularity}`, { ...ann(t.dimension), type: 'time' as const, granularity: { name: t.granularity!, title: t.granularity! } }],
            [t.dimension, { ...ann(t.dimension), type: 'time' as const }],
          ]),
      ),
    },
    total,
    lastRefreshTime: '2024-03-01T00:00:00.000Z',
    fromCache: false,
  };
}
