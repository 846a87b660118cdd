/**
 * Hardened wire protocol before login: oversized startup/password messages are refused from their
 * header (nothing is buffered), and while three clients flood, other sessions are served.
 */
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { MAX_STARTUP_MESSAGE, MessageReader } from '../../../src/sqlproxy/codec.js';
import { startSqlProxy, type SqlProxy } from '../../../src/sqlproxy/server.js';
import { authenticator, dataset, memoryQueryService } from './memory-service.js';

let proxy: SqlProxy;

beforeAll(async () => {
  proxy = await startSqlProxy({
    config: { enabled: true, port: 0, host: '127.0.0.1' },
    query: memoryQueryService(dataset()),
    authenticator,
    logger: createLogger('silent'),
  });
});
afterAll(() => proxy?.close());

/** Announces a 64 MB startup message and keeps sending; resolves with what the server answered once it closed. */
function flood(): Promise<{ answer: string; sent: number }> {
  return new Promise((resolve) => {
    const s: Socket = connect(proxy.port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    const header = Buffer.alloc(8);
    header.writeInt32BE(64 * 1024 * 1024, 0);
    header.writeInt32BE(196608, 4);
    const chunk = Buffer.alloc(64 * 1024, 1);
    s.on('connect', () => {
      s.write(header);
      const pump = () => {
        while (!s.destroyed && sent < 64 * 1024 * 1024 && s.write(chunk)) sent += chunk.length;
      };
      s.on('drain', pump);
      pump();
    });
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve({ answer, sent }));
  });
}

describe('before authentication', () => {
  it('refuses a startup message over the bound from its header, before reading the body', () => {
    const r = new MessageReader();
    const head = Buffer.alloc(8);
    head.writeInt32BE(MAX_STARTUP_MESSAGE + 1, 0);
    expect(() => r.push(head)).toThrow(/at most 10000 bytes/);
  });

  it('frames messages split over many chunks without losing a byte', () => {
    const r = new MessageReader();
    r.startup = false;
    r.authenticated = true;
    const body = Buffer.from('SELECT 1\0', 'utf8');
    const m = Buffer.alloc(5 + body.length);
    m.write('Q', 0);
    m.writeInt32BE(4 + body.length, 1);
    body.copy(m, 5);
    const twice = Buffer.concat([m, m]);
    const out = [];
    for (let i = 0; i < twice.length; i++) out.push(...r.push(twice.subarray(i, i + 1)));
    expect(out.map((x) => [x.type, x.body.toString('utf8')])).toEqual([
      ['Q', 'SELECT 1\0'],
      ['Q', 'SELECT 1\0'],
    ]);
    expect(r.pending).toBe(0);
  });

  it('three clients announcing 64 MB startup messages are cut off, and a logged-in session is served meanwhile', async () => {
    const floods = [flood(), flood(), flood()];
    const c = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'bi', database: 'strata', password: 'sk_acme_analyst' });
    c.on('error', () => {});
    await c.connect();
    const res = await c.query('SELECT 1 AS one');
    expect(res.rows).toEqual([{ one: 1 }]);
    await c.end();
    for (const f of await Promise.all(floods)) {
      expect(f.answer).toContain('08P01');
      // The server closed the socket long before the announced 64 MB arrived.
      expect(f.sent).toBeLessThan(64 * 1024 * 1024);
    }
  }, 60_000);
});
