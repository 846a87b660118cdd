import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../src/auth/authenticator.js';
import { createAuthenticator } from '../../../src/auth/create-authenticator.js';
import { mintDevToken } from '../../../src/auth/jwt.js';
import { UnauthenticatedError } from '../../../src/errors.js';
import type { Db } from '../../../src/store/db.js';
import { storeOnDb, type Store } from '../../../src/store/store.js';
import { createTestDatabase, type Backend, type TestDatabase } from '../store/backends.js';

const SECRET = 'integration-secret-for-hs256-tokens';

async function message(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthenticatedError);
  return (err as Error).message;
}

describe.each<[Backend]>([['pglite'], ['postgres']])('authentication against the %s key store', (backend) => {
  let tdb: TestDatabase;
  let db: Db;
  let store: Store;
  let auth: Authenticator;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    store = storeOnDb(db);
    await store.migrate();
    await store.ensureDemoTenants();
    auth = createAuthenticator({ auth: { jwtSecret: SECRET }, apiKeys: store.apiKeys });
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  it('a created key authenticates as its tenant with its scopes', async () => {
    const { key, secret } = await store.apiKeys.create('globex', { name: 'etl', scopes: ['metrics:read', 'ingest:write'], createdBy: 'ops' });
    const p = await auth.authenticate(secret);
    expect(p).toMatchObject({ tenantId: 'globex', subject: key.id, via: 'api_key' });
    expect([...p.scopes].sort()).toEqual(['ingest:write', 'metrics:read']);
  });

  it('revoked, expired and unknown keys are refused with specific messages', async () => {
    const revoked = await store.apiKeys.create('acme', { name: 'r', scopes: ['metrics:read'], createdBy: 'a' });
    await store.apiKeys.revoke('acme', revoked.key.id);
    expect(await message(auth.authenticate(revoked.secret))).toBe('API key has been revoked');

    const expired = await store.apiKeys.create('acme', { name: 'e', scopes: [], createdBy: 'a', expiresAt: new Date(Date.now() + 60_000) });
    await db.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.key.id]);
    expect(await message(auth.authenticate(expired.secret))).toBe('API key has expired');

    // a valid-looking secret that differs in one character
    const live = await store.apiKeys.create('acme', { name: 'l', scopes: [], createdBy: 'a' });
    const flipped = live.secret.slice(0, -1) + (live.secret.endsWith('a') ? 'b' : 'a');
    expect(await message(auth.authenticate(flipped))).toBe('unknown API key');
    expect((await auth.authenticate(live.secret)).tenantId).toBe('acme');
  });

  it('JWTs and API keys work side by side', async () => {
    const token = await mintDevToken(SECRET, { tenantId: 'initech', roles: ['tenant_admin'] });
    const p = await auth.authenticate(token);
    expect(p.tenantId).toBe('initech');
    expect(p.scopes.has('keys:admin')).toBe(true);
  });
});
