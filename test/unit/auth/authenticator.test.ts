import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyInfo, ApiKeyRefusal } from '../../../src/auth/authenticator.js';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { SCOPES } from '../../../src/auth/principal.js';
import { UnauthenticatedError, UserError } from '../../../src/errors.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function hs256(payload: JWTPayload, secret = SECRET, header: Record<string, unknown> = {}) {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...header }).sign(new TextEncoder().encode(secret));
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthenticatedError);
  expect((err as UnauthenticatedError).code).toBe('UNAUTHENTICATED');
  return (err as Error).message;
}

describe('HS256 tokens', () => {
  const auth = createAuthenticator({ auth: { jwtSecret: SECRET } });

  it('turns a dev token into a principal: tenant, roles expanded to scopes, subject, expiry', async () => {
    const token = await mintDevToken(SECRET, { tenantId: 'acme', roles: ['viewer'], scopes: [SCOPES.AUDIT_READ], subject: 'u-1', expiresIn: 600 });
    const p = await auth.authenticate(token);
    expect(p.tenantId).toBe('acme');
    expect([...p.scopes].sort()).toEqual([SCOPES.AUDIT_READ, SCOPES.METRICS_READ]);
    expect(p).toMatchObject({ subject: 'u-1', via: 'jwt', roles: ['viewer'] });
    expect(p.expiresAt).toBeGreaterThanOrEqual(now() + 595);
    expect(p.expiresAt).toBeLessThanOrEqual(now() + 600);
  });

  it('reads a space-delimited scope claim and unknown roles add nothing', async () => {
    const p = await auth.authenticate(await hs256({ tenant_id: 'globex', scope: 'metrics:read  clients:read', roles: ['nobody'], sub: 's', exp: now() + 60 }));
    expect([...p.scopes].sort()).toEqual(['clients:read', 'metrics:read']);
    expect(p.expiresAt).toBe(now() + 60);
  });

  it('accepts the token with surrounding whitespace', async () => {
    const p = await auth.authenticate(`  ${await hs256({ tenant_id: 'acme', exp: now() + 60 })}\n`);
    expect(p.subject).toBe('anonymous');
  });

  it('says exactly what is wrong', async () => {
    expect(await refusal(auth.authenticate(''))).toBe('missing credential: send "Authorization: Bearer <token or API key>"');
    expect(await refusal(auth.authenticate('   '))).toMatch(/^missing credential/);
    expect(await refusal(auth.authenticate('hello'))).toBe(
      'malformed token: expected a JWT (three base64url segments separated by dots) or an API key (sk_...)',
    );
    expect(await refusal(auth.authenticate('a.b.c'))).toBe('malformed token: the JWT header is not valid base64url-encoded JSON');
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    expect(await refusal(auth.authenticate(notJson))).toBe('malformed token: the JWT payload is not a valid JSON claims set');
    expect(await refusal(auth.authenticate('x'.repeat(9000)))).toBe('malformed token: credential is too long');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme', exp: now() - 3600 })))).toBe('token expired');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme', nbf: now() + 3600 })))).toBe('token not yet valid (nbf is in the future)');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme' }, 'some-other-secret-of-decent-length')))).toBe('token signature is invalid');
    expect(await refusal(auth.authenticate(await hs256({ sub: 'x' })))).toBe('token has no "tenant_id" claim');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: '' })))).toBe('"tenant_id" claim must be a non-empty string');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 42 })))).toBe('"tenant_id" claim must be a non-empty string');
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: "acme' OR 1=1" })))).toBe(
      '"tenant_id" claim has invalid characters (expected lower-case letters, digits, "-" or "_")',
    );
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme', scope: ['metrics:read'] })))).toBe(
      '"scope" claim must be a space-delimited string',
    );
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme', roles: 'viewer' })))).toBe('"roles" claim must be an array of strings');
  });

  it('never echoes the credential in an error', async () => {
    const token = await hs256({ tenant_id: 'acme', exp: now() - 3600 });
    expect(await refusal(auth.authenticate(token))).not.toContain(token.split('.')[1]);
  });

  it('refuses alg "none" (crafted by hand), whatever its claims', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ tenant_id: 'acme', roles: ['super_admin'] })}.`;
    expect(await refusal(auth.authenticate(unsigned))).toBe('unsigned token refused: alg "none" is never accepted');
    const upper = `${b64({ alg: 'NONE' })}.${b64({ tenant_id: 'acme' })}.`;
    expect(await refusal(auth.authenticate(upper))).toBe('unsigned token refused: alg "none" is never accepted');
  });

  it('refuses algorithms it was not configured for', async () => {
    const hs512 = await new SignJWT({ tenant_id: 'acme' }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET.repeat(2)));
    expect(await refusal(auth.authenticate(hs512))).toBe('token algorithm "HS512" is not accepted (expected HS256)');
    const { privateKey } = await generateKeyPair('RS256');
    const rs = await new SignJWT({ tenant_id: 'acme' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    expect(await refusal(auth.authenticate(rs))).toBe('token algorithm "RS256" is not accepted (expected HS256)');
  });

  it('checks issuer and audience when configured', async () => {
    const strict = createAuthenticator({ auth: { jwtSecret: SECRET, issuer: 'https://idp.example', audience: 'strata' } });
    const ok = await mintDevToken(SECRET, { tenantId: 'acme', issuer: 'https://idp.example', audience: 'strata' });
    expect((await strict.authenticate(ok)).tenantId).toBe('acme');
    const wrongIss = await mintDevToken(SECRET, { tenantId: 'acme', issuer: 'https://evil.example', audience: 'strata' });
    expect(await refusal(strict.authenticate(wrongIss))).toBe('token issuer (iss) is not the expected one');
    const wrongAud = await mintDevToken(SECRET, { tenantId: 'acme', issuer: 'https://idp.example', audience: 'other' });
    expect(await refusal(strict.authenticate(wrongAud))).toBe('token audience (aud) is not the expected one');
  });
});

describe('JWKS (RS256 / ES256) with key rotation', () => {
  let server: Server;
  let jwks: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let url: string;
  const keys: Record<string, { privateKey: CryptoKey; publicJwk: JWK; publicKey: CryptoKey }> = {};

  async function addKey(kid: string, alg: 'RS256' | 'ES256') {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    keys[kid] = { privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }
  const sign = (kid: string, alg: 'RS256' | 'ES256', payload: JWTPayload, key = keys[kid].privateKey) =>
    new SignJWT(payload).setProtectedHeader({ alg, kid }).setExpirationTime('5m').setSubject(`${kid}-user`).sign(key);

  beforeAll(async () => {
    await addKey('rsa-1', 'RS256');
    await addKey('ec-1', 'ES256');
    await addKey('rsa-2', 'RS256');
    jwks = { keys: [keys['rsa-1'].publicJwk, keys['ec-1'].publicJwk] };
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies RS256 and ES256 tokens, fetching the key set once', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: url }, jwks: { cooldownMs: 0 } });
    fetches = 0;
    const a = await auth.authenticate(await sign('rsa-1', 'RS256', { tenant_id: 'acme', roles: ['analyst'] }));
    const b = await auth.authenticate(await sign('ec-1', 'ES256', { tenant_id: 'globex', scope: 'metrics:read' }));
    expect(a).toMatchObject({ tenantId: 'acme', subject: 'rsa-1-user', via: 'jwt' });
    expect(a.scopes.has(SCOPES.FINANCE_READ)).toBe(true);
    expect([...b.scopes]).toEqual(['metrics:read']);
    expect(fetches).toBe(1);
  });

  it('honours rotation: a new kid triggers a refetch; a removed key stops working', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: url }, jwks: { cooldownMs: 0 } });
    const old = await sign('rsa-1', 'RS256', { tenant_id: 'acme' });
    expect((await auth.authenticate(old)).tenantId).toBe('acme');

    jwks = { keys: [keys['rsa-2'].publicJwk, keys['ec-1'].publicJwk] }; // rotate rsa-1 -> rsa-2
    const fresh = await sign('rsa-2', 'RS256', { tenant_id: 'initech' });
    expect((await auth.authenticate(fresh)).tenantId).toBe('initech');
    expect(await refusal(auth.authenticate(old))).toBe('token signature is invalid: no key in the JWKS matches its "kid"/algorithm');
    jwks = { keys: [keys['rsa-1'].publicJwk, keys['ec-1'].publicJwk] };
  });

  it('refuses a token signed by a key that is not the published one', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: url }, jwks: { cooldownMs: 0 } });
    const forged = await sign('rsa-1', 'RS256', { tenant_id: 'acme' }, keys['rsa-2'].privateKey);
    expect(await refusal(auth.authenticate(forged))).toBe('token signature is invalid');
  });

  it('refuses HS256 when only JWKS is configured, even signed with the public key (alg confusion)', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: url } });
    const pem = await exportSPKI(keys['rsa-1'].publicKey);
    const confused = await hs256({ tenant_id: 'acme' }, pem, { kid: 'rsa-1' });
    expect(await refusal(auth.authenticate(confused))).toBe('token algorithm "HS256" is not accepted (expected RS256 or ES256)');
  });

  it('with both configured, HS256 goes to the secret only (the public key is no HMAC secret)', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: url, jwtSecret: SECRET } });
    const pem = await exportSPKI(keys['rsa-1'].publicKey);
    expect(await refusal(auth.authenticate(await hs256({ tenant_id: 'acme' }, pem, { kid: 'rsa-1' })))).toBe('token signature is invalid');
    expect((await auth.authenticate(await hs256({ tenant_id: 'acme', exp: now() + 60 }))).tenantId).toBe('acme');
    expect((await auth.authenticate(await sign('ec-1', 'ES256', { tenant_id: 'globex' }))).tenantId).toBe('globex');
  });

  it('an unreachable key set is AUTH_UNAVAILABLE, not a bad token (jwks-cache.test.ts has the rest)', async () => {
    const auth = createAuthenticator({ auth: { jwksUrl: 'http://127.0.0.1:9/jwks.json' }, jwks: { timeoutMs: 2_000 } });
    const token = await sign('rsa-1', 'RS256', { tenant_id: 'acme' });
    const err = (await auth.authenticate(token).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.code).toBe('AUTH_UNAVAILABLE');
    expect(err.message).toBe("token could not be verified: the identity provider's signing keys (JWKS) are unavailable; retry later");
  });
});

describe('API keys', () => {
  const info: ApiKeyInfo = {
    id: '7d2c7d0e-0000-4000-8000-000000000001',
    tenantId: 'acme',
    name: 'ci',
    prefix: 'sk_live_abc123',
    scopes: ['metrics:read', 'keys:admin'],
    createdBy: 'alice',
    createdAt: new Date(),
    expiresAt: new Date('2100-01-01T00:00:00Z'),
    lastUsedAt: null,
    revokedAt: null,
  };
  const table: Record<string, ApiKeyRefusal | 'ok'> = { sk_live_good: 'ok', sk_live_revoked: 'revoked', sk_live_expired: 'expired' };
  const verifier = {
    verify: async (s: string) => (table[s] === 'ok' ? info : null),
    refusal: async (s: string) => (table[s] && table[s] !== 'ok' ? (table[s] as ApiKeyRefusal) : 'unknown'),
  };

  it('sends sk_ credentials to the key store and builds an api_key principal', async () => {
    const auth = createAuthenticator({ auth: { jwtSecret: SECRET }, apiKeys: verifier });
    const p = await auth.authenticate('sk_live_good');
    expect(p).toMatchObject({ tenantId: 'acme', subject: info.id, via: 'api_key', roles: [], expiresAt: 4102444800 });
    expect([...p.scopes].sort()).toEqual(['keys:admin', 'metrics:read']);
  });

  it('says unknown, revoked or expired', async () => {
    const auth = createAuthenticator({ auth: { jwtSecret: SECRET }, apiKeys: verifier });
    expect(await refusal(auth.authenticate('sk_live_nope'))).toBe('unknown API key');
    expect(await refusal(auth.authenticate('sk_live_revoked'))).toBe('API key has been revoked');
    expect(await refusal(auth.authenticate('sk_live_expired'))).toBe('API key has expired');
    const plain = createAuthenticator({ auth: { jwtSecret: SECRET }, apiKeys: { verify: verifier.verify } });
    expect(await refusal(plain.authenticate('sk_live_revoked'))).toBe('unknown API key');
  });

  it('without a key store, or without JWT config, says so', async () => {
    expect(await refusal(createAuthenticator({ auth: { jwtSecret: SECRET } }).authenticate('sk_live_good'))).toBe('API keys are not accepted by this server');
    const keysOnly = createAuthenticator({ auth: {}, apiKeys: verifier });
    expect(await refusal(keysOnly.authenticate(await hs256({ tenant_id: 'acme' })))).toBe(
      'JWTs are not accepted by this server (no JWT secret or JWKS configured)',
    );
  });
});
