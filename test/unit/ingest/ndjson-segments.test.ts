/**
 * The HTTP door hands NDJSON to the service as byte segments cut at line ends (no copy into one
 * string). However the body was chunked on the wire, the service must see the same lines, line
 * numbers, quarantine and insert chunks (their deduplication tokens depend on it) as from the text.
 */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import type { Engine } from '../../../src/engine/engine.js';
import { createIngestService } from '../../../src/ingest/ingest-service.js';
import type { BatchClaim, BatchRecord, Ledger, QuarantinedRow } from '../../../src/ingest/ledger.js';
import { segmentAtLines } from '../../../src/ingest/ndjson.js';
import { createInProcessSignals } from '../../../src/live/signals.js';
import type { Cube, Model } from '../../../src/semantic/model.js';

function setup() {
  const inserts: { token: string; body: string }[] = [];
  const engine = {
    database: 'strata',
    async query() {
      return {
        rows: [
          { name: 'tenant_id', type: 'String', default_kind: '' },
          { name: 'date', type: 'Date', default_kind: '' },
          { name: 'impressions', type: 'UInt64', default_kind: '' },
          { name: 'clicks', type: 'UInt64', default_kind: '' },
          { name: 'note', type: 'String', default_kind: 'DEFAULT' },
        ],
        elapsedMs: 0,
      };
    },
    async insertRaw(_t: string, body: Buffer, _f: string, _c: readonly string[], o: { deduplicationToken?: string }) {
      inserts.push({ token: o.deduplicationToken ?? '', body: body.toString('utf8') });
    },
  } as unknown as Engine;
  const quarantine: QuarantinedRow[] = [];
  const claims = new Map<string, BatchClaim>();
  const batches = new Map<string, BatchRecord>();
  const ledger: Ledger = {
    claim: async (t, b, c) => {
      if (!claims.has(`${t}/${b}`)) claims.set(`${t}/${b}`, c);
      return claims.get(`${t}/${b}`)!;
    },
    listBatches: async () => [],
    listQuarantine: async () => [],
    resolve: async () => {},
    findBatch: async (t, b) => batches.get(`${t}/${b}`),
    quarantinedOf: async () => [],
    quarantine: async (_t, _b, _table, rows) => void quarantine.push(...rows),
    recordBatch: async (t, b) => void batches.set(`${t}/${b.batchId}`, b),
  };
  const model: Model = { cubes: { ad_performance: { name: 'ad_performance', sqlTable: 'ad_performance' } as Cube }, views: {} };
  const service = createIngestService({ engine, model, signals: createInProcessSignals(), ledger, chunkRows: 3 });
  return { service, inserts, quarantine, batches };
}

const writer: Principal = { tenantId: 'acme', scopes: new Set(['ingest:write']), subject: 'k1', via: 'api_key', roles: [] };

/** Blank lines, CRLF, bad JSON, a rule failure, multi-byte characters and one long line. */
function body(): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    if (i % 9 === 4) lines.push('');
    else if (i === 7) lines.push('{"date":"2024-01-0');
    else if (i === 11) lines.push('{"date":"2024-01-02","impressions":1,"clicks":5}');
    else {
      const note = i === 20 ? 'ü€😀'.repeat(3000) : `Ünïcødé ${i} €😀`;
      lines.push(
        `{"date":"2024-01-${String(1 + (i % 28)).padStart(2, '0')}","impressions":${10 + i},"clicks":${i % 5},"note":"${note}"}${i % 6 === 0 ? '\r' : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The bytes cut at random places, also inside multi-byte characters. */
function chunked(bytes: Buffer, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = seed;
  for (let at = 0; at < bytes.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % 700);
    out.push(new Uint8Array(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

describe('NDJSON byte segments', () => {
  it('joined by newlines, the segments are the body, however it was chunked', () => {
    const bytes = Buffer.from(body());
    for (let seed = 1; seed <= 20; seed++) {
      const { segments } = segmentAtLines(chunked(bytes, seed));
      expect(Buffer.concat(segments.flatMap((s, i) => (i ? [Buffer.from('\n'), s] : [s]))).equals(bytes)).toBe(true);
    }
    expect(segmentAtLines([]).segments).toEqual([Buffer.alloc(0)]);
    expect(segmentAtLines([Buffer.from('a\nb')]).segments.map(String)).toEqual(['a', 'b']);
  });

  it('the service sees the same lines, quarantine, chunks and tokens as from the text', async () => {
    const text = body();
    const fromText = setup();
    const expected = await fromText.service.ingest(writer, 'ad_performance', text, 'b1');
    expect(expected.inserted).toBe(34); // 40 lines, 4 blank, 2 quarantined
    expect(expected.quarantined.map((q) => q.line)).toEqual([8, 12]);
    for (let seed = 1; seed <= 10; seed++) {
      const t = setup();
      const report = await t.service.ingest(writer, 'ad_performance', segmentAtLines(chunked(Buffer.from(text), seed)), 'b1');
      expect(report).toEqual(expected);
      expect(t.inserts).toEqual(fromText.inserts);
      expect(t.quarantine).toEqual(fromText.quarantine);
      // The body hash, which a retry is compared with, is the hash of the same bytes.
      expect(t.batches.get('acme/b1')?.bodySha256).toBe(fromText.batches.get('acme/b1')?.bodySha256);
    }
  });
});
