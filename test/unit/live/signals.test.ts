import { describe, expect, it } from 'vitest';
import {
  CHANGES_CHANNEL,
  createInProcessSignals,
  createNotifySignals,
  encodeChangePayload,
  parseChangePayload,
  type ChangeEvent,
  type NotifyBus,
} from '../../../src/live/signals.js';

/** A bus like Postgres: every listener of a channel (including the sender's) gets each notify. */
function fakeBus() {
  const listeners = new Map<string, Set<(p: string) => void>>();
  const resyncs = new Set<() => void>();
  const sent: string[] = [];
  let broken = false;
  const bus: NotifyBus = {
    async listen(channel, handler, onResync) {
      if (onResync) resyncs.add(onResync);
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(handler);
      return async () => void listeners.get(channel)?.delete(handler);
    },
    async notify(channel, payload) {
      if (broken) throw new Error('connection lost');
      sent.push(payload);
      for (const h of listeners.get(channel) ?? []) queueMicrotask(() => h(payload));
    },
  };
  return {
    bus,
    sent,
    listeners,
    raw: (channel: string, payload: string) => {
      for (const h of listeners.get(channel) ?? []) h(payload);
    },
    breakIt: () => (broken = true),
    /** The LISTEN connection came back after a loss. */
    reconnected: () => {
      for (const r of resyncs) r();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('change signals', () => {
  it('in-process: every handler gets each event; unsubscribe stops it', async () => {
    const s = createInProcessSignals();
    const a: ChangeEvent[] = [];
    const b: ChangeEvent[] = [];
    s.onChange((e) => a.push(e));
    const off = s.onChange((e) => b.push(e));
    await s.publish({ tenantId: 'acme', cubes: ['ad_performance', 'ad_performance'] });
    off();
    await s.publish({ tenantId: 'globex', cubes: [] });
    expect(a).toEqual([
      { tenantId: 'acme', cubes: ['ad_performance'] },
      { tenantId: 'globex', cubes: [] },
    ]);
    expect(b).toEqual([{ tenantId: 'acme', cubes: ['ad_performance'] }]);
  });

  it('a throwing handler does not stop the others', async () => {
    const s = createInProcessSignals();
    const got: string[] = [];
    s.onChange(() => {
      throw new Error('boom');
    });
    s.onChange((e) => got.push(e.tenantId));
    await s.publish({ tenantId: 'acme', cubes: [] });
    expect(got).toEqual(['acme']);
  });

  it('LISTEN/NOTIFY: two instances on one bus both see a publish from either, exactly once', async () => {
    const f = fakeBus();
    const one = await createNotifySignals(f.bus);
    const two = await createNotifySignals(f.bus);
    const seen1: ChangeEvent[] = [];
    const seen2: ChangeEvent[] = [];
    one.onChange((e) => seen1.push(e));
    two.onChange((e) => seen2.push(e));
    await one.publish({ tenantId: 'acme', cubes: ['ad_performance'] });
    await flush();
    expect(seen1).toEqual([{ tenantId: 'acme', cubes: ['ad_performance'] }]);
    expect(seen2).toEqual([{ tenantId: 'acme', cubes: ['ad_performance'] }]);
    // One NOTIFY, carrying the sender's origin: the sender delivered it locally and skips its echo.
    expect(f.sent.map((p) => JSON.parse(p))).toEqual([{ tenantId: 'acme', cubes: ['ad_performance'], origin: expect.any(String) }]);
    expect([...f.listeners.keys()]).toEqual([CHANGES_CHANNEL]);
    await one.close();
    await two.close();
    expect(f.listeners.get(CHANGES_CHANNEL)?.size).toBe(0);
  });

  it('ignores malformed notifications and falls back to local delivery when NOTIFY fails', async () => {
    const f = fakeBus();
    const s = await createNotifySignals(f.bus);
    const seen: ChangeEvent[] = [];
    s.onChange((e) => seen.push(e));
    f.raw(CHANGES_CHANNEL, 'not json');
    f.raw(CHANGES_CHANNEL, '{"tenantId":"ACME; DROP","cubes":[]}');
    f.raw(CHANGES_CHANNEL, '{"tenantId":"acme","cubes":[1]}');
    expect(seen).toEqual([]);
    f.breakIt();
    await s.publish({ tenantId: 'acme', cubes: ['x'] });
    expect(seen).toEqual([{ tenantId: 'acme', cubes: ['x'] }]);
  });

  it('LISTEN/NOTIFY: a reconnect of the listening connection reaches every resync handler; in-process never resyncs', async () => {
    const f = fakeBus();
    const s = await createNotifySignals(f.bus);
    let n = 0;
    const off = s.onResync(() => n++);
    f.reconnected();
    expect(n).toBe(1);
    off();
    f.reconnected();
    expect(n).toBe(1);
    await s.close();
  });

  it("a local publish has reached this instance's handlers when it resolves, before LISTEN echoes it", async () => {
    const f = fakeBus();
    const s = await createNotifySignals(f.bus);
    const seen: ChangeEvent[] = [];
    s.onChange((e) => seen.push(e));
    await s.publish({ tenantId: 'acme', cubes: ['x'] });
    expect(seen).toEqual([{ tenantId: 'acme', cubes: ['x'] }]);
    await flush(); // the echo arrives and is skipped
    expect(seen).toHaveLength(1);
    await s.close();
  });

  it('local writes: begun and open counts per (tenant, cube), release is idempotent', async () => {
    for (const s of [createInProcessSignals(), await createNotifySignals(fakeBus().bus)]) {
      const release = s.beginWrite('acme', ['a', 'b', 'a']);
      expect(s.writeState('acme', 'a')).toEqual({ begun: 1, open: 1 });
      expect(s.writeState('acme', 'c')).toEqual({ begun: 0, open: 0 });
      expect(s.writeState('globex', 'a')).toEqual({ begun: 0, open: 0 });
      const second = s.beginWrite('acme', ['a']);
      release();
      release();
      expect(s.writeState('acme', 'a')).toEqual({ begun: 2, open: 1 });
      expect(s.writeState('acme', 'b')).toEqual({ begun: 1, open: 0 });
      second();
      expect(s.writeState('acme', 'a')).toEqual({ begun: 2, open: 0 });
    }
  });

  it('payload codec round-trips and degrades an oversized cube list to "all cubes"', () => {
    expect(parseChangePayload(encodeChangePayload({ tenantId: 'acme', cubes: ['a', 'b'] }))).toEqual({ tenantId: 'acme', cubes: ['a', 'b'] });
    const huge = Array.from({ length: 2000 }, (_, i) => `cube_number_${i}`);
    expect(parseChangePayload(encodeChangePayload({ tenantId: 'acme', cubes: huge }))).toEqual({ tenantId: 'acme', cubes: [] });
    expect(parseChangePayload(encodeChangePayload({ tenantId: 'acme', cubes: huge }, 'me'))).toEqual({ tenantId: 'acme', cubes: [], origin: 'me' });
  });
});
