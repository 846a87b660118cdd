/**
 * The tenant directory and the access watch on a real store (PGlite, whose triggers and NOTIFY run
 * in-process): signals from the 0002 triggers end sessions at once; with no signal (no bus), the
 * periodic re-check finds the same changes; a store failure keeps sessions and answers from cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { UserError } from '../../../src/errors.js';
import { createStore, type Store } from '../../../src/store/store.js';
import { type AccessEnd, createAccessWatch } from '../../../src/tenancy/access-watch.js';
import { createTenantDirectory } from '../../../src/tenancy/directory.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-tenancy-'));
let store: Store;
const logger = { info() {}, warn() {}, debug() {} };

beforeAll(async () => {
  store = await createStore({ pglitePath: dir });
  await store.migrate();
  await store.ensureDemoTenants();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const principal = (tenantId: string, via: Principal['via'] = 'jwt', subject = 'u'): Principal => ({ tenantId, via, subject, scopes: new Set(), roles: [] });
const ended = () => {
  let resolve!: (e: AccessEnd) => void;
  const p = new Promise<AccessEnd>((r) => (resolve = r));
  return { p, end: resolve };
};
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (e instanceof UserError ? e.code : String(e)),
  );

describe('tenant directory', () => {
  it('admits registered active/trial tenants, refuses unknown and suspended ones, and auto-provisions only when asked', async () => {
    const dirOff = createTenantDirectory({ tenants: store.tenants, logger });
    expect((await dirOff.admit('acme')).plan).toBe('pro');
    expect(dirOff.peek('acme')?.plan).toBe('pro');
    expect(await refusal(dirOff.admit('hooli'))).toBe('TENANT_UNKNOWN');
    expect(await store.tenants.get('hooli')).toBeNull();

    const created: object[] = [];
    const dirOn = createTenantDirectory({
      tenants: store.tenants,
      logger: { ...logger, info: (o: object) => void created.push(o) },
      autoProvision: true,
      defaultPlan: 'free',
    });
    expect((await dirOn.admit('hooli')).plan).toBe('free');
    expect(created).toEqual([{ tenantId: 'hooli', plan: 'free' }]);

    await store.tenants.update('hooli', { status: 'churned' });
    dirOff.invalidate('hooli');
    expect(await refusal(dirOff.admit('hooli'))).toBe('TENANT_SUSPENDED');
  });

  it('answers from its cache when the store fails, and STORE_UNAVAILABLE with nothing cached', async () => {
    let down = false;
    const flaky = {
      get: (id: string) => (down ? Promise.reject(new UserError('STORE_UNAVAILABLE', 'down')) : store.tenants.get(id)),
      getMany: store.tenants.getMany,
      ensure: store.tenants.ensure,
    };
    const d = createTenantDirectory({ tenants: flaky, logger, ttlMs: 0 });
    await d.admit('acme');
    down = true;
    expect((await d.admit('acme')).id).toBe('acme');
    expect(await refusal(d.admit('globex'))).toBe('STORE_UNAVAILABLE');
  });
});

describe('access watch', () => {
  it('ends sessions on the trigger signals: tenant suspended (TENANT_SUSPENDED), API key revoked (UNAUTHENTICATED)', async () => {
    await store.tenants.ensure({ id: 'umbrella', name: 'Umbrella' });
    const { key } = await store.apiKeys.create('umbrella', { name: 'k', scopes: ['metrics:read'], createdBy: 't' });
    const directory = createTenantDirectory({ tenants: store.tenants, logger });
    const watch = await createAccessWatch({ directory, apiKeys: store.apiKeys, bus: store, logger, intervalMs: 3_600_000 });
    const byKey = ended();
    const byTenant = ended();
    const other = ended();
    watch.watch(principal('umbrella', 'api_key', key.id), byKey.end);
    watch.watch(principal('umbrella'), byTenant.end);
    watch.watch(principal('globex'), other.end);

    await store.apiKeys.revoke('umbrella', key.id);
    expect(await byKey.p).toEqual({ code: 'UNAUTHENTICATED', message: 'API key has been revoked or has expired' });
    await store.tenants.update('umbrella', { status: 'suspended' });
    expect(await byTenant.p).toEqual({ code: 'TENANT_SUSPENDED', message: 'tenant "umbrella" is suspended' });
    expect(watch.size()).toBe(1);
    await watch.close();
    await store.tenants.update('umbrella', { status: 'active' });
  });

  it('without signals, the periodic re-check finds the same changes; an expired token ends by its timer', async () => {
    const directory = createTenantDirectory({ tenants: store.tenants, logger });
    const watch = await createAccessWatch({ directory, apiKeys: store.apiKeys, logger, intervalMs: 100 });
    const byTenant = ended();
    const byExpiry = ended();
    watch.watch(principal('umbrella'), byTenant.end);
    watch.watch({ ...principal('acme'), expiresAt: Date.now() / 1000 + 0.2 }, byExpiry.end);
    await store.tenants.update('umbrella', { status: 'churned' });
    expect(await byTenant.p).toEqual({ code: 'TENANT_SUSPENDED', message: 'tenant "umbrella" is churned' });
    expect(await byExpiry.p).toEqual({ code: 'UNAUTHENTICATED', message: 'token expired' });
    await watch.close();
  });
});
