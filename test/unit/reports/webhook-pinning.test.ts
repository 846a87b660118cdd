/**
 * DNS rebinding: a webhook's host is resolved once per delivery, every address is checked, and the
 * request connects to those addresses only. The resolver is injected so the test plays a name that
 * answers a public address first and loopback afterwards; the receivers are real servers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhook, type ResolvedAddress, verifySignature } from '../../../src/reports/destinations/webhook.js';

const HOST = 'hooks.example.test';
const LOOPBACK: ResolvedAddress = { address: '127.0.0.1', family: 4 };
/** TEST-NET-3 (RFC 5737): public for the guard, routed nowhere. */
const PUBLIC: ResolvedAddress = { address: '203.0.113.10', family: 4 };

const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
/** How many requests are answered 503 before the receiver answers 200. */
let failNext = 0;
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ headers: req.headers, body });
    res.writeHead(failNext-- > 0 ? 503 : 200).end();
  });
});
let port: number;

/** A resolver that answers each call with the next answer (the last one repeats) and counts the calls. */
function rebinding(...answers: ResolvedAddress[][]) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    return answers[Math.min(calls.length - 1, answers.length - 1)];
  };
  return { calls, resolve };
}

const delivery = () => ({ url: `http://${HOST}:${port}/hook`, secret: 'shh', deliveryId: 'd-1', payload: { n: 1 } });

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => receiver.close());

describe('webhook DNS pinning', () => {
  it('refuses a host name that resolves to loopback, before any request', async () => {
    seen.length = 0;
    const r = rebinding([LOOPBACK]);
    await expect(deliverWebhook(delivery(), { attempts: 2, retryBaseMs: 1, timeoutMs: 1_000, resolve: r.resolve })).rejects.toThrow(
      `webhook host ${HOST} resolves to an internal address (127.0.0.1); refused`,
    );
    expect(r.calls).toEqual([HOST]);
    expect(seen).toHaveLength(0);
  });

  it('checks every address of the answer: one internal address among public ones refuses it', async () => {
    const r = rebinding([PUBLIC, LOOPBACK]);
    await expect(deliverWebhook(delivery(), { attempts: 1, retryBaseMs: 1, timeoutMs: 1_000, resolve: r.resolve })).rejects.toThrow(
      /internal address \(127\.0\.0\.1\); refused/,
    );
    expect(seen).toHaveLength(0);
  });

  it('rebinding: public at the check, loopback afterwards — the request goes to the checked address, never to loopback', async () => {
    seen.length = 0;
    const r = rebinding([PUBLIC], [LOOPBACK]);
    // Two attempts: a second lookup per attempt (or by the HTTP client) would get loopback and reach the receiver.
    const err = await deliverWebhook(delivery(), { attempts: 2, retryBaseMs: 1, timeoutMs: 300, resolve: r.resolve }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`^webhook ${HOST.replace(/\./g, '\\.')}:${port} failed: `));
    expect((err as Error).message).not.toMatch(/refused$/);
    expect(r.calls).toEqual([HOST]);
    expect(seen).toHaveLength(0);
  });

  it('connects to the resolved address with the URL host as Host header, one lookup across retries', async () => {
    seen.length = 0;
    failNext = 1;
    const r = rebinding([LOOPBACK]);
    // allowPrivate: the operator lets it reach loopback; the name is not in any DNS, only the injected resolver knows it.
    const out = await deliverWebhook(delivery(), { attempts: 3, retryBaseMs: 50, timeoutMs: 2_000, allowPrivate: true, resolve: r.resolve });
    expect(out).toEqual({ status: 200, attempts: 2 });
    expect(r.calls).toEqual([HOST]);
    expect(seen).toHaveLength(2);
    const last = seen.at(-1)!;
    expect(last.headers.host).toBe(`${HOST}:${port}`);
    expect(verifySignature('shh', String(last.headers['x-strata-signature']), last.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(last.headers['x-strata-delivery']).toBe('d-1');
  });

  it('https: the TLS server name (SNI) is the URL host, and the certificate is checked against it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
      {
        stdio: 'ignore',
      },
    );
    const names: string[] = [];
    const tls = createTlsServer(
      {
        key: readFileSync(join(dir, 'k.pem')),
        cert: readFileSync(join(dir, 'c.pem')),
        SNICallback: (name, cb) => {
          names.push(name); // the ClientHello's server name
          cb(null, undefined);
        },
      },
      (_req, res) => res.end(),
    );
    tls.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const url = `https://${HOST}:${(tls.address() as AddressInfo).port}/hook`;
      const r = rebinding([LOOPBACK]);
      // A self-signed certificate: refused by the client's check (which runs against the host name, not the address).
      await expect(
        deliverWebhook({ ...delivery(), url }, { attempts: 1, retryBaseMs: 1, timeoutMs: 2_000, allowPrivate: true, resolve: r.resolve }),
      ).rejects.toThrow(/self[- ]signed certificate/);
      expect(names).toEqual([HOST]);
      expect(r.calls).toEqual([HOST]);
    } finally {
      tls.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
