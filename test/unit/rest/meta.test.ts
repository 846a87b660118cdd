import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../../src/query/catalog.js';
import { toCubeMeta } from '../../../src/rest/meta.js';
import { fixtureModel, principal } from './fixtures.js';

const model = fixtureModel();
type J = Record<string, any>;

describe('toCubeMeta', () => {
  it("has Cube's shape: cubes with typed, visible measures, dimensions and segments", () => {
    const { cubes } = toCubeMeta(model, buildCatalog(model, principal())) as { cubes: J[] };
    const perf = cubes.find((c) => c.name === 'ad_performance')!;
    expect(perf).toMatchObject({
      name: 'ad_performance',
      type: 'cube',
      description: 'Daily ad metrics per campaign',
      meta: { owner: 'growth' },
      isVisible: true,
      public: true,
    });
    const clicks = perf.measures.find((m: J) => m.name === 'ad_performance.clicks');
    expect(clicks).toMatchObject({
      name: 'ad_performance.clicks',
      type: 'number',
      aggType: 'sum',
      cumulative: false,
      drillMembers: ['ad_performance.id', 'campaigns.name'],
      isVisible: true,
      public: true,
    });
    expect(typeof clicks.title).toBe('string');
    expect(typeof clicks.shortTitle).toBe('string');
    expect(perf.measures.find((m: J) => m.name === 'ad_performance.clicks_7d')).toMatchObject({ cumulative: true, cumulativeTotal: true });
    expect(perf.dimensions.find((d: J) => d.name === 'ad_performance.date')).toMatchObject({ type: 'time', primaryKey: false, suggestFilterValues: true });
    expect(cubes.find((c) => c.name === 'marketing')).toMatchObject({ type: 'view', connectedComponent: undefined });
  });

  it('lists only what the principal may read (cost needs finance:read)', () => {
    const names = (p: ReturnType<typeof principal>) =>
      (toCubeMeta(model, buildCatalog(model, p)).cubes as J[]).flatMap((c) => c.measures.map((m: J) => m.name));
    expect(names(principal())).not.toContain('ad_performance.cost');
    expect(names(principal(['metrics:read', 'marketing:read', 'finance:read']))).toContain('ad_performance.cost');
    // no hidden members at all
    expect(names(principal(['metrics:read', 'marketing:read', 'finance:read']))).not.toContain('ad_performance.running_cost');
  });

  it('joined cubes share a connected component', () => {
    const { cubes } = toCubeMeta(model, buildCatalog(model, principal())) as { cubes: J[] };
    const comp = Object.fromEntries(cubes.map((c) => [c.name, c.connectedComponent]));
    expect(comp.ad_performance).toBe(1);
    expect(comp.campaigns).toBe(1);
    expect(comp.channels).toBe(1);
  });

  it('onlyViews keeps the views', () => {
    const { cubes } = toCubeMeta(model, buildCatalog(model, principal()), { onlyViews: true }) as { cubes: J[] };
    expect(cubes.map((c) => c.name)).toEqual(['marketing']);
  });
});
