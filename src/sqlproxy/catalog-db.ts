/**
 * Catalog queries (pg_catalog, information_schema, version(), current_setting()...) run on a
 * real Postgres engine — in-memory PGlite — holding EMPTY tables shaped like the cubes and views
 * the caller may see. One engine per visibility fingerprint (same visible catalog => same DDL),
 * shared by connections, a few kept (LRU). Every statement runs inside
 * BEGIN READ ONLY ... ROLLBACK, so nothing a caller does persists or reaches another caller.
 * No data is ever loaded into these engines. Each engine lives in a worker thread: PGlite ignores
 * statement_timeout, so a runaway catalog query is stopped by terminating its worker.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { CatalogCube } from '../query/types.js';
import type { Logger } from '../logger.js';
import { frontend, parseErrorFields, splitBackendMessages } from './codec.js';
import { SqlError } from './sql-error.js';
import { tableColumns } from './translate/columns.js';

export interface BackendMessage {
  readonly type: string;
  readonly body: Buffer;
  /** The complete message as sent on the wire. */
  readonly raw: Buffer;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** DDL for the caller's visible catalog: cubes as tables, views as views, comments from titles. */
export function catalogDdl(catalog: readonly CatalogCube[]): string {
  const out: string[] = [];
  for (const cube of [...catalog].sort((a, b) => a.name.localeCompare(b.name))) {
    const cols = tableColumns(cube);
    const table = `public.${ident(cube.name)}`;
    if (cube.kind === 'view') {
      const select = cols.length ? cols.map((c) => `NULL::${c.sqlType} AS ${ident(c.name)}`).join(', ') : 'NULL::text AS "_"';
      out.push(`CREATE VIEW ${table} AS SELECT ${select} WHERE false;`);
    } else {
      out.push(`CREATE TABLE ${table} (${cols.map((c) => `${ident(c.name)} ${c.sqlType}`).join(', ')});`);
    }
    const comment = cube.description ? `${cube.title} — ${cube.description}` : cube.title;
    out.push(`COMMENT ON ${cube.kind === 'view' ? 'VIEW' : 'TABLE'} ${table} IS ${literal(comment)};`);
    for (const c of cols) {
      const m = c.member;
      const text = `${m.title} (${m.kind}${m.aggType ? `, ${m.aggType}` : ''})${m.description ? ` — ${m.description}` : ''}`;
      out.push(`COMMENT ON COLUMN ${table}.${ident(c.name)} IS ${literal(text)};`);
    }
  }
  return out.join('\n');
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

const WORKER_URL = new URL('./catalog-worker.mjs', import.meta.url);

/** A PGlite in a worker thread, spoken to with raw protocol bytes. */
class WorkerDb {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Uint8Array | undefined) => void; reject: (e: Error) => void }>();
  dead = false;

  constructor(private readonly onDeath: () => void) {
    this.worker = new Worker(WORKER_URL);
    this.worker.unref();
    this.worker.on('message', (m: { id: number; ok: boolean; data?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.data);
      else p.reject(new Error(m.error));
    });
    this.worker.on('error', (e) => this.die(e));
    this.worker.on('exit', () => this.die(new Error('catalog engine exited')));
  }

  call(message: Record<string, unknown>, timeoutMs: number, transfer: ArrayBuffer[] = []): Promise<Uint8Array | undefined> {
    if (this.dead) return Promise.reject(new SqlError('57P01', 'catalog engine is restarting; retry'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SqlError('57014', 'canceling statement due to statement timeout (catalog queries are limited)'));
        void this.terminate();
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private die(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.onDeath();
  }

  async terminate(): Promise<void> {
    this.die(new Error('catalog engine stopped'));
    await this.worker.terminate();
  }
}

export class CatalogEngine {
  private readonly mutex = new Mutex();
  lastUsed = Date.now();
  busy = 0;

  constructor(
    readonly fingerprint: string,
    private readonly db: WorkerDb,
    private readonly timeoutMs: number,
  ) {}

  get dead(): boolean {
    return this.db.dead;
  }

  /**
   * Runs one statement's extended-protocol messages (Parse/Bind/Describe/Execute, no Sync)
   * read-only and rolled back. Returns the backend messages between BEGIN and the Sync's
   * ReadyForQuery (ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete...).
   * An ErrorResponse becomes a SqlError, its position shifted by `offset`.
   */
  async run(messages: readonly Buffer[], offset = 0): Promise<BackendMessage[]> {
    this.busy++;
    this.lastUsed = Date.now();
    try {
      const batch = Buffer.concat([frontend.query('BEGIN TRANSACTION READ ONLY'), ...messages, frontend.sync(), frontend.query('ROLLBACK')]);
      const bytes = new Uint8Array(batch);
      const data = await this.mutex.run(() => this.db.call({ type: 'run', batch: bytes }, this.timeoutMs, [bytes.buffer as ArrayBuffer]));
      const out = splitBackendMessages(data ?? new Uint8Array());
      // Drop BEGIN's CommandComplete + ReadyForQuery, and everything from the Sync's ReadyForQuery on.
      const begin = out.findIndex((m) => m.type === 'Z');
      const rest = out.slice(begin + 1);
      const end = rest.findIndex((m) => m.type === 'Z');
      const mine = rest.slice(0, end < 0 ? rest.length : end);
      const err = mine.find((m) => m.type === 'E');
      if (err) {
        const f = parseErrorFields(err.body);
        const pos = f.P ? Number(f.P) + offset : undefined;
        throw new SqlError(f.C ?? 'XX000', f.M ?? 'catalog query failed', pos, 'ERROR', f.H);
      }
      return mine.filter((m) => m.type !== 'N');
    } finally {
      this.busy--;
    }
  }

  close(): Promise<void> {
    return this.db.terminate();
  }
}

export interface CatalogEnginesOptions {
  readonly logger: Logger;
  /** Engines kept alive at once (each in-memory Postgres costs ~200 MB). */
  readonly maxEngines?: number;
  /** Wall-clock limit of one catalog statement; the engine is restarted when it is exceeded. */
  readonly statementTimeoutMs?: number;
}

export class CatalogEngines {
  private readonly engines = new Map<string, Promise<CatalogEngine>>();
  private readonly fingerprints = new WeakMap<readonly CatalogCube[], { fp: string; ddl: string }>();
  private closed = false;

  constructor(private readonly opts: CatalogEnginesOptions) {}

  /** The engine for a visible catalog, created (or cloned) on first use. */
  async forCatalog(catalog: readonly CatalogCube[]): Promise<CatalogEngine> {
    let known = this.fingerprints.get(catalog);
    if (!known) {
      const ddl = catalogDdl(catalog);
      known = { ddl, fp: createHash('sha256').update(ddl).digest('hex').slice(0, 16) };
      this.fingerprints.set(catalog, known);
    }
    const existing = this.engines.get(known.fp);
    if (existing) {
      const engine = await existing.catch(() => undefined);
      if (engine && !engine.dead) return engine;
      this.engines.delete(known.fp);
      return this.forCatalog(catalog);
    }
    const created = this.create(known.fp, known.ddl);
    this.engines.set(known.fp, created);
    created.catch(() => this.engines.delete(known.fp));
    void created.then(() => this.evict());
    return created;
  }

  private async create(fp: string, ddl: string): Promise<CatalogEngine> {
    const started = Date.now();
    const db = new WorkerDb(() => this.engines.delete(fp));
    try {
      await db.call({ type: 'init', ddl }, 60_000);
    } catch (e) {
      await db.terminate();
      throw e;
    }
    this.opts.logger.debug({ fingerprint: fp, ms: Date.now() - started }, 'sqlproxy catalog engine ready');
    return new CatalogEngine(fp, db, this.opts.statementTimeoutMs ?? 5_000);
  }

  private async evict(): Promise<void> {
    const max = this.opts.maxEngines ?? 4;
    if (this.engines.size <= max) return;
    const settled = await Promise.all([...this.engines.values()].map((p) => p.catch(() => undefined)));
    const idle = settled.filter((e): e is CatalogEngine => !!e && e.busy === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    while (this.engines.size > max && idle.length) {
      const victim = idle.shift()!;
      this.engines.delete(victim.fingerprint);
      await victim.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = await Promise.all([...this.engines.values()].map((p) => p.catch(() => undefined)));
    this.engines.clear();
    await Promise.all(all.map((e) => e?.close().catch(() => undefined)));
  }
}

/**
 * The catalog engine is a newer Postgres than the server_version we announce (15): psql 15/16's
 * `\l` reads pg_database.daticulocale, renamed datlocale in Postgres 17. Map that one column.
 */
export function catalogCompat(sql: string): string {
  return sql.replace(/\bdaticulocale\b/g, 'datlocale');
}
