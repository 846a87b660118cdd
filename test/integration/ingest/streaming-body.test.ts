/**
 * The ingestion door walks an NDJSON body while it arrives (ndjson.ts NdjsonStream): rows are
 * checked and chunked as the bytes come in, but nothing is inserted before the last byte is in,
 * checked and hashed. Bodies here arrive in many pieces (lines cut across them), with pauses, over
 * several 50-row chunks; outcomes are read back from ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { UnauthenticatedError } from '../../../src/errors.js';
import { createIngestHandler } from '../../../src/ingest/http.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { type ChangeSignals, createInProcessSignals } from '../../../src/live/signals.js';
import { createLogger } from '../../../src/logger.js';
import { loadModel } from '../../../src/semantic/load.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { adRow, MODEL_YAML, ndjson, principal } from '../live/stack.js';

let engine: Engine;
let service: IngestService;
let signals: ChangeSignals;

beforeAll(async () => {
  engine = createEngine({ database: 'strata', chdbPath: `${makeTempDir()}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  const model = loadModel([{ path: 'cube-models/live-fixture.yml', text: MODEL_YAML }]);
  const logger = createLogger('silent');
  signals = createInProcessSignals(logger);
  service = createIngestService({ engine, model, signals, logger, chunkRows: 50 });
});
afterAll(async () => {
  await engine?.close();
});

const logger = createLogger('silent');

function handler(p: Principal, maxBodyBytes?: number) {
  return createIngestHandler(service, {
    authenticator: {
      authenticate: async (c: string) => {
        if (c === 'writer') return p;
        throw new UnauthenticatedError('unknown token');
      },
    },
    trustProxy: 0,
    logger,
    ...(maxBodyBytes ? { maxBodyBytes } : {}),
  });
}

/** A body sent in `pieces` byte ranges with a pause before each; `fail` errors the stream after them. */
function trickle(bytes: Buffer, pieces: number, fail = false): ReadableStream<Uint8Array> {
  const size = Math.ceil(bytes.length / pieces);
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 3));
      if (i * size >= bytes.length) {
        if (fail) controller.error(new Error('connection reset'));
        else controller.close();
        return;
      }
      controller.enqueue(new Uint8Array(bytes.subarray(i * size, ++i * size)));
    },
  });
}

async function post(p: Principal, body: ReadableStream<Uint8Array>, key: string, maxBodyBytes?: number) {
  const res = await handler(
    p,
    maxBodyBytes,
  )(
    new Request('http://strata.test/v1/ingest/ad_performance', {
      method: 'POST',
      headers: { authorization: 'Bearer writer', 'content-type': 'application/x-ndjson', 'idempotency-key': key },
      body,
      duplex: 'half',
    } as RequestInit),
  );
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function stored(tenant: string): Promise<{ n: number; impressions: number }> {
  const { rows } = await engine.query<{ n: number; impressions: number }>(
    'SELECT count() AS n, sum(impressions) AS impressions FROM strata.ad_performance WHERE tenant_id = {t:String} SETTINGS final = 0',
    { t: tenant },
  );
  return { n: Number(rows[0]?.n), impressions: Number(rows[0]?.impressions) };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => adRow({ ad_id: `s-${i}`, impressions: 1000 + i, clicks: i % 7, conversions: 0 }));

describe('an NDJSON body walked while it arrives', () => {
  it('inserts every row once, lines cut across pieces, blank lines and a bad row included', async () => {
    const p = principal('stream-ok');
    const good = rows(437);
    const text = `${ndjson(good.slice(0, 200))}\n\n${JSON.stringify(adRow({ ad_id: 'bad', clicks: 5000 }))}\r\n${ndjson(good.slice(200))}\n`;
    const r = await post(p, trickle(Buffer.from(text), 37), 'stream-1');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ inserted: 437, quarantinedCount: 1, quarantined: [{ line: 202 }], duplicate: false });
    expect(await stored('stream-ok')).toEqual({ n: 437, impressions: good.reduce((s, x) => s + Number(x.impressions), 0) });
    // The same body again: the first report, nothing inserted.
    const again = await post(p, trickle(Buffer.from(text), 5), 'stream-1');
    expect(again.json).toMatchObject({ inserted: 437, duplicate: true });
    // The same key with another body: refused, still one copy.
    const other = await post(p, trickle(Buffer.from(ndjson(rows(3))), 2), 'stream-1');
    expect(other).toMatchObject({ status: 409, json: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect((await stored('stream-ok')).n).toBe(437);
  });

  it('a stalled body holds no write open: refresh-key checks go on until its rows are admitted', async () => {
    const p = principal('stream-stall');
    const body = Buffer.from(ndjson(rows(300)));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let sent = 0;
    const stalling = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 1) await released; // the client stops after the first ~2/3 of the body
        if (sent === 2) return controller.close();
        controller.enqueue(new Uint8Array(sent === 0 ? body.subarray(0, 20_000) : body.subarray(20_000)));
        sent++;
      },
    });
    const pending = post(p, stalling, 'stream-stall-1');
    await new Promise((r) => setTimeout(r, 300)); // the first piece's rows are checked and chunked meanwhile
    expect(signals.writeState('stream-stall', 'ad_performance')).toEqual({ begun: 0, open: 0 });
    release();
    expect((await pending).json).toMatchObject({ inserted: 300 });
    expect(signals.writeState('stream-stall', 'ad_performance')).toEqual({ begun: 1, open: 0 });
  });

  it('invalid UTF-8 at the end refuses the whole batch: no row of the chunks checked before is inserted', async () => {
    const p = principal('stream-utf8');
    const body = Buffer.concat([Buffer.from(`${ndjson(rows(400))}\n`), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])]);
    const r = await post(p, trickle(body, 40), 'stream-2');
    expect(r).toMatchObject({ status: 400, json: { code: 'BAD_USER_INPUT', error: 'the body is not valid UTF-8' } });
    expect((await stored('stream-utf8')).n).toBe(0);
    // Nothing was claimed: the same key with the corrected body goes in.
    const fixed = await post(p, trickle(Buffer.from(ndjson(rows(400))), 8), 'stream-2');
    expect(fixed).toMatchObject({ status: 200, json: { inserted: 400, duplicate: false } });
    expect((await stored('stream-utf8')).n).toBe(400);
  });

  it('a line nested too deep late in the body refuses the batch', async () => {
    const p = principal('stream-deep');
    const deep = `{"a":${'['.repeat(200)}${']'.repeat(200)}}`;
    const r = await post(p, trickle(Buffer.from(`${ndjson(rows(300))}\n${deep}`), 30), 'stream-3');
    expect(r).toMatchObject({ status: 400, json: { code: 'BAD_USER_INPUT' } });
    expect((await stored('stream-deep')).n).toBe(0);
  });

  it('a body growing past the limit (no content-length) gets 413 and inserts nothing', async () => {
    const p = principal('stream-big');
    const body = Buffer.from(ndjson(rows(400)));
    const r = await post(p, trickle(body, 40), 'stream-4', Math.floor(body.length / 2));
    expect(r).toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((await stored('stream-big')).n).toBe(0);
  });

  it('a body cut short (the connection fails) inserts nothing; the retry inserts one copy', async () => {
    const p = principal('stream-cut');
    const body = Buffer.from(ndjson(rows(400)));
    const r = await post(p, trickle(body.subarray(0, Math.floor(body.length * 0.9)), 30, true), 'stream-5');
    expect(r).toMatchObject({ status: 400, json: { code: 'BAD_USER_INPUT', error: 'the body could not be read to its end' } });
    expect((await stored('stream-cut')).n).toBe(0);
    const retry = await post(p, trickle(body, 12), 'stream-5');
    expect(retry).toMatchObject({ status: 200, json: { inserted: 400 } });
    expect((await stored('stream-cut')).n).toBe(400);
  });
});
