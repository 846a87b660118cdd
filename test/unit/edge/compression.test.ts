/**
 * withCompression on a real node http server (loopback socket), with handlers that write the way
 * @whatwg-node/yoga do (writeHead with headers, write, end(null)), the way plain node code does
 * (setHeader + end), and as a stream.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateEncoding, withCompression } from '../../../src/edge/compression.js';

const big = JSON.stringify({ data: Array.from({ length: 400 }, (_, i) => ({ platform: `google_ads_${i % 7}`, clicks: i * 13, ctr: i / 1000 })) });
const small = JSON.stringify({ status: 'ok' });

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  // @whatwg-node style: headers object in writeHead, one write, end(null, null, null).
  '/whatwg': (_req, res) => {
    res.writeHead(200, 'OK', { 'content-type': 'application/graphql-response+json; charset=utf-8', vary: 'Origin' });
    res.write(big);
    (res.end as (...a: unknown[]) => void)(null, null, null);
  },
  '/plain': (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(big);
  },
  '/small': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(small);
  },
  '/declared-small': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(small)) });
    res.end(small);
  },
  '/stream': (_req, res) => {
    res.writeHead(200, [['content-type', 'application/x-ndjson']] as unknown as Record<string, string>);
    let i = 0;
    const tick = () => {
      if (i++ < 50) {
        res.write(`${JSON.stringify({ row: i, pad: 'x'.repeat(100) })}\n`);
        setImmediate(tick);
      } else res.end();
    };
    tick();
  },
  '/sse': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: ${big}\n\n`);
  },
  '/png': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(Buffer.alloc(4096));
  },
  '/no-transform': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-transform' });
    res.end(big);
  },
  '/empty': (_req, res) => {
    res.writeHead(204);
    res.end();
  },
};

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer(withCompression((req, res) => routes[req.url ?? '']!(req, res)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(path: string, acceptEncoding?: string, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; raw: Buffer; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const enc = res.headers['content-encoding'];
        const text = (enc === 'br' ? brotliDecompressSync(raw) : enc === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('negotiateEncoding', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['identity', undefined],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', undefined],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['GZIP', 'gzip'],
    ['deflate', undefined],
  ] as const)('%s -> %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe('withCompression', () => {
  it.each(['br', 'gzip'] as const)('compresses a large whatwg-style response with %s, with Content-Length and Vary', async (enc) => {
    const r = await get('/whatwg', enc);
    expect(r.headers['content-encoding']).toBe(enc);
    expect(r.headers.vary).toBe('Origin, Accept-Encoding');
    expect(Number(r.headers['content-length'])).toBe(r.raw.length);
    expect(r.raw.length).toBeLessThan(Buffer.byteLength(big) / 4);
    expect(JSON.parse(r.text)).toEqual(JSON.parse(big));
  });

  it('compresses a response written with setHeader + end', async () => {
    const r = await get('/plain', 'gzip, deflate, br');
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.text).toBe(big);
  });

  it('leaves a large response alone when the client accepts no supported encoding, but says it varies', async () => {
    const r = await get('/whatwg');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toBe('Origin, Accept-Encoding');
    expect(r.text).toBe(big);
    expect((await get('/whatwg', 'deflate')).headers['content-encoding']).toBeUndefined();
  });

  it('does not compress a small body (under 1 KiB), found out at end or from Content-Length', async () => {
    for (const path of ['/small', '/declared-small']) {
      const r = await get(path, 'br, gzip');
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers['content-length']).toBe(String(Buffer.byteLength(small)));
      expect(r.text).toBe(small);
    }
  });

  it('compresses a stream once it passes the threshold', async () => {
    const r = await get('/stream', 'gzip');
    expect(r.headers['content-encoding']).toBe('gzip');
    const lines = r.text.trim().split('\n');
    expect(lines).toHaveLength(50);
    expect(JSON.parse(lines[49]!).row).toBe(50);
  });

  it('never compresses event streams, binary types, no-transform responses, 204 or HEAD', async () => {
    for (const path of ['/sse', '/png', '/no-transform']) {
      const r = await get(path, 'br, gzip');
      expect(r.headers['content-encoding'], path).toBeUndefined();
    }
    expect((await get('/sse', 'br')).text).toBe(`data: ${big}\n\n`);
    expect((await get('/empty', 'br')).status).toBe(204);
    const head = await get('/plain', 'br', 'HEAD');
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(head.raw.length).toBe(0);
  });
});
