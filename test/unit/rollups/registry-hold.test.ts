/**
 * While a write of this process to a tenant's cube is under way or not folded into the rollups yet,
 * that tenant's queries read the cube's facts: the registry leaves the held cube's rollups out of
 * that tenant's availability only.
 */
import { describe, expect, it } from 'vitest';
import type { RollupMaintainer } from '../../../src/rollups/maintainer.js';
import { createRollupRegistry } from '../../../src/rollups/registry.js';
import type { RollupBuildReport } from '../../../src/rollups/warehouse.js';

const ready = new Map(
  ['ad_performance.daily', 'ad_performance.daily_by_platform', 'web_sessions.daily_by_channel'].map((name) => [
    name,
    { table: `rollup_${name}`, timeIsDate: true },
  ]),
) as unknown as RollupBuildReport['ready'];
const maintainer = { refresh: async () => ({}), invalidate: async () => ({}), start() {}, stop() {} } as unknown as RollupMaintainer;
const names = (m: ReadonlyMap<string, unknown> | undefined) => (m ? [...m.keys()].sort() : m);

describe('rollup holds', () => {
  it("leave the held cubes' rollups out for that tenant only, until every hold is released", async () => {
    const r = createRollupRegistry();
    expect(r.availability('acme')).toBeUndefined(); // not built yet
    await r.activate({ ready, planned: [], built: [], dropped: [] }, maintainer);
    const all = names(r.availability('acme'));
    expect(all).toEqual(['ad_performance.daily', 'ad_performance.daily_by_platform', 'web_sessions.daily_by_channel']);

    const first = r.hold('acme', ['ad_performance']);
    const second = r.hold('acme', ['ad_performance']);
    expect(names(r.availability('acme'))).toEqual(['web_sessions.daily_by_channel']);
    expect(names(r.availability('globex'))).toEqual(all);
    expect(names(r.availability())).toEqual(all);
    first();
    first(); // idempotent: the second hold still stands
    expect(names(r.availability('acme'))).toEqual(['web_sessions.daily_by_channel']);
    second();
    expect(names(r.availability('acme'))).toEqual(all);

    // An empty cube list is every cube of the tenant.
    const everything = r.hold('acme', []);
    expect(r.availability('acme')).toBeUndefined();
    expect(names(r.availability('globex'))).toEqual(all);
    everything();
    expect(names(r.availability('acme'))).toEqual(all);
  });
});
