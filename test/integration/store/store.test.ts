import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { createAuditLog } from '../../../src/store/audit.js';
import type { Db } from '../../../src/store/db.js';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, readMigrations } from '../../../src/store/migrate.js';
import { storeOnDb, type Store } from '../../../src/store/store.js';
import type { Actor } from '../../../src/store/access.js';

/** The caller as the store sees it (admin: a tenant admin). */
const as = (tenantId: string, subject: string, admin = false): Actor => ({ tenantId, subject, admin });
import { captureLogger, createTestDatabase, type Backend, type TestDatabase } from './backends.js';

async function expectUserError(p: Promise<unknown>, code: string, message: RegExp) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe(code);
  expect((err as UserError).message).toMatch(message);
}

describe.each<[Backend]>([['pglite'], ['postgres']])('store on %s', (backend) => {
  let tdb: TestDatabase;
  let db: Db;
  let second: Db | null = null;
  let store: Store;
  const { warnings, logger } = captureLogger();
  const migrationFiles = readMigrations().map((f) => f.name);

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    store = storeOnDb(db, logger);
  });

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    await second?.close().catch(() => undefined);
    await tdb?.drop();
  });

  describe('migrations', () => {
    it('two instances migrating at once apply each migration exactly once', async () => {
      // On the server: a second, independent pool (another "instance"). On PGlite: the same process.
      second = backend === 'postgres' ? await tdb.open() : null;
      const other = storeOnDb(second ?? db, logger);
      const [a, b] = await Promise.all([store.migrate(), other.migrate()]);
      expect([...a.applied, ...b.applied].sort()).toEqual(migrationFiles);
      expect(a.applied.length === 0 || b.applied.length === 0).toBe(true);
      const rows = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM strata_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(migrationFiles);
      expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    });

    it('re-running is a no-op', async () => {
      const again = await store.migrate();
      expect(again.applied).toEqual([]);
      expect(again.files).toEqual(migrationFiles);
    });

    it('refuses a migration edited after it was applied, naming the file', async () => {
      const dir = mkdtempSync(`${tmpdir()}/strata-migrations-`);
      try {
        cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
        writeFileSync(join(dir, '9000_probe.sql'), 'CREATE TABLE probe (x int);\n');
        expect((await store.migrate({ dir })).applied).toEqual(['9000_probe.sql']);

        writeFileSync(join(dir, '9000_probe.sql'), 'CREATE TABLE probe (x int, y int);\n');
        const err = await store.migrate({ dir }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MigrationError);
        expect((err as MigrationError).file).toBe('9000_probe.sql');
        expect((err as Error).message).toMatch(/^migration 9000_probe\.sql was edited after it was applied/);
        const cols = await db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'probe'");
        expect(cols.map((c) => c.column_name)).toEqual(['x']);

        // The default directory does not know 9000_probe.sql: a warning, not a refusal (rolling deploys).
        warnings.length = 0;
        expect((await store.migrate()).applied).toEqual([]);
        expect(warnings.map((w) => w.msg)).toEqual(['database has migrations this version does not know']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses badly named migration files', async () => {
      const dir = mkdtempSync(`${tmpdir()}/strata-migrations-`);
      try {
        writeFileSync(join(dir, '1_init.sql'), 'SELECT 1;');
        await expect(store.migrate({ dir })).rejects.toThrow('migration file name "1_init.sql" must look like NNNN_name.sql');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('tenants', () => {
    it('seeds the demo tenants once and keeps them on re-seed', async () => {
      await store.ensureDemoTenants();
      await store.ensureDemoTenants();
      const tenants = await store.tenants.list();
      expect(tenants.map((t) => [t.id, t.plan, t.status])).toEqual([
        ['acme', 'pro', 'active'],
        ['globex', 'enterprise', 'active'],
        ['initech', 'free', 'active'],
      ]);
    });

    it('ensure leaves an existing tenant alone; upsert overwrites plan and settings', async () => {
      await store.tenants.ensure({ id: 'acme', name: 'Renamed', plan: 'free' });
      expect((await store.tenants.get('acme'))?.name).toBe('Acme Corp');
      const t = await store.tenants.upsert({ id: 'umbrella', name: 'Umbrella', plan: 'pro', settings: { rateLimit: { perSecond: 7, burst: 9 } } });
      expect(t).toMatchObject({ id: 'umbrella', slug: 'umbrella', plan: 'pro', settings: { rateLimit: { perSecond: 7, burst: 9 } } });
      const u = await store.tenants.upsert({ id: 'umbrella', name: 'Umbrella Corp', plan: 'enterprise' });
      expect(u).toMatchObject({ name: 'Umbrella Corp', plan: 'enterprise', settings: {} });
      expect(await store.tenants.get('nope')).toBeNull();
    });

    it('rejects a tenant id outside the charset', async () => {
      await expectUserError(store.tenants.ensure({ id: 'Acme Corp', name: 'x' }), 'BAD_USER_INPUT', /tenant id "Acme Corp" must match/);
    });
  });

  describe('api keys', () => {
    it('stores only the SHA-256 of the secret and never returns it again', async () => {
      const { key, secret } = await store.apiKeys.create('acme', { name: 'ci', scopes: ['metrics:read', 'finance:read'], createdBy: 'alice' });
      expect(secret).toMatch(/^sk_live_[0-9A-Za-z]{46}$/);
      expect(key.prefix).toBe(secret.slice(0, 14));
      expect(key).toMatchObject({ tenantId: 'acme', name: 'ci', scopes: ['metrics:read', 'finance:read'], createdBy: 'alice', revokedAt: null });

      const rows = await db.query('SELECT * FROM api_keys WHERE id = $1', [key.id]);
      expect(rows).toHaveLength(1);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice(14)); // nor the random part
      expect(rows[0].secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));

      const listed = await store.apiKeys.list('acme');
      const mine = listed.find((k) => k.id === key.id)!;
      expect(Object.keys(mine).sort()).toEqual([
        'createdAt',
        'createdBy',
        'expiresAt',
        'id',
        'lastUsedAt',
        'name',
        'prefix',
        'revokedAt',
        'scopes',
        'tenantId',
      ]);
      expect(JSON.stringify(listed)).not.toContain(rows[0].secret_hash as string);
    });

    it('verifies a live key and records its last use in the background', async () => {
      const { key, secret } = await store.apiKeys.create('acme', { name: 'live', scopes: ['metrics:read'], createdBy: 'alice' });
      const info = await store.apiKeys.verify(secret);
      expect(info).toMatchObject({ id: key.id, tenantId: 'acme', scopes: ['metrics:read'] });
      await store.apiKeys.settle();
      const [row] = await db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
      expect(row.last_used_at).toBeInstanceOf(Date);
    });

    it('refuses unknown, malformed, revoked and expired keys, saying which', async () => {
      const { secret: revokedSecret, key: revoked } = await store.apiKeys.create('acme', { name: 'old', scopes: [], createdBy: 'a' });
      expect(await store.apiKeys.revoke('acme', revoked.id)).toBe(true);
      expect(await store.apiKeys.revoke('acme', revoked.id)).toBe(false); // already revoked
      expect(await store.apiKeys.verify(revokedSecret)).toBeNull();
      expect(await store.apiKeys.refusal(revokedSecret)).toBe('revoked');

      const { secret: expSecret, key: exp } = await store.apiKeys.create('acme', {
        name: 'temp',
        scopes: [],
        createdBy: 'a',
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      expect(await store.apiKeys.verify(expSecret)).not.toBeNull();
      await db.query("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [exp.id]);
      expect(await store.apiKeys.verify(expSecret)).toBeNull();
      expect(await store.apiKeys.refusal(expSecret)).toBe('expired');

      const unknown = `sk_live_${'A'.repeat(46)}`;
      expect(await store.apiKeys.verify(unknown)).toBeNull();
      expect(await store.apiKeys.refusal(unknown)).toBe('unknown');
      expect(await store.apiKeys.verify("sk_live_' OR 1=1 --")).toBeNull();
    });

    it("one tenant's revoke cannot touch another tenant's key", async () => {
      const { key, secret } = await store.apiKeys.create('globex', { name: 'globex-ci', scopes: ['metrics:read'], createdBy: 'g' });
      expect(await store.apiKeys.revoke('acme', key.id)).toBe(false);
      expect(await store.apiKeys.revoke('acme', 'not-a-uuid')).toBe(false);
      expect(await store.apiKeys.verify(secret)).toMatchObject({ id: key.id, tenantId: 'globex' });
      expect((await store.apiKeys.list('acme')).some((k) => k.id === key.id)).toBe(false);
      expect(await store.apiKeys.revoke('globex', key.id)).toBe(true);
      expect(await store.apiKeys.verify(secret)).toBeNull();
    });

    it('refuses keys for a missing tenant and expiry in the past', async () => {
      await expectUserError(store.apiKeys.create('nope', { name: 'x', scopes: [], createdBy: 'a' }), 'NOT_FOUND', /tenant "nope" does not exist/);
      await expectUserError(
        store.apiKeys.create('acme', { name: 'x', scopes: [], createdBy: 'a', expiresAt: new Date(Date.now() - 1000) }),
        'BAD_USER_INPUT',
        /expiresAt must be in the future/,
      );
    });
  });

  describe('dashboards', () => {
    const w1 = { id: 'spend', title: 'Spend', query: { measures: ['ad_performance.spend'] }, display: { chart: 'line' } };
    const w2 = { id: 'clicks', title: 'Clicks', query: { measures: ['ad_performance.clicks'] } };

    it('every update appends a version; old versions stay readable', async () => {
      const d = await store.dashboards.create(as('acme', 'alice'), { name: 'Overview', description: 'KPIs', widgets: [w1] });
      expect(d).toMatchObject({ tenantId: 'acme', name: 'Overview', description: 'KPIs', version: 1, widgets: [w1], versionCreatedBy: 'alice' });

      const v2 = await store.dashboards.update(as('acme', 'bob', true), d.id, { widgets: [w1, w2], expectedVersion: 1 });
      expect(v2).toMatchObject({ version: 2, widgets: [w1, w2], versionCreatedBy: 'bob', createdBy: 'alice' });

      const v3 = await store.dashboards.update(as('acme', 'carol', true), d.id, { name: 'Overview 2', description: null });
      expect(v3).toMatchObject({ version: 3, name: 'Overview 2', description: null, widgets: [w1, w2] });

      expect((await store.dashboards.get(as('acme', 'alice', false), d.id, 1))?.widgets).toEqual([w1]);
      expect((await store.dashboards.get(as('acme', 'alice', false), d.id))?.version).toBe(3);
      expect((await store.dashboards.versions(as('acme', 'alice', false), d.id)).map((v) => [v.version, v.createdBy, v.widgetCount])).toEqual([
        [1, 'alice', 1],
        [2, 'bob', 2],
        [3, 'carol', 2],
      ]);

      await expectUserError(store.dashboards.update(as('acme', 'dave', true), d.id, { widgets: [], expectedVersion: 2 }), 'CONFLICT', /is at version 3, not 2/);
      expect((await store.dashboards.list(as('acme', 'alice', false))).map((s) => [s.id, s.version])).toContainEqual([d.id, 3]);
    });

    it('is tenant-scoped: another tenant can neither read, update nor delete', async () => {
      const d = await store.dashboards.create(as('acme', 'alice'), { name: 'Private', widgets: [w2] });
      expect(await store.dashboards.get(as('globex', 'alice', true), d.id)).toBeNull();
      expect(await store.dashboards.versions(as('globex', 'alice', true), d.id)).toEqual([]);
      expect((await store.dashboards.list(as('globex', 'alice', true))).some((x) => x.id === d.id)).toBe(false);
      await expectUserError(store.dashboards.update(as('globex', 'eve', true), d.id, { name: 'pwned' }), 'NOT_FOUND', /not found/);
      expect(await store.dashboards.delete(as('globex', 'alice', true), d.id)).toBe(false);
      expect((await store.dashboards.get(as('acme', 'alice', false), d.id))?.name).toBe('Private');

      expect(await store.dashboards.delete(as('acme', 'alice', false), d.id)).toBe(true);
      expect(await store.dashboards.get(as('acme', 'alice', false), d.id)).toBeNull();
      expect(await db.query('SELECT 1 FROM dashboard_versions WHERE dashboard_id = $1', [d.id])).toEqual([]);
    });

    it('validates widgets', async () => {
      await expectUserError(store.dashboards.create(as('acme', 'a'), { name: 'x', widgets: [w1, w1] }), 'BAD_USER_INPUT', /widget id "spend" appears twice/);
      await expectUserError(store.dashboards.create(as('acme', 'a'), { name: ' ' }), 'BAD_USER_INPUT', /dashboard name must be a non-empty string/);
    });
  });

  describe('saved queries', () => {
    it('CRUD, tenant-scoped, names unique per tenant', async () => {
      const q = { measures: ['ad_performance.spend'], dimensions: ['campaigns.channel'] };
      const s = await store.savedQueries.create(as('acme', 'alice'), { name: 'spend by channel', query: q });
      expect(s).toMatchObject({ tenantId: 'acme', name: 'spend by channel', query: q });
      await expectUserError(
        store.savedQueries.create(as('acme', 'bob'), { name: 'spend by channel', query: q }),
        'CONFLICT',
        /a saved query named "spend by channel" already exists/,
      );
      // the same name in another tenant is fine
      await store.savedQueries.create(as('globex', 'g'), { name: 'spend by channel', query: q });

      const updated = await store.savedQueries.update(as('acme', 'alice', false), s.id, { query: { measures: ['ad_performance.clicks'] } });
      expect(updated).toMatchObject({ name: 'spend by channel', query: { measures: ['ad_performance.clicks'] } });
      expect(await store.savedQueries.get(as('globex', 'alice', true), s.id)).toBeNull();
      await expectUserError(store.savedQueries.update(as('globex', 'alice', true), s.id, { name: 'x' }), 'NOT_FOUND', /not found/);
      expect(await store.savedQueries.delete(as('globex', 'alice', true), s.id)).toBe(false);
      expect((await store.savedQueries.list(as('acme', 'alice', false))).map((x) => x.id)).toEqual([s.id]);
      expect(await store.savedQueries.delete(as('acme', 'alice', false), s.id)).toBe(true);
      expect(await store.savedQueries.get(as('acme', 'alice', false), s.id)).toBeNull();
    });
  });

  describe('audit', () => {
    it('batches records: nothing written until a batch fills or flush(), one INSERT per batch', async () => {
      const inserts: number[] = [];
      const counting: Db = {
        ...db,
        query: (text, params) => {
          if (text.startsWith('INSERT INTO audit_log')) inserts.push((params?.length ?? 0) / 18); // 18 columns a row
          return db.query(text, params);
        },
      };
      const audit = createAuditLog(counting, logger, { maxBatch: 100, flushIntervalMs: 60_000 });
      const entry = (i: number) => ({
        tenantId: 'initech',
        subject: 'user-1',
        door: 'graphql',
        queryFingerprint: `fp${i}`,
        members: ['ad_performance.spend', 'campaigns.channel'],
        rows: i,
        durationMs: 12.6,
        status: i % 10 === 0 ? 'error' : 'ok',
        errorCode: i % 10 === 0 ? 'QUERY_TIMEOUT' : null,
        clientAddress: '127.0.0.1',
        requestId: `req-${i}`,
      });
      for (let i = 0; i < 99; i++) audit.record(entry(i));
      expect(inserts).toEqual([]); // below the batch size and the timer is far away
      audit.record(entry(99));
      for (let i = 100; i < 250; i++) audit.record(entry(i));
      await audit.flush();
      expect(inserts).toEqual([100, 100, 50]);

      const page1 = await audit.list('initech', { limit: 200 });
      expect(page1).toHaveLength(200);
      expect(page1[0]).toMatchObject({ requestId: 'req-249', rows: 249, durationMs: 13, members: ['ad_performance.spend', 'campaigns.channel'] });
      const page2 = await audit.list('initech', { limit: 200, before: page1[199].id });
      expect(page2.map((r) => r.requestId)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${49 - i}`));
      expect(page2[49]).toMatchObject({ status: 'error', errorCode: 'QUERY_TIMEOUT', clientAddress: '127.0.0.1', door: 'graphql' });
      expect(await audit.list('acme', { limit: 10 })).toEqual([]);
    });

    it('flushes on its own timer', async () => {
      const audit = createAuditLog(db, logger, { maxBatch: 100, flushIntervalMs: 20 });
      audit.record({ tenantId: 'globex', subject: 'timer', door: 'rest', status: 'ok' });
      await vi.waitFor(async () => expect((await audit.list('globex')).map((r) => r.subject)).toEqual(['timer']), { timeout: 10_000 });
    });
  });

  describe('listen / notify', () => {
    it('delivers notifications to listeners (and across instances on the server)', async () => {
      const got: string[] = [];
      const unlisten = await store.listen('strata_test_changes', (p) => got.push(p));
      const remoteGot: string[] = [];
      const remote = backend === 'postgres' ? storeOnDb(second!, logger) : null;
      const unlistenRemote = await remote?.listen('strata_test_changes', (p) => remoteGot.push(p));

      await store.notify('strata_test_changes', '{"tenant":"acme","cube":"ad_performance"}');
      await vi.waitFor(() => expect(got).toEqual(['{"tenant":"acme","cube":"ad_performance"}']), { timeout: 10_000 });
      if (remote) await vi.waitFor(() => expect(remoteGot).toEqual(['{"tenant":"acme","cube":"ad_performance"}']), { timeout: 10_000 });

      // after unlisten, nothing more arrives (a later signal on another channel proves delivery has caught up)
      await unlisten();
      const marker: string[] = [];
      const unlistenMarker = await store.listen('strata_test_marker', (p) => marker.push(p));
      await store.notify('strata_test_changes', 'late');
      await store.notify('strata_test_marker', 'done');
      await vi.waitFor(() => expect(marker).toEqual(['done']), { timeout: 10_000 });
      expect(got).toEqual(['{"tenant":"acme","cube":"ad_performance"}']);
      await unlistenMarker();
      await unlistenRemote?.();
      await expect(store.listen('Bad Channel"', () => undefined)).rejects.toThrow('invalid notification channel');
    });
  });

  // Last: it closes the database underneath the store.
  describe('degradation', () => {
    it('an audit write failure is a logged warning, never an exception to the caller', async () => {
      await db.close();
      warnings.length = 0;
      expect(() => store.audit.record({ tenantId: 'acme', subject: 's', door: 'rest', status: 'ok' })).not.toThrow();
      await expect(store.audit.flush()).resolves.toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0].msg).toBe('audit: could not write a batch; entries dropped');
      expect(warnings[0].obj).toMatchObject({ dropped: 1 });
    });
  });
});
