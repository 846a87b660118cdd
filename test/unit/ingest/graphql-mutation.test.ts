import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { buildSchema } from '../../../src/graphql/build-schema.js';
import { ingestMutation } from '../../../src/graphql/ingest-mutation.js';
import type { IngestService } from '../../../src/ingest/ingest-service.js';
import { createLogger } from '../../../src/logger.js';
import type { QueryService } from '../../../src/query/types.js';
import { fixtureModel } from '../graphql/fixture-model.js';

const calls: unknown[][] = [];
const service: IngestService = {
  async ingest(principal, table, rows, batchId) {
    calls.push([principal.tenantId, table, rows, batchId]);
    return {
      batchId: batchId ?? 'generated',
      table,
      inserted: 1,
      quarantined: [{ line: 2, reason: 'missing required field "date"' }],
      quarantinedCount: 1,
      duplicate: false,
    };
  },
  // The history surface is tested on chDB (test/integration/ingest/quarantine-history.test.ts).
  batches: async () => [],
  quarantine: async () => [],
  replay: async () => {
    throw new Error('not used here');
  },
  discard: async () => 0,
  deleteRows: async () => {
    throw new Error('not used here');
  },
};
const schema = buildSchema(fixtureModel(), { extensions: [ingestMutation(service)] });
const ctx = (scopes: string[]) => {
  const principal: Principal = { tenantId: 'acme', scopes: new Set(scopes), subject: 'u', via: 'jwt', roles: [] };
  return { strata: { requestId: 'r', door: 'graphql', principal }, query: {} as QueryService, limits: { maxRowLimit: 100 }, logger: createLogger('silent') };
};
const doc = parse(
  'mutation { ingest(table: "ad_performance", rows: [{date: "2024-01-01"}, {}], batchId: "b1") { batchId inserted quarantined { line reason } quarantinedCount duplicate } }',
);

describe('ingest mutation', () => {
  it('runs the core ingest as the caller and returns the report', async () => {
    const r = await execute({ schema, document: doc, contextValue: ctx(['ingest:write']) });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      ingest: { batchId: 'b1', inserted: 1, quarantined: [{ line: 2, reason: 'missing required field "date"' }], quarantinedCount: 1, duplicate: false },
    });
    expect(calls).toEqual([['acme', 'ad_performance', [{ date: '2024-01-01' }, {}], 'b1']]);
  });

  it('requires ingest:write', async () => {
    calls.length = 0;
    const r = await execute({ schema, document: doc, contextValue: ctx(['metrics:read']) });
    expect(r.errors?.[0].message).toMatch(/ingest:write/);
    expect(calls).toEqual([]);
  });
});
