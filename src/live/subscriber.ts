/**
 * One watcher's end of a shared live query: an async iterator with latest-value semantics.
 * It holds at most ONE unsent value: a slow consumer skips intermediate results instead of
 * growing a queue, so memory per subscriber is bounded whatever the push rate.
 */

export interface Versioned<T> {
  readonly value: T;
  /** Equal versions mean equal content; a subscriber never receives the same version twice in a row. */
  readonly version: string;
}

export class LatestValueIterator<T> implements AsyncIterableIterator<T> {
  private pending: Versioned<T> | undefined;
  private lastSent: string | undefined;
  private failure: Error | undefined;
  private finished = false;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  private cleanup: (() => void) | undefined;

  constructor(
    cleanup: () => void,
    private readonly onDeliver?: () => void,
  ) {
    this.cleanup = cleanup;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Offers a new value. Replaces any unsent one (latest wins). */
  push(v: Versioned<T>): void {
    if (this.finished || this.failure) return;
    if (this.waiter && v.version !== this.lastSent) {
      const w = this.waiter;
      this.waiter = undefined;
      this.lastSent = v.version;
      this.onDeliver?.();
      w.resolve({ value: v.value, done: false });
      return;
    }
    this.pending = v;
  }

  /** Ends the stream with an error: the consumer's next() rejects once, then the iterator is done. */
  fail(error: Error): void {
    if (this.finished) return;
    this.pending = undefined;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      this.finish();
      w.reject(error);
      return;
    }
    this.failure = error;
    this.release();
  }

  /** Ends the stream normally (server shutdown). */
  end(): void {
    if (this.finished) return;
    this.pending = undefined;
    this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending && this.pending.version !== this.lastSent) {
      const v = this.pending;
      this.pending = undefined;
      this.lastSent = v.version;
      this.onDeliver?.();
      return Promise.resolve({ value: v.value, done: false });
    }
    this.pending = undefined;
    if (this.failure) {
      const e = this.failure;
      this.failure = undefined;
      this.finish();
      return Promise.reject(e);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('live: next() called while a previous next() is pending'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private finish(): void {
    this.finished = true;
    this.failure = undefined;
    const w = this.waiter;
    this.waiter = undefined;
    this.release();
    w?.resolve({ value: undefined, done: true });
  }

  private release(): void {
    const c = this.cleanup;
    this.cleanup = undefined;
    c?.();
  }
}
