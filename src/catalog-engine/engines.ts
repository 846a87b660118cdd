/**
 * Empty Postgres engines: in-memory PGlite, each in a worker thread, created from a DDL text and
 * spoken to with raw Postgres protocol bytes. One engine per distinct DDL (fingerprint = sha256),
 * shared by its callers, a few kept (LRU of idle engines). PGlite ignores statement_timeout, so a
 * statement that exceeds the wall-clock limit terminates its worker (the next call gets a new one).
 * This module knows nothing about cubes or the SQL proxy: the caller brings the DDL and the bytes.
 */
import { createHash } from 'node:crypto';
import { type ChildProcess, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';

/** Why an engine did not answer, with the SQLSTATE a Postgres server would send. */
export class CatalogEngineError extends Error {
  override readonly name = 'CatalogEngineError';
  constructor(
    /** 57014 query_canceled (time limit), 57P01 admin_shutdown (engine restarting). */
    readonly sqlState: '57014' | '57P01',
    message: string,
  ) {
    super(message);
  }
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

  constructor(public onDeath: () => void) {
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
    if (this.dead) return Promise.reject(new CatalogEngineError('57P01', 'catalog engine is restarting; retry'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CatalogEngineError('57014', 'canceling statement due to statement timeout (catalog queries are limited)'));
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

/** One empty Postgres. Calls run one at a time, each within the statement time limit. */
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
   * Sends frontend protocol messages (already framed) and returns every backend message byte the
   * engine answered. Throws CatalogEngineError when the time limit ends the engine.
   */
  async exchange(frontendBytes: Uint8Array): Promise<Uint8Array> {
    this.busy++;
    this.lastUsed = Date.now();
    try {
      const bytes = new Uint8Array(frontendBytes); // transferred to the worker: our own copy
      const data = await this.mutex.run(() => this.db.call({ type: 'run', batch: bytes }, this.timeoutMs, [bytes.buffer as ArrayBuffer]));
      return data ?? new Uint8Array();
    } finally {
      this.busy--;
    }
  }

  close(): Promise<void> {
    return this.db.terminate();
  }
}

export interface CatalogEnginePoolOptions {
  readonly logger: Pick<Logger, 'debug'>;
  /** Engines kept alive at once (each in-memory Postgres costs ~300 MB of RSS). */
  readonly maxEngines?: number;
  /** Wall-clock limit of one exchange; the engine is restarted when it is exceeded. */
  readonly statementTimeoutMs?: number;
  /** The command printing the template's bytes (default: this Node running catalog-worker.mjs --template). */
  readonly templateCommand?: readonly [string, ...string[]];
}

/**
 * Catalog queries BI tools send first (psql's \dt, drivers' type and column lookups): run once on a
 * spare engine so its Postgres catalog caches are warm before any caller arrives.
 */
const WARM_UP_SQL = [
  "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','v','m','f') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1, 2",
  "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'",
  'SELECT t.oid, t.typname, t.typtype FROM pg_catalog.pg_type t',
  "SELECT version(), current_setting('server_version'), current_database(), current_schema()",
].join(';\n');

const SPARE_DELAY_MS = 2_000;

export class CatalogEnginePool {
  private readonly engines = new Map<string, Promise<CatalogEngine>>();
  private closed = false;
  /**
   * A fresh cluster's data directory (gzipped, ~5 MB), made once (warm() or the first engine) by
   * a child process (`catalog-worker.mjs --template`): engines boot from it in ~0.6 s instead of
   * running initdb (~2 s). Undefined if it could not be made (engines then run initdb themselves).
   */
  private template?: Promise<Uint8Array | undefined>;
  private templateMade = false;
  /** The process making the template, while it runs (stopped by close()). */
  private templateMaker?: ChildProcess;
  /**
   * A booted, warmed engine without DDL yet: the next new DDL takes it (its first catalog query
   * answers in ~0.15 s instead of ~1 s). Kept only once the SQL door is in use (after the first
   * engine): an idle PGlite holds ~300 MB, which a deployment without BI users never pays.
   */
  private spare?: Promise<WorkerDb | undefined>;

  constructor(private readonly opts: CatalogEnginePoolOptions) {}

  /** Makes the template in the background (the SQL proxy calls this at start); no engine is kept. */
  warm(): Promise<void> {
    return this.templateBytes().then(() => undefined);
  }

  private templateBytes(): Promise<Uint8Array | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.template ??= new Promise((resolve) => {
      const started = Date.now();
      const [command, ...args] = this.opts.templateCommand ?? [process.execPath, fileURLToPath(WORKER_URL), '--template'];
      this.templateMaker = execFile(command, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
        this.templateMaker = undefined;
        if (err || stdout.length === 0) {
          this.opts.logger.debug({ err: err?.message ?? stderr.toString().slice(0, 500) }, 'catalog engine template failed: engines run initdb');
          return resolve(undefined);
        }
        this.opts.logger.debug({ ms: Date.now() - started, bytes: stdout.length }, 'catalog engine template ready');
        this.templateMade = true;
        resolve(new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length));
      });
    });
    return this.template;
  }

  /**
   * Boots a worker from the template, or by initdb while there is none yet (a caller in the first
   * seconds after start does not wait for the template on top of its own boot).
   */
  private async boot(ddl: string, onDeath: () => void): Promise<WorkerDb> {
    const pending = this.templateBytes();
    const template = this.templateMade ? await pending : undefined;
    const db = new WorkerDb(onDeath);
    try {
      // Cloned, not transferred: the template stays here for the next engine.
      await db.call({ type: 'init', ddl, template }, 60_000);
      return db;
    } catch (e) {
      await db.terminate();
      throw e;
    }
  }

  /** What the pool holds now: engines with a DDL, a booted spare, the template (tests, diagnostics). */
  async state(): Promise<{ engines: number; spare: boolean; template: boolean }> {
    const spare = this.spare !== undefined ? await Promise.race([this.spare, Promise.resolve(undefined)]) : undefined;
    return { engines: this.engines.size, spare: Boolean(spare && !spare.dead), template: this.templateMade };
  }

  private refillSpare(): void {
    if (this.closed || this.spare !== undefined) return;
    const spare: Promise<WorkerDb | undefined> = this.boot(WARM_UP_SQL, () => {
      if (this.spare === spare) this.spare = undefined;
    }).catch(() => undefined);
    this.spare = spare;
  }

  /** The spare engine, if one has booted (a booting one is not waited for). */
  private async takeSpare(): Promise<WorkerDb | undefined> {
    const spare = this.spare;
    if (!spare) return undefined;
    this.spare = undefined;
    const db = await Promise.race([spare, Promise.resolve(undefined)]);
    if (db && !db.dead) return db;
    // Still booting (or dead): it becomes the next spare once it is up.
    void spare.then((late) => {
      if (!late || late.dead) return;
      if (this.spare || this.closed) void late.terminate();
      else this.spare = Promise.resolve(late);
    });
    return undefined;
  }

  /** The engine holding exactly `ddl` (tables, views, comments; never rows), created on first use. */
  async forSchema(ddl: string): Promise<CatalogEngine> {
    const fp = createHash('sha256').update(ddl).digest('hex').slice(0, 16);
    const existing = this.engines.get(fp);
    if (existing) {
      const engine = await existing.catch(() => undefined);
      if (engine && !engine.dead) return engine;
      this.engines.delete(fp);
      return this.forSchema(ddl);
    }
    const created = this.create(fp, ddl);
    this.engines.set(fp, created);
    created.catch(() => this.engines.delete(fp));
    void created.then(() => this.evict());
    return created;
  }

  private async create(fp: string, ddl: string): Promise<CatalogEngine> {
    const started = Date.now();
    const ready = await this.takeSpare();
    let db: WorkerDb;
    if (ready) {
      ready.onDeath = () => this.engines.delete(fp);
      try {
        await ready.call({ type: 'exec', ddl: `SET client_min_messages = warning; ${ddl}` }, 60_000);
      } catch (e) {
        await ready.terminate();
        throw e;
      }
      db = ready;
    } else db = await this.boot(ddl, () => this.engines.delete(fp));
    this.opts.logger.debug({ fingerprint: fp, ms: Date.now() - started, booted: !ready }, 'catalog engine ready');
    // The next spare boots a moment later, not alongside the first queries on this engine (2 cores).
    setTimeout(() => this.refillSpare(), SPARE_DELAY_MS).unref();
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
    this.templateMaker?.kill();
    const spare = this.spare;
    this.spare = undefined;
    await spare?.then((db) => db?.terminate()).catch(() => undefined);
    const all = await Promise.all([...this.engines.values()].map((p) => p.catch(() => undefined)));
    this.engines.clear();
    await Promise.all(all.map((e) => e?.close().catch(() => undefined)));
  }
}
