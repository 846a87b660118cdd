import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../../src/query/cache.js';
import { sortAndSlice } from '../../../src/query/merge.js';

describe('ResultCache', () => {
  const scopesA = new Set(['metrics:read']);
  const scopesB = new Set(['metrics:read', 'finance:read']);

  it('keys by tenant, scope set and statement, so nothing is shared across tenants or scopes', () => {
    const k1 = ResultCache.key('acme', scopesA, 'SELECT 1');
    expect(ResultCache.key('globex', scopesA, 'SELECT 1')).not.toBe(k1);
    expect(ResultCache.key('acme', scopesB, 'SELECT 1')).not.toBe(k1);
    expect(ResultCache.key('acme', new Set(['metrics:read']), 'SELECT 1')).toBe(k1);
  });

  it('expires entries after the TTL and evicts the least recently used beyond the cap', () => {
    let now = 0;
    const cache = new ResultCache<number>(1_000, 2, () => now);
    cache.set('a', 'acme', ['ad_performance'], 1);
    cache.set('b', 'acme', ['ad_performance'], 2);
    expect(cache.get('a')?.value).toBe(1); // a is now most recent
    cache.set('c', 'acme', ['ad_performance'], 3);
    expect(cache.get('b')).toBeUndefined();
    now = 1_001;
    expect(cache.get('a')).toBeUndefined();
  });

  it("invalidates one tenant's entries for the given cubes only", () => {
    const cache = new ResultCache<number>(60_000, 100);
    cache.set('a', 'acme', ['ad_performance'], 1);
    cache.set('b', 'acme', ['clients'], 2);
    cache.set('c', 'globex', ['ad_performance'], 3);
    expect(cache.invalidate('acme', ['ad_performance'])).toBe(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.value).toBe(2);
    expect(cache.get('c')?.value).toBe(3);
  });

  it('refuses to store a result read before an invalidation of its cubes', () => {
    const cache = new ResultCache<number>(60_000, 100);
    const generation = cache.generation('acme', ['ad_performance']);
    cache.invalidate('acme', ['ad_performance']); // an ingest lands while the query runs
    cache.set('a', 'acme', ['ad_performance'], 1, generation);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 'acme', ['ad_performance'], 2, cache.generation('acme', ['ad_performance']));
    expect(cache.get('a')?.value).toBe(2);
  });

  it('is disabled with a zero TTL', () => {
    const cache = new ResultCache<number>(0, 100);
    cache.set('a', 'acme', [], 1);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('sortAndSlice (re-ordering a merged result per query)', () => {
  const rows = [
    { p: 'b', n: 2 },
    { p: 'a', n: null },
    { p: 'c', n: 5 },
  ];
  it('sorts with NULLs last in both directions, then slices', () => {
    expect(sortAndSlice(rows, [['n', 'desc']], 10, 0).map((r) => r.p)).toEqual(['c', 'b', 'a']);
    expect(sortAndSlice(rows, [['n', 'asc']], 10, 0).map((r) => r.p)).toEqual(['b', 'c', 'a']);
    expect(sortAndSlice(rows, [['p', 'asc']], 1, 1).map((r) => r.p)).toEqual(['b']);
  });
});
