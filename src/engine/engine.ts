/** The engine contract. engine/ is the only folder importing @clickhouse/client or chdb. */

export interface EngineQueryOptions {
  /** Lets a caller cancel the query (SQL proxy cancel requests, client disconnects). */
  readonly signal?: AbortSignal;
  readonly queryId?: string;
  /** Overrides the configured per-query timeout. */
  readonly timeoutMs?: number;
  /**
   * Upkeep the server does on its own (rollup maintenance): not counted in `stats().queries`, which
   * counts the statements requests cause; `onQuery` listeners see it flagged `internal`.
   */
  readonly internal?: boolean;
}

/**
 * Pre-serialized row formats. Line-delimited JSON the engine parses natively (compact skips key
 * matching: ~1.5x faster); RowBinaryWithDefaults needs no parsing at all (ClickHouse >= 23.x; see
 * Engine.acceptsFormat).
 */
export type RawInsertFormat = 'JSONEachRow' | 'JSONCompactEachRow' | 'RowBinaryWithDefaults';

/** Per-insert options. */
export interface InsertOptions {
  /**
   * ClickHouse insert_deduplication_token: a block whose token the table has already stored is
   * dropped (tables with non_replicated_deduplication_window). Same token, same data -> stored once.
   */
  readonly deduplicationToken?: string;
}

/** Formats the engine writes a result file in itself (exports). */
export type ExportFormat = 'CSVWithNames' | 'Parquet' | 'JSONEachRow' | 'JSONCompactEachRow';

export interface EngineResult<T = Record<string, unknown>> {
  readonly rows: T[];
  readonly elapsedMs: number;
}

export interface EngineStats {
  /** Number of SELECT statements executed since start, upkeep excluded (tests assert batching with it). */
  readonly queries: number;
  readonly errors: number;
}

export interface Engine {
  readonly kind: 'chdb' | 'http';
  readonly database: string;
  /** Run a SELECT with ClickHouse query parameters; rows as JSON objects. */
  query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>, options?: EngineQueryOptions): Promise<EngineResult<T>>;
  /** DDL / statements without a result. */
  command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Insert JS objects into a table of the configured database. */
  insert(table: string, rows: readonly Record<string, unknown>[], options?: InsertOptions): Promise<void>;
  /**
   * Insert rows already serialized: JSONEachRow (one object per line), JSONCompactEachRow (one
   * array per line, values in `columns` order; null in a non-Nullable column takes its default) or
   * RowBinaryWithDefaults (values in `columns` order, each after a default flag).
   */
  insertRaw(table: string, body: Buffer, format: RawInsertFormat, columns?: readonly string[], options?: InsertOptions): Promise<void>;
  /** Whether the engine reads this insert format (system.formats; asked once). Absent: JSON only. */
  acceptsFormat?(format: RawInsertFormat): Promise<boolean>;
  /**
   * Runs a SELECT and writes its whole result to `file` in `format`, written by ClickHouse itself
   * (chDB: INTO OUTFILE; HTTP: the response streamed to disk), never held in memory. Returns bytes written.
   */
  exportTo?(
    sql: string,
    params: Readonly<Record<string, unknown>>,
    format: ExportFormat,
    file: string,
    options?: EngineQueryOptions,
  ): Promise<{ bytes: number }>;
  /** Best-effort server-side cancel of a running query. */
  cancel(queryId: string): Promise<void>;
  ping(): Promise<boolean>;
  stats(): EngineStats;
  /** Called for each finished query (metrics). */
  onQuery(listener: (e: { sql: string; elapsedMs: number; ok: boolean; internal?: boolean }) => void): void;
  close(): Promise<void>;
}
