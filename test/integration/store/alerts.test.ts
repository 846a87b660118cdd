/**
 * Alert rules' SQL on both backends: states move pending → firing → resolved with one event per
 * transition (after N consecutive evaluations), an older evaluation is never applied over a newer
 * one, a change signal makes only the tenant's rules reading that cube due, and due rules taken
 * from two connections at once become one job each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRuleInput, Observation } from '../../../src/store/alerts.js';
import type { Db } from '../../../src/store/db.js';
import { type Store, storeOnDb } from '../../../src/store/store.js';
import { type Backend, createTestDatabase, type TestDatabase } from './backends.js';

const rule = (tenantId: string, cubes: string[], consecutive = 1): AlertRuleInput => ({
  tenantId,
  owner: 'alice',
  name: 'r',
  source: { kind: 'query', query: {} },
  condition: { kind: 'threshold', measure: 'c.m', op: '<', value: 2 },
  consecutive,
  destinations: [],
  enabled: true,
  cubes,
  intervalSeconds: 3600,
  nextEvalAt: new Date(Date.now() + 3_600_000),
  runAs: { subject: 'alice', scopes: [], roles: [] },
});
const obs = (key: string, holds: boolean): Observation => ({ key, dimensions: { k: key }, value: holds ? 1 : 3, holds });

describe.each<[Backend]>([['pglite'], ['postgres']])('alert rules on %s', (backend) => {
  let tdb: TestDatabase;
  let db: Db;
  let other: Db;
  let store: Store;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    store = storeOnDb(db);
    await store.migrate();
    await store.ensureDemoTenants();
    other = backend === 'postgres' ? await tdb.open() : db;
  });
  afterAll(async () => {
    if (other !== db) await other.close();
    await db?.close();
    await tdb?.drop();
  });

  it('fires after N consecutive evaluations, once, per key; resolves once; an older evaluation is not applied', async () => {
    const r = await store.alerts.createRule(rule('acme', ['ad_performance'], 2));
    const notified: string[] = [];
    const apply = (at: number, o: Observation[]) => store.alerts.apply(r, new Date(at), o, async (e) => void notified.push(`${e.key}:${e.event}`));
    expect(await apply(1, [obs('a', true), obs('b', false)])).toEqual([]);
    expect((await store.alerts.listStates('acme', r.id)).map((s) => [s.key, s.status, s.streak])).toEqual([
      ['a', 'pending', 1],
      ['b', 'resolved', 0],
    ]);
    expect((await apply(2, [obs('a', true), obs('b', false)]))?.map((e) => e.event)).toEqual(['firing']);
    expect(await apply(3, [obs('a', true), obs('b', false)])).toEqual([]);
    expect(await apply(1, [obs('a', false)])).toBeNull(); // older than the last applied one
    // "a" gone from the result: no longer meets the condition.
    expect((await apply(4, [obs('b', false)]))?.map((e) => `${e.key}:${e.event}`)).toEqual(['a:resolved']);
    expect(notified).toEqual(['a:firing', 'a:resolved']);
    expect((await store.alerts.listEvents('acme', r.id)).map((e) => e.event)).toEqual(['resolved', 'firing']);
    expect(await store.alerts.listEvents('globex', r.id)).toEqual([]);
    expect(await store.alerts.listStates('globex', r.id)).toEqual([]);
  });

  it("a change signal makes only that tenant's rules on that cube due; two takers enqueue each once", async () => {
    const a = await store.alerts.createRule(rule('acme', ['campaigns']));
    const b = await store.alerts.createRule(rule('acme', ['clients']));
    const g = await store.alerts.createRule(rule('globex', ['campaigns']));
    expect(await store.alerts.markChanged('acme', ['campaigns'])).toBe(1);
    const due = async () =>
      new Set((await db.query<{ id: string }>('SELECT id FROM alert_rules WHERE next_eval_at <= $1', [new Date().toISOString()])).map((x) => x.id));
    const now = await due();
    expect(now.has(a.id) && !now.has(b.id) && !now.has(g.id)).toBe(true);
    expect(await store.alerts.markChanged('globex', [])).toBe(1); // empty: every cube
    const taken: string[] = [];
    const take = (s: Store) =>
      s.alerts.takeDue(new Date(), 50, async (r, tx) => {
        taken.push(r.id);
        await s.jobs.enqueue({ kind: 'alert.evaluate', payload: {}, dedupeKey: `alert:${r.id}:${r.nextEvalAt.toISOString()}` }, tx);
      });
    await Promise.all([take(store), take(storeOnDb(other))]);
    expect(taken.filter((id) => id === a.id)).toHaveLength(1);
    expect(taken.filter((id) => id === g.id)).toHaveLength(1);
    expect(taken).not.toContain(b.id);
    expect((await due()).has(a.id)).toBe(false); // moved on by its interval
  });
});
