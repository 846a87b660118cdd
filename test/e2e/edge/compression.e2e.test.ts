/**
 * HTTP compression on the real server (a process, demo data): GraphQL data, the GraphQL catalog and
 * Cube REST answers come back brotli/gzip-compressed when the client accepts it, and decode to the
 * same JSON as the uncompressed answer; small bodies and clients without Accept-Encoding get identity;
 * WebSocket subscriptions (graphql-ws) are untouched.
 */
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';

let server: ServerProcess;
let token: string;

beforeAll(async () => {
  server = await startServerProcess();
  token = await mintDevToken(server.jwtSecret, { tenantId: 'acme', roles: ['analyst'], expiresIn: '10m', subject: 'compression-e2e' });
}, 180_000);
afterAll(() => server?.stop());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  json: unknown;
}

/** node:http, so the bytes on the wire are seen as they are (fetch would decode them). */
function send(method: 'GET' | 'POST', path: string, body: unknown, acceptEncoding?: string): Promise<Raw> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const enc = res.headers['content-encoding'];
          const text = (enc === 'br' ? brotliDecompressSync(raw) : enc === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: raw.length, json: JSON.parse(text) });
          } catch (e) {
            reject(new Error(`not JSON (${enc}): ${text.slice(0, 200)}`, { cause: e }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const dailyQuery = {
  measures: ['ad_performance.clicks', 'ad_performance.impressions'],
  dimensions: ['ad_performance.platform', 'ad_performance.device'],
  timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last 90 days' }],
  limit: 5000,
};

const cases: [string, 'GET' | 'POST', string, unknown][] = [
  ['GraphQL data', 'POST', '/graphql', { query: 'query($q: JSON!) { query(query: $q) { data } }', variables: { q: dailyQuery } }],
  [
    'GraphQL catalog',
    'POST',
    '/graphql',
    { query: '{ catalog { cubes { name title description measures { name description } dimensions { name description } exampleQuery } } }' },
  ],
  ['REST load', 'POST', '/cubejs-api/v1/load', { query: dailyQuery }],
  ['REST meta', 'GET', '/cubejs-api/v1/meta', undefined],
];

describe('HTTP response compression', () => {
  it.each(cases)('%s: br and gzip decode to the same JSON as identity, several times smaller', async (_name, method, path, body) => {
    const plain = await send(method, path, body);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(String(plain.headers.vary)).toMatch(/accept-encoding/i);
    expect(plain.bytes).toBeGreaterThan(4096);
    for (const enc of ['br', 'gzip'] as const) {
      const packed = await send(method, path, body, enc === 'br' ? 'gzip, deflate, br' : 'gzip');
      expect(packed.status).toBe(200);
      expect(packed.headers['content-encoding']).toBe(enc);
      expect(String(packed.headers.vary)).toMatch(/accept-encoding/i);
      expect(packed.bytes).toBeLessThan(plain.bytes / 3);
      // REST answers carry per-request fields (e.g. a request id); compare the data.
      const strip = (j: unknown) => JSON.parse(JSON.stringify(j, (k, v) => (k === 'requestId' || k === 'lastRefreshTime' || k === 'timing' ? undefined : v)));
      expect(strip(packed.json)).toEqual(strip(plain.json));
    }
  });

  it('a small body is not compressed', async () => {
    const health = await send('GET', '/health', undefined, 'br, gzip');
    expect(health.headers['content-encoding']).toBeUndefined();
    const small = await send('POST', '/graphql', { query: '{ __typename }' }, 'br, gzip');
    expect(small.status).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.json).toEqual({ data: { __typename: 'Query' } });
  });

  it('WebSocket (graphql-ws) is not affected', async () => {
    const client = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe(
          { query: 'query($q: JSON!) { query(query: $q) { data } }', variables: { q: dailyQuery } },
          { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
        );
      });
      const http = await send('POST', '/graphql', cases[0]![3], 'br');
      expect(result).toEqual(http.json);
    } finally {
      await client.dispose();
    }
  });
});
