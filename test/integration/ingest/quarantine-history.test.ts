/** Batch history and the quarantine through GraphQL over a real ingest service on chDB: read, replay, discard. */
import { execute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { buildSchema } from '../../../src/graphql/build-schema.js';
import { ingestHistory } from '../../../src/graphql/ingest-history.js';
import { UnauthenticatedError } from '../../../src/errors.js';
import { createIngestHandler } from '../../../src/ingest/http.js';
import { ingestMutation } from '../../../src/graphql/ingest-mutation.js';
import { createLogger } from '../../../src/logger.js';
import type { QueryService } from '../../../src/query/types.js';
import { fixtureModel } from '../../unit/graphql/fixture-model.js';
import { adRow, createStack, ndjson, principal, type Stack } from '../live/stack.js';

let s: Stack;
beforeAll(async () => {
  s = await createStack();
});
afterAll(async () => {
  await s?.close();
});

const gql = async (p: Principal, text: string, variables?: Record<string, unknown>) => {
  const schema = buildSchema(fixtureModel(), { extensions: [ingestMutation(s.ingest), ingestHistory(s.ingest)] });
  const contextValue = {
    strata: { requestId: 'r', door: 'graphql', principal: p },
    query: {} as QueryService,
    limits: { maxRowLimit: 100 },
    logger: createLogger('silent'),
  };
  return execute({ schema, document: parse(text), contextValue, variableValues: variables });
};

describe('quarantine and batch history through GraphQL', () => {
  it('lists batches and quarantined rows with reasons, replays fixed rows, discards the rest; tenant-scoped', async () => {
    const acme = principal('hist');
    const rows = [adRow({ ad_id: 'h1' }), adRow({ ad_id: 'h2', clicks: 5000 }), adRow({ ad_id: 'h3', cost: -1 }), adRow({ ad_id: 'h4' })];
    await s.ingest.ingest(acme, 'ad_performance', ndjson(rows), 'hist-1');

    const listed = await gql(
      acme,
      '{ ingestBatches { batchId table status inserted quarantined } ingestQuarantine(batchId: "hist-1") { line reason raw status } }',
    );
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.ingestBatches).toEqual([{ batchId: 'hist-1', table: 'ad_performance', status: 'done', inserted: 2, quarantined: 2 }]);
    const q = listed.data?.ingestQuarantine as { line: number; reason: string; raw: string; status: string }[];
    expect(q.map((r) => [r.line, r.reason, r.status]).sort()).toEqual([
      [2, 'clicks (5000) must not exceed impressions (1000)', 'pending'],
      [3, 'field "cost" must not be negative, got -1', 'pending'],
    ]);
    expect(JSON.parse(q.find((r) => r.line === 2)!.raw)).toMatchObject({ ad_id: 'h2' });

    // Another tenant sees none of it.
    const other = await gql(principal('hist-other'), '{ ingestBatches { batchId } ingestQuarantine { line } }');
    expect(other.data).toEqual({ ingestBatches: [], ingestQuarantine: [] });

    const R = 'mutation($fixes: [QuarantineFix!]!) { replayQuarantined(batchId: "hist-1", fixes: $fixes) { batchId inserted replayedLines duplicate } }';
    const fixes = [{ line: 2, row: adRow({ ad_id: 'h2', clicks: 50 }) }];
    const replayed = await gql(acme, R, { fixes });
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data?.replayQuarantined).toMatchObject({ inserted: 1, replayedLines: [2], duplicate: false });
    const again = await gql(acme, R, { fixes });
    expect(again.errors?.[0].message).toMatch(/no pending quarantined row at line\(s\) 2/);

    const discarded = await gql(acme, 'mutation { discardQuarantined(batchId: "hist-1", lines: [3]) }');
    expect(discarded.data).toEqual({ discardQuarantined: 1 });
    const after = await gql(acme, '{ ingestQuarantine(batchId: "hist-1", includeResolved: true) { line status } pending: ingestQuarantine { line } }');
    expect(after.data).toEqual({
      ingestQuarantine: expect.arrayContaining([
        { line: 2, status: 'replayed' },
        { line: 3, status: 'discarded' },
      ]),
      pending: [],
    });

    // The numbers: h1, h4 and the corrected h2.
    const { rows: sums } = await s.engine.query<{ n: number; clicks: number }>(
      "SELECT count() AS n, sum(clicks) AS clicks FROM strata.ad_performance WHERE tenant_id = 'hist'",
    );
    expect({ n: Number(sums[0].n), clicks: Number(sums[0].clicks) }).toEqual({ n: 3, clicks: 50 + 50 + 50 });
    const batches = await gql(acme, '{ ingestBatches { batchId source replayOf } }');
    expect(batches.data?.ingestBatches).toContainEqual({
      batchId: replayed.data?.replayQuarantined && (replayed.data.replayQuarantined as { batchId: string }).batchId,
      source: 'replay',
      replayOf: 'hist-1',
    });

    const reader = await gql(principal('hist', ['metrics:read']), '{ ingestBatches { batchId } }');
    expect(reader.errors?.[0].message).toMatch(/ingest:write/);
  });
});

describe('deleteTenantRows through GraphQL', () => {
  it("deletes the caller tenant's rows of an ad account in every table holding it; needs ingest:write", async () => {
    const p = principal('gql-del');
    await s.ingest.ingest(p, 'ad_performance', ndjson([adRow({ ad_id: 'g1', account_id: 'acc-x' }), adRow({ ad_id: 'g2', account_id: 'acc-y' })]), 'gql-del-1');
    await s.ingest.ingest(principal('gql-del-other'), 'ad_performance', ndjson([adRow({ ad_id: 'g1', account_id: 'acc-x' })]), 'gql-del-1');
    const M = 'mutation { deleteTenantRows(dimension: ad_account, value: "acc-x") { dimension value deleted tables { table deleted } } }';
    expect((await gql(principal('gql-del', ['metrics:read']), M)).errors?.[0].message).toMatch(/ingest:write/);
    const r = await gql(p, M);
    expect(r.errors).toBeUndefined();
    expect(r.data?.deleteTenantRows).toEqual({ dimension: 'ad_account', value: 'acc-x', deleted: 1, tables: [{ table: 'ad_performance', deleted: 1 }] });
    const { rows } = await s.engine.query<{ t: string; a: string }>(
      "SELECT tenant_id AS t, account_id AS a FROM strata.ad_performance WHERE tenant_id IN ('gql-del', 'gql-del-other') ORDER BY t, a",
    );
    expect(rows).toEqual([
      { t: 'gql-del', a: 'acc-y' },
      { t: 'gql-del-other', a: 'acc-x' },
    ]);
  });
});

describe('batch history, quarantine and deletion over REST (the ingestion door)', () => {
  // Credentials name the principals; the real authenticator is covered in test/unit/auth.
  const as: Record<string, Principal> = { writer: principal('rest'), reader: principal('rest', ['metrics:read']), other: principal('rest-other') };
  const handler = () =>
    createIngestHandler(s.ingest, {
      authenticator: {
        authenticate: async (c: string) => {
          if (as[c]) return as[c];
          throw new UnauthenticatedError('unknown token');
        },
      },
      trustProxy: 0,
      logger: createLogger('silent'),
    });
  const call = (who: string, method: string, path: string) =>
    handler()(new Request(`http://strata.test${path}`, { method, headers: { authorization: `Bearer ${who}` } }));

  it('GET /v1/ingest/batches and /quarantine?batch_id= list the caller tenant only; DELETE /v1/ingest/rows deletes by value', async () => {
    const rows = [adRow({ ad_id: 'r1', campaign_id: 'gone' }), adRow({ ad_id: 'r2', clicks: 5000 }), adRow({ ad_id: 'r3', campaign_id: 'kept' })];
    await s.ingest.ingest(as.writer, 'ad_performance', ndjson(rows), 'rest-1');

    const b = await call('writer', 'GET', '/v1/ingest/batches?limit=10');
    expect(b.status).toBe(200);
    expect((await b.json()).batches).toEqual([
      expect.objectContaining({ batchId: 'rest-1', table: 'ad_performance', inserted: 2, quarantined: 1, status: 'done' }),
    ]);
    const q = await call('writer', 'GET', '/v1/ingest/quarantine?batch_id=rest-1');
    expect((await q.json()).quarantine).toEqual([
      expect.objectContaining({ batchId: 'rest-1', line: 2, reason: 'clicks (5000) must not exceed impressions (1000)', status: 'pending' }),
    ]);
    expect((await (await call('other', 'GET', '/v1/ingest/batches')).json()).batches).toEqual([]);

    expect((await call('reader', 'GET', '/v1/ingest/batches')).status).toBe(403);
    expect((await call('nobody', 'GET', '/v1/ingest/batches')).status).toBe(401);
    expect((await call('writer', 'GET', '/v1/ingest/batches?limit=0')).status).toBe(400);
    expect((await call('writer', 'POST', '/v1/ingest/quarantine')).status).toBe(405);

    const d = await call('writer', 'DELETE', '/v1/ingest/rows?dimension=campaign&value=gone');
    expect(d.status).toBe(200);
    expect(await d.json()).toMatchObject({ dimension: 'campaign', value: 'gone', deleted: 1, tables: [{ table: 'ad_performance', deleted: 1 }] });
    const { rows: left } = await s.engine.query<{ c: string }>("SELECT campaign_id AS c FROM strata.ad_performance WHERE tenant_id = 'rest' ORDER BY c");
    expect(left.map((r) => r.c)).toEqual(['kept']);
    expect((await call('writer', 'DELETE', '/v1/ingest/rows?dimension=platform&value=x')).status).toBe(400);
  });
});
