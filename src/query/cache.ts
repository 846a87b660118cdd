/**
 * Result cache. Keys always include the tenant and the caller's scope set, so an entry can never
 * be served across tenants or across different scopes. Entries are tagged with the cubes they
 * read and dropped when a refresh key changes or Strata ingests into one of them.
 */
export interface CacheEntry<V> {
  readonly value: V;
  readonly tenantId: string;
  readonly cubes: readonly string[];
  readonly storedAt: number;
}

/** Invalidating this "tenant" drops every tenant's entries (tenant ids never contain '*'). */
export const ALL_TENANTS = '*';

export class ResultCache<V> {
  private readonly entries = new Map<string, CacheEntry<V>>();
  /** Bumped on every invalidation of (tenant, cube): a load that started before it may not store. */
  private readonly generations = new Map<string, number>();
  private readonly tenantGenerations = new Map<string, number>();
  /** Bumped by invalidate(ALL_TENANTS): a resync after a gap in change signals. */
  private allGeneration = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(tenantId: string, scopes: ReadonlySet<string>, statement: string): string {
    return `${tenantId}\u0000${[...scopes].sort().join(' ')}\u0000${statement}`;
  }

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0;
  }

  get(key: string): CacheEntry<V> | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.storedAt > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    // refresh LRU position
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  /** Counts every invalidation of a tenant (for callers that learn the cubes only afterwards). */
  tenantGeneration(tenantId: string): number {
    return (this.tenantGenerations.get(tenantId) ?? 0) + this.allGeneration;
  }

  /** Snapshot to pass to set(): results read before a later invalidation are not stored. */
  generation(tenantId: string, cubes: readonly string[]): string {
    return `${cubes.map((c) => this.generations.get(`${tenantId}\u0000${c}`) ?? 0).join(',')}|${this.generations.get(`${tenantId}\u0000*`) ?? 0}|${this.allGeneration}`;
  }

  set(key: string, tenantId: string, cubes: readonly string[], value: V, generation?: string): void {
    if (!this.enabled) return;
    if (generation !== undefined && generation !== this.generation(tenantId, cubes)) return;
    this.entries.delete(key);
    this.entries.set(key, { value, tenantId, cubes, storedAt: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Drop a tenant's entries reading any of `cubes` (all its entries when cubes is undefined). */
  invalidate(tenantId: string, cubes?: readonly string[]): number {
    if (tenantId === ALL_TENANTS) {
      this.allGeneration++;
      const n = this.entries.size;
      this.entries.clear();
      return n;
    }
    this.tenantGenerations.set(tenantId, this.tenantGeneration(tenantId) + 1);
    for (const c of cubes ?? ['*']) {
      const g = `${tenantId}\u0000${c}`;
      this.generations.set(g, (this.generations.get(g) ?? 0) + 1);
    }
    let dropped = 0;
    for (const [k, e] of this.entries) {
      if (e.tenantId !== tenantId) continue;
      if (cubes && !e.cubes.some((c) => cubes.includes(c))) continue;
      this.entries.delete(k);
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
