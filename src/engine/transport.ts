/**
 * The two ways to reach ClickHouse behind one client API: embedded chDB (in-process) or HTTP.
 * A transport owns the @clickhouse/client instances and knows how to find a running query again
 * (to kill it), because chDB ignores client-supplied query ids.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { Session as ChdbSession } from 'chdb';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { createChdbConnection as CreateChdbConnection } from 'chdb/connection';
import type { ExportFormat, RawInsertFormat } from './engine.js';

/** Settings on every statement: numbers come back as JSON numbers on every server version. */
export const BASE_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_64bit_floats: 0,
  output_format_json_quote_decimals: 0,
  output_format_json_quote_denormals: 0,
};

/** Failures surface as EngineErrors to callers, who log them; the client's own logger would duplicate them. */
const SILENT = { level: ClickHouseLogLevel.OFF };

export interface KillStatement {
  readonly sql: string;
  readonly params?: Record<string, unknown>;
}

export interface Transport {
  readonly kind: 'chdb' | 'http';
  /** Runs queries, commands and inserts. */
  readonly main: ClickHouseClient;
  /** A second session for KILL QUERY and ping, so they are not queued behind a long query. */
  readonly control: ClickHouseClient;
  /** Creates the database and makes it the default for every statement on `main`. */
  init(database: string): Promise<void>;
  /** Settings that tag a query so `killStatement(token)` can find it. */
  markSettings(token: string, queryId: string): ClickHouseSettings;
  killStatement(token: string, queryId: string): KillStatement;
  /** Pre-serialized rows, parsed by the engine (no per-row JS work). `columns`: the compact format's order. */
  insertRaw(table: string, body: Buffer, format: RawInsertFormat, columns?: readonly string[], deduplicationToken?: string): Promise<void>;
  /** A SELECT's result written to `file` by the engine (see Engine.exportTo). */
  exportTo(
    sql: string,
    params: Readonly<Record<string, unknown>>,
    format: ExportFormat,
    file: string,
    settings: ClickHouseSettings,
    signal: AbortSignal,
  ): Promise<void>;
  close(): Promise<void>;
}

/** Export files are paths we make (a directory + a UUID name): checked anyway, since chDB takes the path as SQL text. */
const EXPORT_FILE = /^[A-Za-z0-9_\-./]+$/;
const EXPORT_FORMATS: ReadonlySet<string> = new Set(['CSVWithNames', 'Parquet', 'JSONEachRow', 'JSONCompactEachRow']);

function checkExport(format: string, file: string): void {
  if (!EXPORT_FILE.test(file) || file.includes('..')) throw new Error(`invalid export file path ${JSON.stringify(file)}`);
  if (!EXPORT_FORMATS.has(format)) throw new Error(`invalid export format ${format}`);
}

/** ClickHouse settings as SET statements for a chDB session (numbers and plain strings only). */
function setStatements(settings: ClickHouseSettings): string[] {
  return Object.entries(settings).flatMap(([k, v]) => {
    if (!/^[a-z_]+$/.test(k) || v === undefined) return [];
    return [typeof v === 'number' ? `SET ${k} = ${v}` : `SET ${k} = '${String(v).replace(/[\\']/g, '')}'`];
  });
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

const requireHere = createRequire(import.meta.url);

/**
 * chDB's native library, loaded on first use: it adds ~150 MiB of RSS to a process (measured:
 * 39 -> 188 MiB on require), which a deployment on a ClickHouse server (CLICKHOUSE_URL) never uses.
 */
function chdb(): { Session: typeof ChdbSession; createChdbConnection: typeof CreateChdbConnection } {
  const { Session } = requireHere('chdb') as { Session: typeof ChdbSession };
  const { createChdbConnection } = requireHere('chdb/connection') as { createChdbConnection: typeof CreateChdbConnection };
  return { Session, createChdbConnection };
}

/** chdb types the Connection against its own copy of @clickhouse/client-common; same shape at runtime. */
function chdbConnection(path: string): ClientConnection {
  return chdb().createChdbConnection({ path }) as unknown as ClientConnection;
}

const TOKEN = /^[0-9a-f-]{36}$/;

/** Raw inserts: no deadline (chDB keeps session settings), null -> the column's default. */
const INSERT_SETTINGS = { date_time_input_format: 'best_effort', input_format_null_as_default: 1, max_execution_time: 0 };

/** A ClickHouse string literal: only backslash and quote can end it. */
function literal(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const SPOOL_PREFIX = 'strata-insert-';

/**
 * Where binary inserts are spooled for chDB: memory-backed /dev/shm when there is one, the temp
 * directory when not (or when /dev/shm is full: containers get 64 MB by default). One directory
 * per process and base, named after its pid; directories of processes that are gone (kill -9) are
 * removed when the next one is made.
 */
function makeSpoolDir(base: string): string {
  for (const name of readdirSync(base)) {
    if (!name.startsWith(SPOOL_PREFIX)) continue;
    const pid = Number(name.slice(SPOOL_PREFIX.length).split('-')[0]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(base, `${SPOOL_PREFIX}${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * chDB: libchdb binds one data directory per process. A session runs one statement at a time,
 * so cancel goes through a second session on the same path. chDB synthesises its own query ids
 * and drops SQL comments from parameterised queries, so a query is tagged with `log_comment`.
 */
export interface ChdbTransportOptions {
  /** Memory-backed directory for binary inserts' spool files (default /dev/shm; the temp dir when unusable). */
  readonly spoolBase?: string;
}

export function chdbTransport(path: string, options: ChdbTransportOptions = {}): Transport {
  const shm = options.spoolBase ?? '/dev/shm';
  mkdirSync(path, { recursive: true });
  const { Session, createChdbConnection } = chdb();
  const mainConnection = createChdbConnection({ path });
  const main = createClient({ connection: mainConnection as unknown as ClientConnection, clickhouse_settings: BASE_SETTINGS, log: SILENT });
  const control = createClient({ connection: chdbConnection(path), clickhouse_settings: BASE_SETTINGS, log: SILENT });
  let database = 'default';
  const spools = new Map<string, string>();
  const spoolIn = (base: string) => {
    let dir = spools.get(base);
    if (!dir) spools.set(base, (dir = makeSpoolDir(base)));
    return dir;
  };
  // /dev/shm that cannot be written (read-only, no permission) is given up; a full one is tried again.
  let shmUsable = existsSync(shm);
  const spoolWrite = async (body: Buffer): Promise<string> => {
    const name = `${randomUUID()}.bin`;
    if (shmUsable) {
      let file: string | undefined;
      try {
        file = join(spoolIn(shm), name);
        await writeFile(file, body);
        return file;
      } catch (e) {
        if (file) await unlink(file).catch(() => undefined);
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') shmUsable = false;
      }
    }
    const file = join(spoolIn(tmpdir()), name);
    await writeFile(file, body);
    return file;
  };
  return {
    kind: 'chdb',
    main,
    control,
    async init(db) {
      database = db;
      await main.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}` });
      // USE sticks to the chDB session, which is how `sql_table: ad_performance` resolves.
      await main.command({ query: `USE ${quoteIdent(database)}` });
      await control.command({ query: `USE ${quoteIdent(database)}` });
    },
    markSettings: (token) => ({ log_comment: `strata:${token}` }),
    killStatement(token) {
      // Parameterised statements are serialised process-wide by chdb-node, so a KILL with
      // parameters would wait for the very query it should stop. The token is our own UUID.
      if (!TOKEN.test(token)) throw new Error(`invalid kill token ${token}`);
      return { sql: `KILL QUERY WHERE Settings['log_comment'] = 'strata:${token}' ASYNC` };
    },
    async insertRaw(table, body, format, columns, deduplicationToken) {
      if (format === 'RowBinaryWithDefaults') {
        // chDB's inline insert data is text (a binary body is cut short), so binary rows go
        // through a file: FROM INFILE reads it as a client would send it, same settings.
        const list = columns?.length ? ` (${columns.map(quoteIdent).join(', ')})` : '';
        const settings = `max_execution_time = 0, insert_deduplication_token = ${literal(deduplicationToken ?? '')}`;
        const file = await spoolWrite(body);
        try {
          await mainConnection.chdb.queryAsync(
            `INSERT INTO ${quoteIdent(database)}.${quoteIdent(table)}${list} FROM INFILE ${literal(file)} SETTINGS ${settings} FORMAT ${format}`,
          );
        } finally {
          await unlink(file).catch(() => undefined);
        }
        return;
      }
      // chDB's native passthrough: the buffer goes to its multithreaded parser zero-copy.
      quoteIdent(table); // validates; chDB validates and quotes the (plain) names itself
      columns?.forEach(quoteIdent);
      await mainConnection.chdb.rawInsert({
        table: `${database}.${table}`,
        columns: columns ? [...columns] : undefined,
        values: body,
        format,
        // Always set: chDB sessions keep settings, a stale token would drop this insert.
        settings: { ...INSERT_SETTINGS, insert_deduplication_token: deduplicationToken ?? '' },
      });
    },
    async exportTo(sql, params, format, file, settings, signal) {
      checkExport(format, file);
      // A session of its own: the file is written by the engine (INTO OUTFILE), the statement
      // does not wait behind the doors' queries on `main`, and closing it frees everything.
      const session = new Session(path);
      try {
        session.query(`USE ${quoteIdent(database)}`);
        for (const stmt of setStatements({ ...BASE_SETTINGS, ...settings })) session.query(stmt);
        await session.queryBindAsync(`${sql}\nINTO OUTFILE '${file}' TRUNCATE FORMAT ${format}`, { ...params }, { format: 'CSV', signal });
      } finally {
        session.close();
      }
    },
    async close() {
      await Promise.allSettled([main.close(), control.close()]);
      for (const dir of spools.values()) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HttpOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly database: string;
}

/** A ClickHouse server (or cluster) over HTTP; the database is a connection parameter. */
export function httpTransport(options: HttpOptions): Transport {
  const common = {
    url: options.url,
    username: options.username,
    password: options.password,
    // Progress headers keep long statements (seeding) alive behind load balancers.
    clickhouse_settings: { ...BASE_SETTINGS, send_progress_in_http_headers: 1 as const, http_headers_progress_interval_ms: '60000' },
    // The engine enforces per-query timeouts itself; long commands (seeding) must not be cut.
    request_timeout: 3_600_000,
    log: SILENT,
  };
  const main = createClient({ ...common, database: options.database });
  return {
    kind: 'http',
    main,
    control: main,
    async init(database) {
      // The configured database may not exist yet: create it through a client bound to "default".
      const admin = createClient({ ...common, database: 'default' });
      try {
        await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}` });
      } finally {
        await admin.close();
      }
    },
    markSettings: () => ({}),
    killStatement: (_token, queryId) => ({ sql: 'KILL QUERY WHERE query_id = {id:String} ASYNC', params: { id: queryId } }),
    async insertRaw(table, body, format, columns, deduplicationToken) {
      const list = columns ? ` (${columns.map(quoteIdent).join(', ')})` : '';
      const result = await main.exec({
        query: `INSERT INTO ${quoteIdent(table)}${list} FORMAT ${format}`,
        values: Readable.from([body]),
        clickhouse_settings: {
          date_time_input_format: 'best_effort',
          input_format_null_as_default: 1,
          ...(deduplicationToken ? { insert_deduplication_token: deduplicationToken } : {}),
        },
      });
      result.stream.resume(); // drain the (empty) response so the socket is reused
    },
    async exportTo(sql, params, format, file, settings, signal) {
      checkExport(format, file);
      const result = await main.exec({
        query: `${sql}\nFORMAT ${format}`,
        query_params: { ...params },
        clickhouse_settings: settings,
        abort_signal: signal,
      });
      await pipeline(result.stream, createWriteStream(file));
    },
    async close() {
      await main.close();
    },
  };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid ClickHouse identifier ${JSON.stringify(name)}`);
  return `\`${name}\``;
}
