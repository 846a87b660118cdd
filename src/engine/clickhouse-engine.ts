/** The Engine over a Transport: timeouts, cancellation, error mapping, stats and listeners. */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ClickHouseSettings } from '@clickhouse/client';
import { EngineError } from '../errors.js';
import type { Engine, EngineQueryOptions, EngineResult, EngineStats, ExportFormat, InsertOptions, RawInsertFormat } from './engine.js';
import { toEngineError, type StopReason } from './errors.js';
import { quoteIdent, type Transport } from './transport.js';

export interface EngineSettings {
  readonly database: string;
  readonly queryTimeoutMs: number;
}

type QueryListener = (e: { sql: string; elapsedMs: number; ok: boolean; internal?: boolean }) => void;

interface Running {
  readonly token: string;
  readonly queryId: string;
  /** Aborts the call and sends the engine's KILL; resolves once the KILL was answered. */
  stop(reason: Exclude<StopReason, undefined>): Promise<void>;
  /** Settles when the statement's call has returned. */
  readonly done: Promise<void>;
}

/**
 * At close, statements in flight (background upkeep: requests were drained before) get this long
 * to finish on their own, and again after their KILL. Closing libchdb under a running statement
 * can leave the process's exit() waiting on chDB's locks forever.
 */
const CLOSE_GRACE_MS = 3_000;

/** Lets the server report its own timeout first; the client-side abort is the backstop. */
const CLIENT_GRACE_MS = 150;

/**
 * chDB keeps SET values for the session: statements without a deadline reset them, and no
 * statement inherits an earlier insert's deduplication token (it would drop unrelated inserts).
 */
const UNBOUNDED: ClickHouseSettings = { max_execution_time: 0, log_comment: '', insert_deduplication_token: '' };

export class ClickHouseEngine implements Engine {
  readonly kind: 'chdb' | 'http';
  readonly database: string;
  private readonly timeoutMs: number;
  private ready: Promise<void> | undefined;
  private readonly listeners: QueryListener[] = [];
  private readonly running = new Map<string, Running>();
  private queries = 0;
  private errors = 0;
  private closed = false;
  private inputFormats: Promise<ReadonlySet<string>> | undefined;

  constructor(
    private readonly transport: Transport,
    settings: EngineSettings,
  ) {
    this.kind = transport.kind;
    this.database = settings.database;
    this.timeoutMs = settings.queryTimeoutMs;
    quoteIdent(settings.database);
  }

  async query<T = Record<string, unknown>>(
    sql: string,
    params?: Readonly<Record<string, unknown>>,
    options: EngineQueryOptions = {},
  ): Promise<EngineResult<T>> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (options.signal?.aborted) throw new EngineError('QUERY_CANCELLED', 'query was cancelled before it started', sql, copy(params));
    await this.ensureReady(sql, params);
    if (!options.internal) this.queries++;
    const queryId = options.queryId ?? randomUUID();
    const token = randomUUID();
    const abort = new AbortController();
    let stopReason: StopReason;
    let killed: Promise<void> = Promise.resolve();
    const stop = (reason: Exclude<StopReason, undefined>) => {
      if (stopReason) return killed;
      stopReason = reason;
      abort.abort();
      killed = this.kill(token, queryId);
      return killed;
    };
    const onCallerAbort = () => void stop('cancelled');
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => void stop('timeout'), timeoutMs + CLIENT_GRACE_MS);
    let returned!: () => void;
    const done = new Promise<void>((resolve) => (returned = resolve));
    this.running.set(queryId, { token, queryId, stop, done });
    const started = performance.now();
    try {
      const rs = await this.transport.main.query({
        query: sql,
        format: 'JSONEachRow',
        query_params: params ? { ...params } : undefined,
        query_id: queryId,
        abort_signal: abort.signal,
        clickhouse_settings: {
          max_execution_time: Math.max(timeoutMs, 1) / 1000,
          // Upserts: fact tables are ReplacingMergeTree; every read sees one row per natural key
          // (FINAL on each table where it applies, a no-op on plain MergeTree and system tables).
          final: 1,
          ...this.transport.markSettings(token, queryId),
        },
      });
      const rows = (await rs.json()) as T[];
      if (stopReason) throw new Error(`query stopped: ${stopReason}`);
      const elapsedMs = performance.now() - started;
      this.emit(sql, elapsedMs, true, options.internal);
      return { rows, elapsedMs };
    } catch (err) {
      this.errors++;
      this.emit(sql, performance.now() - started, false, options.internal);
      throw toEngineError(err, { sql, params, stopReason, timeoutMs });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
      this.running.delete(queryId);
      returned();
    }
  }

  /** Exports: same deadline, cancellation, FINAL reads and error mapping as query(); the rows go to a file. */
  async exportTo(
    sql: string,
    params: Readonly<Record<string, unknown>>,
    format: ExportFormat,
    file: string,
    options: EngineQueryOptions = {},
  ): Promise<{ bytes: number }> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (options.signal?.aborted) throw new EngineError('QUERY_CANCELLED', 'query was cancelled before it started', sql, copy(params));
    await this.ensureReady(sql, params);
    this.queries++;
    const abort = new AbortController();
    let stopReason: StopReason;
    const stop = (reason: Exclude<StopReason, undefined>) => {
      if (stopReason) return;
      stopReason = reason;
      abort.abort();
    };
    const onCallerAbort = () => stop('cancelled');
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), timeoutMs + CLIENT_GRACE_MS);
    const started = performance.now();
    try {
      await this.transport.exportTo(sql, params, format, file, { max_execution_time: Math.max(timeoutMs, 1) / 1000, final: 1 }, abort.signal);
      if (stopReason) throw new Error(`query stopped: ${stopReason}`);
      this.emit(sql, performance.now() - started, true);
      return { bytes: (await stat(file)).size };
    } catch (err) {
      this.errors++;
      this.emit(sql, performance.now() - started, false);
      throw toEngineError(err, { sql, params, stopReason, timeoutMs });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void> {
    await this.ensureReady(sql, params);
    try {
      await this.transport.main.command({
        query: sql,
        query_params: params ? { ...params } : undefined,
        clickhouse_settings: this.transport.kind === 'chdb' ? UNBOUNDED : undefined,
      });
    } catch (err) {
      this.errors++;
      throw toEngineError(err, { sql, params, stopReason: undefined, timeoutMs: 0 });
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[], options: InsertOptions = {}): Promise<void> {
    const sql = `INSERT INTO ${quoteIdent(table)} FORMAT JSONEachRow`;
    if (rows.length === 0) return;
    await this.ensureReady(sql);
    try {
      await this.transport.main.insert({
        table: quoteIdent(table),
        values: rows as Record<string, unknown>[],
        format: 'JSONEachRow',
        clickhouse_settings: {
          ...(this.transport.kind === 'chdb' ? UNBOUNDED : {}),
          date_time_input_format: 'best_effort',
          insert_deduplication_token: options.deduplicationToken ?? '',
        },
      });
    } catch (err) {
      this.errors++;
      throw toEngineError(err, { sql, stopReason: undefined, timeoutMs: 0 });
    }
  }

  /** Pre-serialized rows (ingestion's fast path). */
  async insertRaw(
    table: string,
    body: Buffer,
    format: RawInsertFormat = 'JSONEachRow',
    columns?: readonly string[],
    options: InsertOptions = {},
  ): Promise<void> {
    const sql = `INSERT INTO ${quoteIdent(table)} FORMAT ${format}`;
    if (body.length === 0) return;
    if (format !== 'JSONEachRow' && !columns?.length) throw new Error(`insertRaw: ${format} needs the column list`);
    await this.ensureReady(sql);
    try {
      await this.transport.insertRaw(table, body, format, columns, options.deduplicationToken);
    } catch (err) {
      this.errors++;
      throw toEngineError(err, { sql, stopReason: undefined, timeoutMs: 0 });
    }
  }

  async acceptsFormat(format: RawInsertFormat): Promise<boolean> {
    if (!this.inputFormats) {
      this.inputFormats = this.query<{ name: string }>('SELECT name FROM system.formats WHERE is_input', {}, { internal: true }).then(
        ({ rows }) => new Set(rows.map((r) => r.name)),
      );
      this.inputFormats.catch(() => (this.inputFormats = undefined)); // asked again next time
    }
    return (await this.inputFormats).has(format);
  }

  async cancel(queryId: string): Promise<void> {
    const running = this.running.get(queryId);
    if (running) {
      void running.stop('cancelled');
      return;
    }
    // Not ours (another process / replica): still try the server, which knows HTTP query ids.
    if (this.transport.kind === 'http') await this.kill('', queryId);
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.ensureReady('SELECT 1');
      const r = await this.transport.control.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  stats(): EngineStats {
    return { queries: this.queries, errors: this.errors };
  }

  onQuery(listener: QueryListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const inFlight = () => [...this.running.values()];
    await settledWithin(
      inFlight().map((r) => r.done),
      CLOSE_GRACE_MS,
    );
    const left = inFlight();
    await Promise.allSettled(left.map((r) => r.stop('cancelled')));
    await settledWithin(
      left.map((r) => r.done),
      CLOSE_GRACE_MS,
    );
    await this.transport.close();
  }

  private ensureReady(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.closed) {
      return Promise.reject(new EngineError('ENGINE_UNAVAILABLE', 'the engine is closed', sql, copy(params)));
    }
    if (!this.ready) {
      this.ready = this.transport.init(this.database).catch((err: unknown) => {
        this.ready = undefined; // a server that comes back later is retried on the next call
        const e = toEngineError(err, { sql: `CREATE DATABASE IF NOT EXISTS ${this.database}`, stopReason: undefined, timeoutMs: 0 });
        throw e.code === 'ENGINE_ERROR' ? e : new EngineError('ENGINE_UNAVAILABLE', e.message, sql, copy(params), err);
      });
    }
    return this.ready;
  }

  /** Best effort: the query may already be over, or the server gone. */
  private async kill(token: string, queryId: string): Promise<void> {
    try {
      const stmt = this.transport.killStatement(token, queryId);
      await this.transport.control.command({ query: stmt.sql, query_params: stmt.params });
    } catch {
      /* ignored: the caller already has its answer (cancelled / timed out) */
    }
  }

  private emit(sql: string, elapsedMs: number, ok: boolean, internal?: boolean): void {
    for (const l of this.listeners) {
      try {
        l({ sql, elapsedMs, ok, ...(internal ? { internal } : {}) });
      } catch {
        /* a metrics listener must never break a query */
      }
    }
  }
}

/** Waits for every promise to settle, or `ms`, whichever comes first. */
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

function copy(params?: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  return params ? { ...params } : undefined;
}
