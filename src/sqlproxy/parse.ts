/** The real Postgres parser (libpg-query, WASM): SQL text -> raw statements with their offsets. */
import { loadModule, parseSync } from 'libpg-query';
import { SqlError, SQLSTATE } from './sql-error.js';
import { type Node, kindOf, positionMapper } from './translate/ast.js';

let ready: Promise<void> | undefined;

/** Loads the WASM parser once per process. */
export function loadParser(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

export interface ParsedStatement {
  /** The statement node, e.g. { SelectStmt: {...} }. */
  readonly node: Node;
  readonly kind: string;
  /** The statement's own text (what a catalog query forwards). */
  readonly text: string;
  /** Character offset of `text` in the whole query string. */
  readonly offset: number;
  /** Byte offset of `text` in the whole query string (parse-tree locations are byte offsets). */
  readonly byteOffset: number;
}

export interface ParsedQuery {
  readonly sql: string;
  readonly statements: readonly ParsedStatement[];
}

export function parseQuery(sql: string): ParsedQuery {
  let result: { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
  try {
    result = parseSync(sql) as unknown as typeof result;
  } catch (e) {
    const details = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const pos = details?.cursorPosition !== undefined ? positionMapper(sql)(details.cursorPosition) : undefined;
    throw new SqlError(SQLSTATE.SYNTAX, (e as Error).message || 'syntax error', pos);
  }
  const bytes = Buffer.from(sql, 'utf8');
  const statements: ParsedStatement[] = [];
  for (const raw of result.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const before = bytes.subarray(0, start).toString('utf8').length;
    statements.push({
      node: raw.stmt,
      kind: kindOf(raw.stmt),
      text: bytes.subarray(start, end).toString('utf8'),
      offset: before,
      byteOffset: start,
    });
  }
  return { sql, statements };
}
