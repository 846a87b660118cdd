import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { UnauthenticatedError } from '../../../src/errors.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (payload: JWTPayload) => new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthenticatedError);
  return (err as Error).message;
}

describe('every token ends', () => {
  const strict = createAuthenticator({ auth: { jwtSecret: SECRET } });
  const bounded = createAuthenticator({ auth: { jwtSecret: SECRET, maxTokenAgeSeconds: 600 } });

  it('refuses a token without exp unless a maximum token age is configured', async () => {
    expect(await refusal(strict.authenticate(await hs256({ tenant_id: 'acme', iat: now() })))).toBe('token has no expiry ("exp" claim); tokens must expire');
    const iat = now() - 100;
    expect((await bounded.authenticate(await hs256({ tenant_id: 'acme', iat }))).expiresAt).toBe(iat + 600);
    expect(await refusal(bounded.authenticate(await hs256({ tenant_id: 'acme' })))).toBe('token has neither "exp" nor "iat": its age cannot be bounded');
    expect(await refusal(bounded.authenticate(await hs256({ tenant_id: 'acme', iat: now() - 700 })))).toBe('token is older than the maximum token age');
  });

  it('caps a long exp at iat + the maximum age', async () => {
    const iat = now() - 10;
    expect((await bounded.authenticate(await hs256({ tenant_id: 'acme', iat, exp: now() + 86_400 }))).expiresAt).toBe(iat + 600);
  });

  it('refuses iat or nbf in the future beyond the clock tolerance, and accepts them within it', async () => {
    expect(await refusal(strict.authenticate(await hs256({ tenant_id: 'acme', iat: now() + 3600, exp: now() + 7200 })))).toBe(
      'token issued in the future (iat is later than now)',
    );
    expect(await refusal(strict.authenticate(await hs256({ tenant_id: 'acme', nbf: now() + 60, exp: now() + 7200 })))).toBe(
      'token not yet valid (nbf is in the future)',
    );
    expect((await strict.authenticate(await hs256({ tenant_id: 'acme', iat: now() + 2, nbf: now() + 2, exp: now() + 60 }))).tenantId).toBe('acme');
  });

  it('refuses non-numeric time claims', async () => {
    expect(await refusal(strict.authenticate(await hs256({ tenant_id: 'acme', exp: now() + 60, iat: 'yesterday' as unknown as number })))).toMatch(
      /iat|could not be verified|claim/,
    );
  });
});
