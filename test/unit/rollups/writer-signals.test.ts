/**
 * rollups/writer-signals.ts: a writer's change reaches this instance's live queries at once (its
 * queries read the facts while the rollups are held), and alerts and the other instances only once
 * the rollups caught up; one delivery per handler either way.
 */
import { describe, expect, it } from 'vitest';
import { type ChangeEvent, createNotifySignals, type NotifyBus } from '../../../src/live/signals.js';
import { createWriterSignals } from '../../../src/rollups/writer-signals.js';

/** Postgres-like NOTIFY: every listener of the channel, the sender's too, gets each payload. */
function bus(): NotifyBus {
  const listeners = new Set<(p: string) => void>();
  return {
    async listen(_channel, handler) {
      listeners.add(handler);
      return async () => void listeners.delete(handler);
    },
    async notify(_channel, payload) {
      for (const h of listeners) queueMicrotask(() => h(payload));
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('writer signals', () => {
  it("this instance's live queries hear of a write at once, while held; alerts and the others once the rollups caught up", async () => {
    const shared = bus();
    const here = await createNotifySignals(shared);
    const there = await createNotifySignals(shared);
    const log: string[] = [];
    there.onChange((e) => log.push(`there ${e.tenantId} ${e.cubes.join(',')}`));
    let caughtUp!: () => void;
    const holds = new Set<string>();
    const writers = createWriterSignals({
      signals: here,
      rollups: {
        hold(tenantId, cubes) {
          const key = `${tenantId} ${cubes.join(',')}`;
          holds.add(key);
          return () => holds.delete(key);
        },
        catchUp: () => new Promise<void>((r) => (caughtUp = r)),
      },
      invalidate: (tenantId, cubes) => log.push(`invalidate ${tenantId} ${cubes?.join(',') ?? '*'}`),
      logger: { warn: () => undefined },
    });
    writers.immediate.onChange((e) => log.push(`live ${e.tenantId} ${e.cubes.join(',')}`));
    writers.settled.onChange((e) => log.push(`alerts ${e.tenantId} ${e.cubes.join(',')}`));
    const change: ChangeEvent = { tenantId: 'acme', cubes: ['ad_performance', 'ad_performance'] };

    await writers.signals.publish(change);
    await settle();
    // The writer has answered: this instance's live queries re-evaluated (reading the facts: held).
    expect(log).toEqual(['invalidate acme ad_performance', 'live acme ad_performance']);
    expect([...holds]).toEqual(['acme ad_performance']);
    expect(here.writeState('acme', 'ad_performance')).toEqual({ begun: 1, open: 1 });

    caughtUp();
    await writers.drain();
    await settle();
    // Cached results go again (the next read the rollups), then alerts and the other instance hear
    // of it; our own notification coming back is skipped: one delivery per handler.
    expect(log).toEqual([
      'invalidate acme ad_performance',
      'live acme ad_performance',
      'invalidate acme ad_performance',
      'alerts acme ad_performance',
      'there acme ad_performance',
    ]);
    expect(holds.size).toBe(0);
    expect(here.writeState('acme', 'ad_performance')).toEqual({ begun: 1, open: 0 });
    // Another instance's change reaches every handler here, through the bus.
    await there.publish({ tenantId: 'globex', cubes: ['web_sessions'] });
    await settle();
    expect(log.slice(-3).sort()).toEqual(['alerts globex web_sessions', 'live globex web_sessions', 'there globex web_sessions']);
    await Promise.all([here.close(), there.close()]);
  });

  it('publishing to "here" or "others" only reaches that side', async () => {
    const shared = bus();
    const a = await createNotifySignals(shared);
    const b = await createNotifySignals(shared);
    const got: string[] = [];
    a.onChange(() => got.push('a'));
    b.onChange(() => got.push('b'));
    await a.publish({ tenantId: 'acme', cubes: [] }, 'here');
    await settle();
    expect(got).toEqual(['a']);
    await a.publish({ tenantId: 'acme', cubes: [] }, 'others');
    await settle();
    expect(got).toEqual(['a', 'b']);
    await Promise.all([a.close(), b.close()]);
  });
});
