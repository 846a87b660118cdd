import { describe, expect, it } from 'vitest';
import { createEngineSlots, type SlotStart } from '../../../src/query/engine-slots.js';

/** A statement that ends when the test says so. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => {
    open = r;
  });
  return { open, done };
}

describe('engine slots: fair sharing between tenants', () => {
  it("a tenant arriving behind another tenant's burst waits only for the statement already running", async () => {
    const slots = createEngineSlots({ slots: 1, perTenant: 1 });
    const starts: SlotStart[] = [];
    slots.onStart((e) => starts.push(e));
    const gates = Array.from({ length: 50 }, gate);
    const burst = gates.map((g) => slots.run('a', () => g.done));
    expect(slots.stats()).toEqual({ running: 1, queued: 49 });
    const b = slots.run('b', async () => 'b');
    gates[0].open();
    await b;
    const bStart = starts.find((s) => s.tenantId === 'b')!;
    // b started right after a's running statement: no statement of a overtook it.
    expect(bStart.overtakenBy).toBe(0);
    expect(starts.map((s) => s.tenantId).slice(0, 2)).toEqual(['a', 'b']);
    for (const g of gates) g.open();
    await Promise.all(burst);
    expect(slots.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('caps one tenant at perTenant while others use the free slots; tenants alternate when both wait', async () => {
    const slots = createEngineSlots({ slots: 3, perTenant: 2 });
    const order: string[] = [];
    slots.onStart((e) => order.push(e.tenantId));
    const gates = Array.from({ length: 6 }, gate);
    const a = gates.slice(0, 4).map((g) => slots.run('a', () => g.done));
    expect(slots.stats()).toEqual({ running: 2, queued: 2 });
    const b = gates.slice(4).map((g) => slots.run('b', () => g.done));
    expect(slots.stats()).toEqual({ running: 3, queued: 3 });
    for (const g of gates) g.open();
    await Promise.all([...a, ...b]);
    expect(order.slice(0, 3)).toEqual(['a', 'a', 'b']);
    expect(order.filter((t) => t === 'a')).toHaveLength(4);
  });

  it('an aborted waiter leaves the queue; a failing statement frees its slot', async () => {
    const slots = createEngineSlots({ slots: 1, perTenant: 1 });
    const g = gate();
    const first = slots.run('a', () => g.done);
    const ac = new AbortController();
    const waiting = slots.run('a', async () => 'never', ac.signal);
    ac.abort(new Error('client went away'));
    // A caller that left is a cancelled query (a coded QUERY_CANCELLED), not an unexpected error.
    await expect(waiting).rejects.toMatchObject({ name: 'EngineError', code: 'QUERY_CANCELLED' });
    const late = new AbortController();
    late.abort();
    await expect(slots.run('a', async () => 'never', late.signal)).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(slots.stats()).toEqual({ running: 1, queued: 0 });
    g.open();
    await first;
    await expect(slots.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.run('b', async () => 42)).toBe(42);
  });
});
