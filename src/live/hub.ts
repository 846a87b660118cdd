/**
 * The fan-out hub: identical subscriptions share ONE evaluation and every result is fanned out
 * to all their watchers. Pure scheduling logic; what "evaluate" means is injected (the live
 * service runs the query service), so the sharing rules are unit-tested without a database.
 *
 * - Shared queries are keyed by `spec.key` (tenant + scope set + canonical query: see key.ts).
 * - Evaluations are coalesced: a change that arrives while one runs marks the query dirty and
 *   causes exactly one more run after it; bursts of changes in one tick cause one run.
 * - Dirty queries of the same group (tenant + scope set) are evaluated together, so the caller
 *   can use one RequestContext (and its batching) for them.
 * - A new result is pushed only when its version differs from the last one.
 */
import { UnauthenticatedError, UserError } from '../errors.js';
import { LatestValueIterator, type Versioned } from './subscriber.js';

export interface LiveQuerySpec<Q> {
  /** Sharing key: equal keys share one evaluation. Must contain tenant and scope set. */
  readonly key: string;
  /** Evaluations of one group may share one request context: tenant + scope set. */
  readonly groupKey: string;
  readonly tenantId: string;
  /** Cubes the query reads (after joins and views): a change to any of them re-evaluates it. */
  readonly cubes: readonly string[];
  /** What the evaluator receives. Taken from the first subscriber of a key. */
  readonly input: Q;
}

export interface EvaluationBatch<Q> {
  readonly tenantId: string;
  readonly groupKey: string;
  readonly inputs: readonly Q[];
  /** Union of the cubes the inputs read. */
  readonly cubes: readonly string[];
  /** True when at least one input was evaluated before (a re-evaluation after a change). */
  readonly refresh: boolean;
}

export interface HubOptions<Q, R> {
  /**
   * Evaluates a group: one promise per input, in order. Each result is pushed as soon as its own
   * promise settles, so a fast query's watchers do not wait for the slowest query of the group.
   */
  evaluate(batch: EvaluationBatch<Q>): readonly Promise<R>[];
  /** Content identity of a result (equal content, equal version). */
  version(result: R): string;
  readonly maxPerTenant: number;
  readonly onEvaluated?: (count: number) => void;
  readonly onDeliver?: () => void;
  readonly onSubscriberCount?: (tenantId: string, count: number) => void;
  readonly onError?: (error: unknown, spec: LiveQuerySpec<Q>) => void;
  /**
   * Consecutive failed re-evaluations after which the subscribers get the error (the subscription
   * ends with it) instead of silently keeping a stale result. Default 3.
   */
  readonly maxConsecutiveFailures?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export interface SubscribeOptions {
  /** Epoch seconds after which the subscription fails with UNAUTHENTICATED ("token expired"). */
  readonly expiresAt?: number;
}

export interface HubStats {
  readonly subscriptions: number;
  readonly sharedQueries: number;
  readonly evaluations: number;
  readonly pushes: number;
  readonly byTenant: Readonly<Record<string, number>>;
}

interface Shared<Q, R> {
  readonly spec: LiveQuerySpec<Q>;
  readonly subscribers: Set<LatestValueIterator<R>>;
  current?: Versioned<R>;
  running: boolean;
  dirty: boolean;
  removed: boolean;
  /** Failed evaluations since the last success. */
  failures?: number;
}

const MAX_TIMER_MS = 2_147_483_647;
/** The transport closes an expired connection itself (ws.ts: 4401); the hub's own end is the backstop. */
const EXPIRY_GRACE_MS = 1_000;

export class LiveHub<Q, R> {
  private readonly byKey = new Map<string, Shared<Q, R>>();
  private readonly byTenant = new Map<string, Set<Shared<Q, R>>>();
  private readonly tenantCounts = new Map<string, number>();
  private readonly queue = new Set<Shared<Q, R>>();
  private flushScheduled = false;
  private closed = false;
  private evaluations = 0;
  private pushes = 0;
  private readonly now: () => number;

  constructor(private readonly options: HubOptions<Q, R>) {
    this.now = options.now ?? Date.now;
  }

  subscribe(spec: LiveQuerySpec<Q>, opts: SubscribeOptions = {}): LatestValueIterator<R> {
    if (this.closed) throw new UserError('ENGINE_UNAVAILABLE', 'live subscriptions are shutting down');
    const count = this.tenantCounts.get(spec.tenantId) ?? 0;
    if (count >= this.options.maxPerTenant) {
      throw new UserError('RATE_LIMITED', `too many live subscriptions for this tenant (limit ${this.options.maxPerTenant})`, {
        limit: this.options.maxPerTenant,
      });
    }
    const expiresInMs = opts.expiresAt === undefined ? undefined : opts.expiresAt * 1000 - this.now();
    if (expiresInMs !== undefined && expiresInMs <= 0) throw new UnauthenticatedError('token expired');

    let shared = this.byKey.get(spec.key);
    if (!shared) {
      shared = { spec, subscribers: new Set(), running: false, dirty: false, removed: false };
      this.byKey.set(spec.key, shared);
      let set = this.byTenant.get(spec.tenantId);
      if (!set) this.byTenant.set(spec.tenantId, (set = new Set()));
      set.add(shared);
      this.markDirty(shared);
    }
    const s = shared;
    let timer: NodeJS.Timeout | undefined;
    const iterator = new LatestValueIterator<R>(
      () => {
        if (timer) clearTimeout(timer);
        this.detach(s, iterator);
      },
      () => {
        this.pushes++;
        this.options.onDeliver?.();
      },
    );
    s.subscribers.add(iterator);
    this.setCount(spec.tenantId, count + 1);
    if (expiresInMs !== undefined) {
      timer = setTimeout(() => iterator.fail(new UnauthenticatedError('token expired')), Math.min(expiresInMs + EXPIRY_GRACE_MS, MAX_TIMER_MS));
      timer.unref();
    }
    if (s.current) iterator.push(s.current);
    return iterator;
  }

  /** The data of `cubes` changed for a tenant (empty cubes: all of its data). */
  changed(tenantId: string, cubes: readonly string[]): number {
    const set = this.byTenant.get(tenantId);
    if (!set) return 0;
    let n = 0;
    for (const s of set) {
      if (cubes.length === 0 || s.spec.cubes.some((c) => cubes.includes(c))) {
        this.markDirty(s);
        n++;
      }
    }
    return n;
  }

  /** Every shared query of every tenant is due (a resync after lost change signals). */
  changedAll(): number {
    let n = 0;
    for (const tenantId of [...this.byTenant.keys()]) n += this.changed(tenantId, []);
    return n;
  }

  /** Tenants with at least one live query. */
  tenants(): string[] {
    return [...this.byTenant.keys()];
  }

  /** Tenants with at least one live query reading `cube`. */
  tenantsReading(cube: string): string[] {
    const out: string[] = [];
    for (const [tenant, set] of this.byTenant) {
      for (const s of set) {
        if (s.spec.cubes.includes(cube)) {
          out.push(tenant);
          break;
        }
      }
    }
    return out;
  }

  /** A scope-group's principal input for a tenant reading `cube` (refresh-key checks reuse it). */
  anyInputReading(tenantId: string, cube: string): Q | undefined {
    for (const s of this.byTenant.get(tenantId) ?? []) if (s.spec.cubes.includes(cube)) return s.spec.input;
    return undefined;
  }

  stats(): HubStats {
    let subscriptions = 0;
    const byTenant: Record<string, number> = {};
    for (const [t, n] of this.tenantCounts) {
      byTenant[t] = n;
      subscriptions += n;
    }
    return { subscriptions, sharedQueries: this.byKey.size, evaluations: this.evaluations, pushes: this.pushes, byTenant };
  }

  /** Ends every subscription (done) and stops evaluating. */
  close(): void {
    this.closed = true;
    this.queue.clear();
    for (const s of [...this.byKey.values()]) for (const it of [...s.subscribers]) it.end();
  }

  private setCount(tenantId: string, n: number): void {
    if (n === 0) this.tenantCounts.delete(tenantId);
    else this.tenantCounts.set(tenantId, n);
    this.options.onSubscriberCount?.(tenantId, n);
  }

  private detach(s: Shared<Q, R>, it: LatestValueIterator<R>): void {
    if (!s.subscribers.delete(it)) return;
    this.setCount(s.spec.tenantId, (this.tenantCounts.get(s.spec.tenantId) ?? 1) - 1);
    if (s.subscribers.size > 0) return;
    s.removed = true;
    this.queue.delete(s);
    if (this.byKey.get(s.spec.key) === s) this.byKey.delete(s.spec.key);
    const set = this.byTenant.get(s.spec.tenantId);
    set?.delete(s);
    if (set && set.size === 0) this.byTenant.delete(s.spec.tenantId);
  }

  private markDirty(s: Shared<Q, R>): void {
    if (s.removed || this.closed) return;
    s.dirty = true;
    if (s.running) return; // picked up again when the running evaluation settles
    this.queue.add(s);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const groups = new Map<string, Shared<Q, R>[]>();
    for (const s of this.queue) {
      if (s.removed || s.running || !s.dirty) continue;
      s.dirty = false;
      s.running = true;
      let g = groups.get(s.spec.groupKey);
      if (!g) groups.set(s.spec.groupKey, (g = []));
      g.push(s);
    }
    this.queue.clear();
    for (const g of groups.values()) void this.run(g);
  }

  private run(group: Shared<Q, R>[]): void {
    const cubes = [...new Set(group.flatMap((s) => s.spec.cubes))];
    const batch: EvaluationBatch<Q> = {
      tenantId: group[0].spec.tenantId,
      groupKey: group[0].spec.groupKey,
      inputs: group.map((s) => s.spec.input),
      cubes,
      refresh: group.some((s) => s.current !== undefined),
    };
    let results: readonly Promise<R>[];
    try {
      results = this.options.evaluate(batch);
    } catch (e) {
      results = group.map(() => Promise.reject(e));
    }
    this.options.onEvaluated?.(group.length);
    group.forEach((s, i) => {
      const result = results[i] ?? Promise.reject(new Error('live: evaluator returned too few results'));
      void result.then(
        (value) => this.settle(s, { status: 'fulfilled', value }),
        (reason: unknown) => this.settle(s, { status: 'rejected', reason }),
      );
    });
  }

  private settle(s: Shared<Q, R>, r: PromiseSettledResult<R>): void {
    this.evaluations++;
    s.running = false;
    if (!s.removed && !this.closed) this.apply(s, r);
    if (s.dirty && !s.removed) {
      s.dirty = false;
      this.markDirty(s);
    }
  }

  private apply(s: Shared<Q, R>, r: PromiseSettledResult<R>): void {
    if (r.status === 'fulfilled') {
      s.failures = 0;
      const v: Versioned<R> = { value: r.value, version: this.options.version(r.value) };
      if (s.current && s.current.version === v.version) return;
      s.current = v;
      for (const it of [...s.subscribers]) it.push(v);
      return;
    }
    this.options.onError?.(r.reason, s.spec);
    // Before any result, the subscribers learn why (the query cannot be answered); afterwards
    // they keep the last good result and the next change tries again, until failures repeat:
    // then a stale result would pass for a current one, so they get the error.
    s.failures = (s.failures ?? 0) + 1;
    if (!s.current || s.failures >= (this.options.maxConsecutiveFailures ?? 3)) {
      const err = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
      for (const it of [...s.subscribers]) it.fail(err);
    }
  }
}
