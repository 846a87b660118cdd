/**
 * The rule a schedule or alert runs under (reports/author-access.ts), on the real store (PGlite and
 * the server): the tenant's status, the author's API key, the tenant's current role definitions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { currentRunAs } from '../../../src/reports/author-access.js';
import type { Db } from '../../../src/store/db.js';
import { type Store, storeOnDb } from '../../../src/store/store.js';
import { type Backend, createTestDatabase, type TestDatabase } from './backends.js';

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => (e instanceof UserError ? { code: e.code, message: e.message } : e),
  );

describe.each<[Backend]>([['pglite'], ['postgres']])('author access on %s', (backend) => {
  let tdb: TestDatabase;
  let db: Db;
  let store: Store;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    store = storeOnDb(db);
    await store.migrate();
    await store.ensureDemoTenants();
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  it('an API key author: runs while the key works; revoked, refused — rows saved before `via` was kept included', async () => {
    const { key } = await store.apiKeys.create('acme', { name: 'k', scopes: ['metrics:read', 'reports:write'], createdBy: 't' });
    const saved = { subject: key.id, scopes: ['metrics:read', 'reports:write'], roles: [], via: 'api_key' as const };
    expect((await currentRunAs({ store }, 'acme', saved, 'reports:write')).scopes).toEqual(['metrics:read', 'reports:write']);
    await store.apiKeys.revoke('acme', key.id);
    const want = { code: 'AUTHOR_ACCESS_REVOKED', message: `the API key that saved this (${key.id}) was revoked or has expired` };
    expect(await refusal(currentRunAs({ store }, 'acme', saved, 'reports:write'))).toEqual(want);
    const { via: _v, ...legacy } = saved;
    expect(await refusal(currentRunAs({ store }, 'acme', legacy, 'reports:write'))).toEqual(want);
    // A token subject that is no key of the tenant is not mistaken for one.
    expect((await currentRunAs({ store }, 'acme', { subject: 'alice', scopes: ['reports:write'], roles: [] }, 'reports:write')).scopes).toEqual([
      'reports:write',
    ]);
  });

  it("a token author's roles resolve through the current definitions: narrowed scopes run narrowed, a lost feature scope is refused", async () => {
    await store.roles.put('acme', { name: 'mkt', scopes: ['metrics:read', 'finance:read', 'alerts:write'], createdBy: 't' });
    const saved = { subject: 'mia', scopes: ['alerts:write', 'finance:read', 'metrics:read'], roles: ['mkt'], via: 'jwt' as const, grantedScopes: [] };
    expect((await currentRunAs({ store }, 'acme', saved, 'alerts:write')).scopes).toEqual(['alerts:write', 'finance:read', 'metrics:read']);
    // Widened since: still no more than at save time.
    await store.roles.put('acme', { name: 'mkt', scopes: ['metrics:read', 'alerts:write', 'clients:read', 'keys:admin'], createdBy: 't' });
    expect((await currentRunAs({ store }, 'acme', saved, 'alerts:write')).scopes).toEqual(['alerts:write', 'metrics:read']);
    await store.roles.put('acme', { name: 'mkt', scopes: ['metrics:read'], createdBy: 't' });
    expect(await refusal(currentRunAs({ store }, 'acme', saved, 'alerts:write'))).toEqual({
      code: 'AUTHOR_ACCESS_REVOKED',
      message: 'the author (mia) no longer holds alerts:write',
    });
    // Scopes the token carried itself (not from roles) stay.
    const direct = { ...saved, scopes: [...saved.scopes, 'clients:read'].sort(), grantedScopes: ['alerts:write', 'clients:read'] };
    expect((await currentRunAs({ store }, 'acme', direct, 'alerts:write')).scopes).toEqual(['alerts:write', 'clients:read', 'metrics:read']);
    // The role deleted: a custom role with no built-in of its name grants nothing.
    await store.roles.delete('acme', 'mkt');
    expect(await refusal(currentRunAs({ store }, 'acme', saved, 'alerts:write'))).toMatchObject({ code: 'AUTHOR_ACCESS_REVOKED' });
  });

  it('a tenant that is not served runs nothing, whoever the author', async () => {
    const alice = { subject: 'alice', scopes: ['reports:write'], roles: [] };
    await store.tenants.update('initech', { status: 'churned' });
    expect(await refusal(currentRunAs({ store }, 'initech', alice, 'reports:write'))).toEqual({
      code: 'TENANT_SUSPENDED',
      message: 'tenant "initech" is churned: its scheduled runs and alerts do not run',
    });
    await store.tenants.update('initech', { status: 'active' });
    expect(await refusal(currentRunAs({ store }, 'initech', alice, 'reports:write'))).toBeUndefined();
    expect(await refusal(currentRunAs({ store }, 'nobody', alice, 'reports:write'))).toEqual({
      code: 'TENANT_UNKNOWN',
      message: 'tenant "nobody" is not registered: its scheduled runs and alerts do not run',
    });
  });
});
