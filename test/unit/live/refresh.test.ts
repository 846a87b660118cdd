import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { createRefreshScheduler, refreshRules, type RefreshKeyReader } from '../../../src/live/refresh.js';
import { createLocalWrites } from '../../../src/live/signals.js';
import type { Cube, Model, RefreshKey } from '../../../src/semantic/model.js';

function model(keys: Record<string, RefreshKey | undefined>): Model {
  const cubes: Record<string, Cube> = {};
  for (const [name, refreshKey] of Object.entries(keys)) cubes[name] = { name, refreshKey } as unknown as Cube;
  return { cubes, views: {} };
}

const sqlKey = (text: string) => ({ parts: [{ kind: 'text' as const, text }], source: text });

/** Stands in for the query service's refreshKeyValue: one value per tenant. */
function fakeReader(values: Map<string, number>) {
  const asked: { tenantId: string; cube: string }[] = [];
  const read: RefreshKeyReader = async (principal: Principal, cube: string) => {
    asked.push({ tenantId: principal.tenantId, cube });
    return JSON.stringify([{ v: values.get(principal.tenantId) ?? 0 }]);
  };
  return { read, asked };
}

describe('refresh keys', () => {
  it('derives Cube semantics: every alone, sql checked at every or at the configured interval', () => {
    const m = model({ a: { everySeconds: 10 }, b: { sql: sqlKey('SELECT max(ts) FROM t') }, c: { sql: sqlKey('x'), everySeconds: 60 }, d: undefined });
    expect(refreshRules(m, 1000)).toEqual([
      { cube: 'a', sql: false, intervalMs: 10_000 },
      { cube: 'b', sql: true, intervalMs: 1000 },
      { cube: 'c', sql: true, intervalMs: 60_000 },
    ]);
  });

  it('`every` re-evaluates each watching tenant when due, and nobody else', async () => {
    let now = 0;
    const changes: [string, readonly string[]][] = [];
    const s = createRefreshScheduler(
      {
        model: model({ ads: { everySeconds: 10 } }),
        readRefreshKey: fakeReader(new Map()).read,
        checkIntervalMs: 1000,
        tenantsReading: (cube) => (cube === 'ads' ? ['acme', 'globex'] : []),
        principalFor: () => undefined,
        onChange: (t, c) => changes.push([t, c]),
        now: () => now,
      },
      { autoStart: false },
    );
    await s.tick();
    expect(changes).toEqual([
      ['acme', ['ads']],
      ['globex', ['ads']],
    ]);
    now = 5_000;
    await s.tick();
    expect(changes).toHaveLength(2);
    now = 10_000;
    await s.tick();
    expect(changes).toHaveLength(4);
  });

  it('`sql` reads the refresh key per tenant (as a principal of that tenant) and signals only when its value changes', async () => {
    const values = new Map([
      ['acme', 1],
      ['globex', 1],
    ]);
    const { read, asked } = fakeReader(values);
    const changes: [string, readonly string[]][] = [];
    let now = 0;
    const s = createRefreshScheduler(
      {
        model: model({ ads: { sql: sqlKey('SELECT max(updated_at) FROM ads') } }),
        checkIntervalMs: 1000,
        readRefreshKey: read,
        tenantsReading: () => ['acme', 'globex'],
        principalFor: (tenantId) => ({ tenantId, scopes: new Set(['metrics:read']), subject: 'live', via: 'jwt', roles: [] }),
        onChange: (t, c) => changes.push([t, c]),
        now: () => now,
      },
      { autoStart: false },
    );
    await s.tick(); // baseline
    expect(changes).toEqual([]);
    expect(asked).toEqual([
      { tenantId: 'acme', cube: 'ads' },
      { tenantId: 'globex', cube: 'ads' },
    ]);
    now = 1000;
    values.set('globex', 2);
    await s.tick();
    expect(changes).toEqual([['globex', ['ads']]]);
    now = 2000;
    await s.tick();
    expect(changes).toHaveLength(1);
  });

  it('without a refresh-key reader, sql keys are skipped (ingestion signals still apply)', async () => {
    const { asked } = fakeReader(new Map());
    const warned: object[] = [];
    const s = createRefreshScheduler(
      {
        model: model({ ads: { sql: sqlKey('SELECT 1') } }),
        checkIntervalMs: 1000,
        tenantsReading: () => ['acme'],
        principalFor: () => undefined,
        onChange: () => {},
        logger: { warn: (o) => warned.push(o) },
      },
      { autoStart: false },
    );
    await s.tick();
    expect(asked).toEqual([]);
    expect(warned).toEqual([{ cube: 'ads' }]);
  });

  it('subscriptions starting together read each refresh-key baseline once', async () => {
    const { read, asked } = fakeReader(new Map([['acme', 1]]));
    const principal: Principal = { tenantId: 'acme', scopes: new Set(['metrics:read']), subject: 'live', via: 'jwt', roles: [] };
    const s = createRefreshScheduler(
      {
        model: model({ ads: { sql: sqlKey('SELECT max(updated_at) FROM ads') } }),
        checkIntervalMs: 1000,
        readRefreshKey: read,
        tenantsReading: () => ['acme'],
        principalFor: () => principal,
        onChange: () => undefined,
      },
      { autoStart: false },
    );
    // 1,000 live queries of one dashboard subscribe in the same turn.
    await Promise.all(Array.from({ length: 1000 }, () => s.watch('acme', ['ads'], principal)));
    expect(asked).toEqual([{ tenantId: 'acme', cube: 'ads' }]);
    // Once known, a later subscription reads nothing.
    await s.watch('acme', ['ads'], principal);
    expect(asked).toHaveLength(1);
  });

  it('a local write in progress is left to its own signal: checks skip it and discard a read it overlapped', async () => {
    const values = new Map([['acme', 1]]);
    const writes = createLocalWrites();
    let during: (() => void) | undefined;
    const asked: number[] = [];
    const read: RefreshKeyReader = async () => {
      asked.push(asked.length);
      during?.();
      return String(values.get('acme'));
    };
    const changes: string[][] = [];
    let now = 0;
    const s = createRefreshScheduler(
      {
        model: model({ ads: { sql: sqlKey('SELECT count() FROM ads') } }),
        checkIntervalMs: 1000,
        readRefreshKey: read,
        tenantsReading: () => ['acme'],
        principalFor: (tenantId) => ({ tenantId, scopes: new Set(['metrics:read']), subject: 'live', via: 'jwt', roles: [] }),
        onChange: (_t, c) => changes.push([...c]),
        writeState: (t, c) => writes.writeState(t, c),
        now: () => now,
      },
      { autoStart: false },
    );
    await s.tick(); // baseline 1
    // The writer has inserted (the value moved) but its signal is not out yet: no check reads.
    const endWrite = writes.beginWrite('acme', ['ads']);
    values.set('acme', 2);
    now += 1000;
    await s.tick();
    expect(asked).toHaveLength(1);
    expect(changes).toEqual([]);
    // Its signal rebaselines (as the live service does on every signal), then the write ends.
    await s.rebaseline('acme', ['ads']);
    endWrite();
    now += 1000;
    await s.tick();
    expect(changes).toEqual([]);

    // A write that begins while a check is reading: that read is discarded, whatever it saw.
    let failedWrite: (() => void) | undefined;
    during = () => {
      during = undefined;
      failedWrite = writes.beginWrite('acme', ['ads']);
      values.set('acme', 3);
    };
    now += 1000;
    await s.tick();
    expect(changes).toEqual([]);
    // That write fails without a signal: the next check compares against the old baseline and
    // re-evaluates what it left behind.
    failedWrite!();
    now += 1000;
    await s.tick();
    expect(changes).toEqual([['ads']]);
  });
});
