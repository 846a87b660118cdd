import { INGESTIBLE_TABLES } from '../../../src/ingest/tables.js';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { UnauthenticatedError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import type { Engine } from '../../../src/engine/engine.js';
import { createIngestHandler } from '../../../src/ingest/http.js';
import type { BatchClaim, BatchRecord, Ledger, QuarantinedRow } from '../../../src/ingest/ledger.js';
import { createIngestService } from '../../../src/ingest/ingest-service.js';
import { createInProcessSignals, type ChangeEvent } from '../../../src/live/signals.js';
import type { Cube, Model } from '../../../src/semantic/model.js';

/** Unit level: the engine and ledger are in-memory stand-ins; the chDB suite covers the real ones. */
function setup() {
  const inserted: Record<string, unknown>[] = [];
  const engine = {
    database: 'strata',
    async query() {
      return {
        rows: [
          { name: 'tenant_id', type: 'String', default_kind: '' },
          { name: 'date', type: 'Date', default_kind: '' },
          { name: 'impressions', type: 'UInt64', default_kind: '' },
          { name: 'clicks', type: 'UInt64', default_kind: '' },
        ],
        elapsedMs: 0,
      };
    },
    // What the sink sends: one JSON array per line, values in `columns` order.
    async insertRaw(_table: string, body: Buffer, format: string, columns: readonly string[]) {
      expect(format).toBe('JSONCompactEachRow');
      await new Promise((r) => setTimeout(r, 5));
      for (const line of body.toString().split('\n')) {
        const values = JSON.parse(line) as unknown[];
        inserted.push(Object.fromEntries(columns.map((c, i) => [c, values[i]])));
      }
    },
  } as unknown as Engine;
  const batches = new Map<string, BatchRecord>();
  const claims = new Map<string, BatchClaim>();
  const quarantine: QuarantinedRow[] = [];
  const ledger: Ledger = {
    async claim(t, b, c) {
      if (!claims.has(`${t}/${b}`)) claims.set(`${t}/${b}`, c);
      return claims.get(`${t}/${b}`)!;
    },
    async listBatches() {
      return [];
    },
    async listQuarantine() {
      return [];
    },
    async resolve() {},
    async findBatch(t, b) {
      return batches.get(`${t}/${b}`);
    },
    async quarantinedOf() {
      return quarantine.map(({ line, reason }) => ({ line, reason }));
    },
    async quarantine(_t, _b, _table, rows) {
      quarantine.push(...rows);
    },
    async recordBatch(t, b) {
      batches.set(`${t}/${b.batchId}`, b);
    },
  };
  const model: Model = { cubes: { ad_performance: { name: 'ad_performance', sqlTable: 'ad_performance' } as Cube }, views: {} };
  const signals = createInProcessSignals();
  const events: ChangeEvent[] = [];
  signals.onChange((e) => events.push(e));
  const service = createIngestService({ engine, model, signals, ledger, chunkRows: 2 });
  return { service, inserted, quarantine, events };
}

const writer: Principal = { tenantId: 'acme', scopes: new Set(['ingest:write']), subject: 'k1', via: 'api_key', roles: [] };
const reader: Principal = { ...writer, scopes: new Set(['metrics:read']) };
const ndjson = [
  '{"date":"2024-01-01","impressions":10,"clicks":1}',
  '{"date":"2024-01-02","impressions":10,"clicks":11}',
  '{"date":"2024-01-03","impressions":5,"clicks":5}',
  '{"date":"2024-01-04","impressions":5,"clicks":0,"tenant_id":"globex"}',
  '{"date":"2024-01-05","impressions":1,"clicks":1}',
].join('\n');

describe('ingest service', () => {
  it('inserts good rows in chunks with the tenant, quarantines bad ones, signals the cubes', async () => {
    const t = setup();
    const report = await t.service.ingest(writer, 'ad_performance', ndjson, 'b1');
    expect(report).toEqual({
      batchId: 'b1',
      table: 'ad_performance',
      inserted: 3,
      quarantined: [
        { line: 2, reason: 'clicks (11) must not exceed impressions (10)' },
        { line: 4, reason: 'field "tenant_id" must not be sent: the tenant comes from the credential' },
      ],
      quarantinedCount: 2,
      duplicate: false,
    });
    expect(t.inserted.map((r) => [r.tenant_id, r.date])).toEqual([
      ['acme', '2024-01-01'],
      ['acme', '2024-01-03'],
      ['acme', '2024-01-05'],
    ]);
    expect(t.quarantine[1].raw).toContain('"tenant_id":"globex"');
    expect(t.events).toEqual([{ tenantId: 'acme', cubes: ['ad_performance'] }]);
  });

  it('a concurrent retry of the same batch id waits for the first and inserts nothing', async () => {
    const t = setup();
    const [a, b] = await Promise.all([t.service.ingest(writer, 'ad_performance', ndjson, 'b2'), t.service.ingest(writer, 'ad_performance', ndjson, 'b2')]);
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ ...a, duplicate: true });
    const c = await t.service.ingest(writer, 'ad_performance', ndjson, 'b2');
    expect(c).toMatchObject({ duplicate: true, inserted: 3, quarantinedCount: 2 });
    expect(t.inserted).toHaveLength(3);
    expect(t.events).toHaveLength(1);
  });

  it('refuses without ingest:write, unknown tables, a reused batch id on another table', async () => {
    const t = setup();
    await expect(t.service.ingest(reader, 'ad_performance', ndjson)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'ingestion requires scope "ingest:write"',
    });
    await expect(t.service.ingest(writer, 'ad_perfromance', ndjson)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `unknown table "ad_perfromance" — did you mean "ad_performance"?; ingestible tables: ${INGESTIBLE_TABLES.join(', ')}`,
    });
    await t.service.ingest(writer, 'ad_performance', ndjson, 'b3');
    await expect(t.service.ingest(writer, 'campaigns', '{}', 'b3')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'batch id "b3" was already used for table "ad_performance", not "campaigns"',
    });
    await expect(t.service.ingest(writer, 'ad_performance', ndjson, 'bad id!')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(t.service.ingest(writer, 'ad_performance', '\n\n')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'the batch holds no rows: send NDJSON, one JSON object per line',
    });
    expect(t.inserted).toHaveLength(3);
  });
});

describe('POST /v1/ingest/:table handler', () => {
  // Credentials are the principals' names; the real authenticator is covered in test/unit/auth.
  const authenticator = {
    authenticate: async (credential: string) => {
      if (credential === 'writer') return writer;
      if (credential === 'reader') return reader;
      throw new UnauthenticatedError('unknown token');
    },
  };
  const edge = { authenticator, trustProxy: 0, logger: createLogger('silent') };
  let as = 'writer';
  const post = (body: BodyInit, headers: Record<string, string> = {}, path = '/v1/ingest/ad_performance') =>
    new Request(`http://strata.test${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${as}`, ...headers },
    });

  it('returns the report; Idempotency-Key or ?batch_id= make retries duplicates', async () => {
    const t = setup();
    const handle = createIngestHandler(t.service, edge);
    const r1 = await handle(post(ndjson, { 'idempotency-key': 'k-1' }));
    expect(r1.status).toBe(200);
    expect(await r1.json()).toMatchObject({ batchId: 'k-1', inserted: 3, quarantinedCount: 2, duplicate: false });
    const r2 = await handle(post(ndjson, {}, '/v1/ingest/ad_performance?batch_id=k-1'));
    expect(await r2.json()).toMatchObject({ batchId: 'k-1', inserted: 3, duplicate: true });
    expect(t.inserted).toHaveLength(3);
  });

  it('accepts a JSON array body', async () => {
    const t = setup();
    const r = await createIngestHandler(
      t.service,
      edge,
    )(post(JSON.stringify([{ date: '2024-01-01', impressions: 1, clicks: 1 }]), { 'content-type': 'application/json' }));
    expect(await r.json()).toMatchObject({ inserted: 1, quarantined: [] });
  });

  it('403 without the scope, 404 for an unknown table, 413 for a large body, 400 for bad input, 405 for GET', async () => {
    const t = setup();
    const handle = createIngestHandler(t.service, { ...edge, maxBodyBytes: 1000 });
    as = 'reader';
    const forbidden = await handle(post(ndjson));
    as = 'writer';
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({
      error: 'ingestion requires scope "ingest:write"',
      code: 'FORBIDDEN',
      details: { scopes: ['ingest:write'] },
      requestId: forbidden.headers.get('x-request-id'),
    });
    const anonymous = await handle(post(ndjson, { authorization: '' }));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const unknown = await handle(post(ndjson, {}, '/v1/ingest/nope'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    const big = await handle(post('x'.repeat(2000)));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', error: 'the body exceeds 1000 bytes; split the batch' });
    const empty = await handle(post(''));
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ code: 'BAD_USER_INPUT' });
    const badArray = await handle(post('[{"a":', { 'content-type': 'application/json' }));
    expect(badArray.status).toBe(400);
    const get = await handle(new Request('http://strata.test/v1/ingest/ad_performance'));
    expect(get.status).toBe(405);
    expect(t.inserted).toHaveLength(0);
  });

  it('413 also when a streamed body without content-length exceeds the limit', async () => {
    const t = setup();
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('y'.repeat(200)));
        c.close();
      },
    });
    const req = new Request('http://strata.test/v1/ingest/ad_performance', {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { authorization: 'Bearer writer' },
    } as RequestInit);
    const r = await createIngestHandler(t.service, { ...edge, maxBodyBytes: 1000 })(req);
    expect(r.status).toBe(413);
  });

  it('a streamed NDJSON body in odd pieces: rows as from the text; invalid UTF-8 or a deep line in any piece is a 400 before any insert', async () => {
    const streamed = (bytes: Buffer, piece: number) =>
      new Request('http://strata.test/v1/ingest/ad_performance', {
        method: 'POST',
        body: new ReadableStream<Uint8Array>({
          start(c) {
            for (let at = 0; at < bytes.length; at += piece) c.enqueue(new Uint8Array(bytes.subarray(at, at + piece)));
            c.close();
          },
        }),
        duplex: 'half',
        headers: { authorization: 'Bearer writer', 'content-type': 'application/x-ndjson' },
      } as RequestInit);
    const handle = (t: ReturnType<typeof setup>) => createIngestHandler(t.service, edge);

    const t = setup();
    const ok = await handle(t)(streamed(Buffer.from(ndjson), 7));
    expect(await ok.json()).toMatchObject({ inserted: 3, quarantinedCount: 2, quarantined: [{ line: 2 }, { line: 4 }] });

    // A lone continuation byte in the third line, and a line nested 100 deep further on.
    const badUtf8 = Buffer.concat([
      Buffer.from(`${ndjson.split('\n').slice(0, 2).join('\n')}\n{"date":"2024-01-03","note":"`),
      Buffer.from([0x80]),
      Buffer.from('"}\n'),
    ]);
    const deep = Buffer.from(`${ndjson}\n{"date":"2024-01-09","x":${'['.repeat(100)}${']'.repeat(100)}}`);
    for (const [bytes, error] of [
      [badUtf8, 'the body is not valid UTF-8'],
      [deep, 'a line of the body is nested deeper than 64 levels'],
    ] as const) {
      const fresh = setup();
      const r = await handle(fresh)(streamed(bytes, 5));
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ code: 'BAD_USER_INPUT', error });
      expect(fresh.inserted).toHaveLength(0);
    }
  });
});
