/**
 * Helpers over libpg-query's JSON parse tree. Nodes are `{ Kind: {...fields} }`; we keep them
 * loosely typed and read only what we map, refusing everything else with a position.
 */
import { SqlError, SQLSTATE } from '../sql-error.js';

// biome-ignore lint/suspicious/noExplicitAny: libpg-query's JSON AST; every read of it is checked by shape (ast.ts helpers), not by type.
export type Node = Record<string, any>;

/** The single key of a node wrapper, e.g. "ColumnRef". */
export function kindOf(node: Node | undefined): string {
  if (!node) return '';
  const keys = Object.keys(node);
  return keys.length === 1 ? keys[0] : '';
}

export function inner(node: Node): Node {
  return node[kindOf(node)];
}

/** Byte offset in the parse tree -> 1-based character position, or undefined when unknown. */
export type PositionOf = (location: number | undefined) => number | undefined;

export function positionMapper(sql: string): PositionOf {
  const bytes = Buffer.from(sql, 'utf8');
  const ascii = bytes.length === sql.length;
  return (location) => {
    if (location === undefined || location === null || location < 0) return undefined;
    if (ascii) return location + 1;
    return bytes.subarray(0, location).toString('utf8').length + 1;
  };
}

/** A node's own location, looking one level into its wrapper. */
export function locationOf(node: Node | undefined): number | undefined {
  if (!node) return undefined;
  const body = inner(node);
  if (body && typeof body.location === 'number' && body.location >= 0) return body.location;
  if (body?.arg) return locationOf(body.arg);
  if (body?.lexpr) return locationOf(body.lexpr);
  return undefined;
}

export function strings(list: Node[] | undefined): string[] {
  return (list ?? []).map((n) => (n.String ? n.String.sval : n.A_Star ? '*' : ''));
}

/** Function or type name without a "pg_catalog." prefix, lower case. */
export function plainName(list: Node[] | undefined): string {
  const parts = strings(list);
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1].toLowerCase();
  return parts.join('.').toLowerCase();
}

export class Positioned {
  constructor(readonly position: PositionOf) {}

  error(code: string, message: string, node?: Node | number, hint?: string): SqlError {
    const loc = typeof node === 'number' ? node : locationOf(node);
    return new SqlError(code, message, this.position(loc), 'ERROR', hint);
  }

  unsupported(message: string, node?: Node | number, hint?: string): SqlError {
    return this.error(SQLSTATE.NOT_SUPPORTED, message, node, hint);
  }
}

/** Visits every nested object of a parse tree (depth first). */
export function walk(node: unknown, visit: (key: string, value: Node) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (v && typeof v === 'object') {
        if (!Array.isArray(v)) visit(k, v as Node);
        walk(v, visit);
      }
    }
  }
}
