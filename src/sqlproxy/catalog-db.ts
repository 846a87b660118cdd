/**
 * Catalog queries (pg_catalog, information_schema, version(), current_setting()...) run on a
 * real Postgres engine — in-memory PGlite — holding EMPTY tables shaped like the cubes and views
 * the caller may see. One engine per visibility fingerprint (same visible catalog => same DDL),
 * shared by connections, a few kept (LRU). Every statement runs inside
 * BEGIN READ ONLY ... ROLLBACK, so nothing a caller does persists or reaches another caller.
 * No data is ever loaded into these engines. The engines themselves (PGlite in worker threads,
 * time limit, LRU) live in src/catalog-engine/; this file owns what is SQL-proxy specific: the
 * caller-shaped DDL and the read-only, rolled-back framing of every statement.
 */
import { CatalogEngineError, CatalogEnginePool, type CatalogEngine } from '../catalog-engine/engines.js';
import type { CatalogCube } from '../query/types.js';
import type { Logger } from '../logger.js';
import { frontend, parseErrorFields, splitBackendMessages } from './codec.js';
import type { TempTable } from './compose/compose.js';
import type { ParsedStatement } from './parse.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { plainName, walk } from './translate/ast.js';
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

/** The catalog queries of one visible catalog: statements run read-only and rolled back. */
export interface CatalogSession {
  /**
   * Runs one statement's extended-protocol messages (Parse/Bind/Describe/Execute, no Sync)
   * read-only and rolled back. Returns the backend messages between BEGIN and the Sync's
   * ReadyForQuery (ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete...).
   * An ErrorResponse becomes a SqlError, its position shifted by `offset`.
   */
  run(messages: readonly Buffer[], offset?: number): Promise<BackendMessage[]>;
  /**
   * Runs a composed statement's messages over `tables` (leaf rows the query service already
   * authorized): created as temporary tables inside the statement's own transaction, which then
   * turns read-only and is rolled back — the rows exist only during this one exchange, and one
   * engine runs one exchange at a time. Errors carry no position (the SQL is a rewrite).
   */
  runOverRows(tables: readonly TempTable[], messages: readonly Buffer[]): Promise<BackendMessage[]>;
}

export interface CatalogEnginesOptions {
  readonly logger: Logger;
  /** Engines kept alive at once (each in-memory Postgres costs ~200 MB). */
  readonly maxEngines?: number;
  /** Wall-clock limit of one catalog statement; the engine is restarted when it is exceeded. */
  readonly statementTimeoutMs?: number;
}

/** The SQL proxy's view of the catalog engines (src/catalog-engine/): cubes in, protocol messages out. */
export class CatalogEngines {
  private readonly pool: CatalogEnginePool;
  private readonly ddls = new WeakMap<readonly CatalogCube[], string>();

  constructor(opts: CatalogEnginesOptions) {
    this.pool = new CatalogEnginePool(opts);
  }

  /** The engine for a visible catalog (same DDL => same engine), created on first use. */
  async forCatalog(catalog: readonly CatalogCube[]): Promise<CatalogSession> {
    let ddl = this.ddls.get(catalog);
    if (ddl === undefined) {
      ddl = catalogDdl(catalog);
      this.ddls.set(catalog, ddl);
    }
    const engine = await this.pool.forSchema(ddl);
    return {
      run: (messages, offset) => runReadOnly(engine, messages, offset),
      runOverRows: (tables, messages) => runOverRows(engine, tables, messages),
    };
  }

  /** Makes the engines' boot template in the background, so even the first catalog query skips initdb. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

async function runReadOnly(engine: CatalogEngine, messages: readonly Buffer[], offset = 0): Promise<BackendMessage[]> {
  return exchange(engine, [frontend.query('BEGIN TRANSACTION READ ONLY')], messages, offset);
}

async function runOverRows(engine: CatalogEngine, tables: readonly TempTable[], messages: readonly Buffer[]): Promise<BackendMessage[]> {
  const setup = [frontend.query('BEGIN')];
  for (const t of tables) {
    const table = `pg_temp.${ident(t.name)}`;
    setup.push(frontend.query(`CREATE TEMPORARY TABLE ${ident(t.name)} (${t.columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ')}) ON COMMIT DROP`));
    const records = t.rows.map((r) => Object.fromEntries(r.map((v, i) => [t.columns[i].name, v])));
    setup.push(frontend.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, ${literal(JSON.stringify(records))})`));
  }
  // From here on the statement may only read (temporary tables aside, which ROLLBACK drops).
  setup.push(frontend.query('SET TRANSACTION READ ONLY'));
  return exchange(engine, setup, messages, undefined);
}

/** One exchange: setup queries (each answered up to its ReadyForQuery), the statement, Sync, ROLLBACK. */
async function exchange(engine: CatalogEngine, setup: readonly Buffer[], messages: readonly Buffer[], offset: number | undefined): Promise<BackendMessage[]> {
  const batch = Buffer.concat([...setup, ...messages, frontend.sync(), frontend.query('ROLLBACK')]);
  let data: Uint8Array;
  try {
    data = await engine.exchange(batch);
  } catch (e) {
    if (e instanceof CatalogEngineError) throw new SqlError(e.sqlState, e.message);
    throw e;
  }
  const out = splitBackendMessages(data);
  // Drop the setup's answers (each ends with a ReadyForQuery), and everything from the Sync's ReadyForQuery on.
  let begin = -1;
  for (let i = 0; i < setup.length; i++) {
    const next = out.findIndex((m, j) => j > begin && m.type === 'Z');
    const failed = out.slice(begin + 1, next).find((m) => m.type === 'E');
    if (failed) {
      const f = parseErrorFields(failed.body);
      throw new SqlError(SQLSTATE.INTERNAL, `combining the results failed: ${f.M ?? 'unknown error'}`);
    }
    begin = next;
  }
  const rest = out.slice(begin + 1);
  const end = rest.findIndex((m) => m.type === 'Z');
  const mine = rest.slice(0, end < 0 ? rest.length : end);
  const err = mine.find((m) => m.type === 'E');
  if (err) {
    const f = parseErrorFields(err.body);
    const pos = f.P && offset !== undefined ? Number(f.P) + offset : undefined;
    throw new SqlError(f.C ?? 'XX000', f.M ?? 'catalog query failed', pos, 'ERROR', f.H);
  }
  return mine.filter((m) => m.type !== 'N');
}

/**
 * The catalog engine is a newer Postgres than the server_version we announce (15): psql 15/16's
 * `\l` reads pg_database.daticulocale, renamed datlocale in Postgres 17. Map that one column.
 */
export function catalogCompat(sql: string): string {
  return sql.replace(/\bdaticulocale\b/g, 'datlocale');
}

/** What each identity function stands for, and the column name Postgres gives it. */
const IDENTITY_FUNCTIONS: Readonly<Record<string, readonly ['user' | 'database', string]>> = {
  SVFOP_CURRENT_USER: ['user', 'current_user'],
  SVFOP_SESSION_USER: ['user', 'session_user'],
  SVFOP_USER: ['user', 'user'],
  SVFOP_CURRENT_ROLE: ['user', 'current_role'],
  SVFOP_CURRENT_CATALOG: ['database', 'current_catalog'],
};

/**
 * The catalog engine is one shared, anonymous Postgres (user postgres, database postgres): who is
 * asking, and which database, are the session's. `current_user`/`session_user`/`user`/`current_role`
 * become the login name, `current_database()`/`current_catalog` Strata's database — edited in the
 * statement's text at the parse tree's locations, as quoted literals.
 */
export function withSessionIdentity(stmt: ParsedStatement, who: { readonly user: string; readonly database: string }): string {
  const bytes = Buffer.from(stmt.text, 'utf8');
  const edits: { at: number; length: number; text: string }[] = [];
  const at = (location: number | undefined) => (location ?? -1) - stmt.byteOffset;
  walk(stmt.node, (key, value) => {
    let what: readonly ['user' | 'database', string] | undefined;
    let pattern: RegExp | undefined;
    if (key === 'SQLValueFunction' && IDENTITY_FUNCTIONS[value.op]) {
      what = IDENTITY_FUNCTIONS[value.op];
      pattern = /^(current_user|session_user|user|current_role|current_catalog)\b/i;
    } else if (key === 'FuncCall' && plainName(value.funcname).replace(/^pg_catalog\./, '') === 'current_database' && !value.args?.length) {
      what = ['database', 'current_database'];
      pattern = /^(pg_catalog\s*\.\s*)?current_database\s*\(\s*\)/i;
    }
    const start = what ? at(value.location) : -1;
    if (!what || !pattern || start < 0) return;
    const m = pattern.exec(bytes.subarray(start, start + 64).toString('latin1'));
    // A scalar subquery keeps the column name Postgres gives the function (its target's name).
    const text = `(SELECT ${literal(what[0] === 'user' ? who.user : who.database)}::name AS ${ident(what[1])})`;
    if (m) edits.push({ at: start, length: m[0].length, text });
  });
  if (!edits.length) return stmt.text;
  let out = bytes;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = Buffer.concat([out.subarray(0, e.at), Buffer.from(e.text, 'utf8'), out.subarray(e.at + e.length)]);
  return out.toString('utf8');
}
