/**
 * Key rotation and identity-provider outages against a local JWKS server (node:http + jose keys):
 * new keys verify at their first token, removed keys stop within JWT_JWKS_MAX_AGE_MS, an outage is
 * AUTH_UNAVAILABLE (never "bad token") after the last-known-good grace, and recovery needs no restart.
 * Time past maxAge/grace is a fake clock; fetches are real HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import type { JwksEvent } from '../../../src/auth/jwks-cache.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { loadConfig } from '../../../src/config.js';
import type { UserError } from '../../../src/errors.js';

const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};
let published: string[] = [];
let mode: 'up' | 'down' = 'up';
let fetches = 0;
let server: Server;
let url: string;

const sign = (kid: string, tenant = 'acme') =>
  new SignJWT({ tenant_id: tenant }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime('10m').sign(keys[kid].privateKey);

async function outcome(p: Promise<{ tenantId: string }>): Promise<string> {
  return p.then(
    (principal) => `ok:${principal.tenantId}`,
    (e: UserError) => `${e.code}: ${e.message}`,
  );
}

beforeAll(async () => {
  for (const kid of ['k1', 'k2', 'k3']) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  }
  server = createServer((_req, res) => {
    fetches++;
    if (mode === 'down') {
      res.writeHead(503).end('identity provider down');
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: published.map((k) => keys[k].jwk) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function setup(options: { cooldownMs?: number; maxAgeMs?: number; graceMs?: number } = {}) {
  let clock = Date.now();
  const events: JwksEvent[] = [];
  const auth = createAuthenticator({
    auth: { jwksUrl: url },
    jwks: { cooldownMs: 0, maxAgeMs: 60_000, graceMs: 300_000, ...options, now: () => clock, onEvent: (e) => events.push(e) },
  });
  return {
    auth,
    events,
    advance: (ms: number) => {
      clock += ms;
    },
    status: () => auth.identityKeys!(),
  };
}

describe('JWKS rotation', () => {
  it('a newly published key verifies at its first token (one refetch after the cooldown), shared by concurrent requests', async () => {
    mode = 'up';
    published = ['k1'];
    const { auth, status } = setup({ cooldownMs: 1_000 });
    expect((await status()).state).toBe('fresh');
    expect(await outcome(auth.authenticate(await sign('k1')))).toBe('ok:acme');

    published = ['k1', 'k2'];
    const before = fetches;
    const [a, b] = await Promise.all([outcome(auth.authenticate(await sign('k2', 'globex'))), outcome(auth.authenticate(await sign('k2', 'initech')))]);
    expect([a, b]).toEqual(['ok:globex', 'ok:initech']);
    expect(fetches - before).toBe(1);

    // Made-up kids cost the IdP one fetch per cooldown, however many arrive together.
    const unknownKid = await new SignJWT({ tenant_id: 'acme' })
      .setProtectedHeader({ alg: 'ES256', kid: 'nope' })
      .setExpirationTime('5m')
      .sign(keys.k3.privateKey);
    const flood = await Promise.all(Array.from({ length: 5 }, () => outcome(auth.authenticate(unknownKid))));
    expect(new Set(flood)).toEqual(new Set(['UNAUTHENTICATED: token signature is invalid: no key in the JWKS matches its "kid"/algorithm']));
    expect(fetches - before).toBe(2);
  });

  it('a removed key verifies until the fetched set is maxAge old, then is refused', async () => {
    mode = 'up';
    published = ['k1', 'k2'];
    const { auth, advance, status } = setup({ maxAgeMs: 60_000 });
    await status();
    const old = await sign('k1');
    expect(await outcome(auth.authenticate(old))).toBe('ok:acme');
    published = ['k2']; // rotated out at the IdP
    advance(59_000);
    expect(await outcome(auth.authenticate(old))).toBe('ok:acme'); // within the documented bound
    advance(1_000);
    expect(await outcome(auth.authenticate(old))).toBe('UNAUTHENTICATED: token signature is invalid: no key in the JWKS matches its "kid"/algorithm');
    expect(await outcome(auth.authenticate(await sign('k2')))).toBe('ok:acme');
  });
});

describe('identity provider outage', () => {
  const UNAVAILABLE = "AUTH_UNAVAILABLE: token could not be verified: the identity provider's signing keys (JWKS) are unavailable; retry later";

  it('at start: JWTs get AUTH_UNAVAILABLE, the keys report unavailable, and recovery needs no restart', async () => {
    mode = 'down';
    published = ['k1'];
    const { auth, events, status } = setup();
    expect(await outcome(auth.authenticate(await sign('k1')))).toBe(UNAVAILABLE);
    expect(await status()).toMatchObject({ available: false, state: 'unavailable', lastError: 'the JWKS url answered HTTP 503' });
    expect(events.some((e) => e.kind === 'fetch-failed' && !e.lastKnownGood)).toBe(true);
    expect(events.some((e) => e.kind === 'refused')).toBe(true);

    mode = 'up';
    expect(await status()).toMatchObject({ available: true, state: 'fresh' });
    expect(await outcome(auth.authenticate(await sign('k1')))).toBe('ok:acme');
  });

  it('mid-run: the last keys fetched verify through the grace period, then AUTH_UNAVAILABLE; then recovery', async () => {
    mode = 'up';
    published = ['k1'];
    const { auth, advance, status, events } = setup({ maxAgeMs: 60_000, graceMs: 300_000 });
    await status();
    const token = await sign('k1');
    mode = 'down';
    advance(61_000); // stale: a refetch fails, last-known-good keys serve
    expect(await outcome(auth.authenticate(token))).toBe('ok:acme');
    expect(await status()).toMatchObject({ available: true, state: 'last-known-good' });
    expect(events.some((e) => e.kind === 'fetch-failed' && e.lastKnownGood)).toBe(true);
    // A kid the last-known-good set lacks cannot be checked: unavailable, not refused as forged.
    expect(await outcome(auth.authenticate(await sign('k2')))).toBe(UNAVAILABLE);

    advance(300_000); // past maxAge + grace
    expect(await outcome(auth.authenticate(token))).toBe(UNAVAILABLE);
    expect(await status()).toMatchObject({ available: false, state: 'unavailable' });

    mode = 'up';
    expect(await outcome(auth.authenticate(token))).toBe('ok:acme');
    expect((await status()).state).toBe('fresh');
  });
});

describe('HS256 secret rotation', () => {
  const NEW = 'the-new-secret-0123456789abcdef0123456789';
  const OLD = 'the-old-secret-0123456789abcdef0123456789';

  it('accepts the previous secret until the overlap ends, and only then', async () => {
    const during = createAuthenticator({ auth: { jwtSecret: NEW, previousSecret: { secret: OLD, until: Date.now() + 60_000 } } });
    expect(await outcome(during.authenticate(await mintDevToken(OLD, { tenantId: 'acme' })))).toBe('ok:acme');
    expect(await outcome(during.authenticate(await mintDevToken(NEW, { tenantId: 'globex' })))).toBe('ok:globex');
    expect(await outcome(during.authenticate(await mintDevToken('some-other-secret-0123456789abcdef', { tenantId: 'acme' })))).toBe(
      'UNAUTHENTICATED: token signature is invalid',
    );

    const after = createAuthenticator({ auth: { jwtSecret: NEW, previousSecret: { secret: OLD, until: Date.now() - 1 } } });
    expect(await outcome(after.authenticate(await mintDevToken(OLD, { tenantId: 'acme' })))).toBe('UNAUTHENTICATED: token signature is invalid');
    expect(await outcome(after.authenticate(await mintDevToken(NEW, { tenantId: 'acme' })))).toBe('ok:acme');
  });

  it('is configured as JWT_PREVIOUS_SECRET + JWT_PREVIOUS_SECRET_UNTIL, both or neither', () => {
    const base = { STRATA_ENV: 'test', JWT_SECRET: NEW };
    const config = loadConfig({ ...base, JWT_PREVIOUS_SECRET: OLD, JWT_PREVIOUS_SECRET_UNTIL: '2026-12-08T12:00:00Z' });
    expect(config.auth.previousSecret).toEqual({ secret: OLD, until: Date.parse('2026-12-08T12:00:00Z') });
    expect(config.auth.jwks).toEqual({ maxAgeMs: 60_000, cooldownMs: 1_000, timeoutMs: 5_000, graceMs: 300_000 });
    expect(() => loadConfig({ ...base, JWT_PREVIOUS_SECRET: OLD })).toThrow(/JWT_PREVIOUS_SECRET_UNTIL/);
    expect(() => loadConfig({ ...base, JWT_PREVIOUS_SECRET_UNTIL: 'tomorrow' })).toThrow(/ISO date-time/);
  });
});
