/**
 * COPY … TO STDOUT (psql's `\copy (SELECT …) TO 'file' CSV HEADER`, psycopg2's copy_expert, pandas):
 * the query inside runs like any statement (semantic, composed or catalog: same scopes, tenant pass,
 * paging and row maximum), and its text-format rows are re-encoded as COPY text or CSV with Postgres'
 * rules. COPY FROM (a write) and COPY to a server file are refused.
 */
import { deparse } from 'pgsql-deparser';
import { BodyReader, MessageBuilder } from './codec.js';
import { parseSelectBody } from './compose/nodes.js';
import type { ParsedStatement } from './parse.js';
import type { Result } from './session-state.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { type Node, kindOf, strings } from './translate/ast.js';

export interface CopyOptions {
  readonly csv: boolean;
  readonly header: boolean;
  readonly delimiter: string;
  readonly nullText: string;
  readonly quote: string;
  readonly escape: string;
}

/** The SELECT a COPY … TO STDOUT reads, as a statement of its own, and how to write its rows. */
export async function copySource(stmt: ParsedStatement): Promise<{ inner: ParsedStatement; options: CopyOptions }> {
  const c: Node = stmt.node.CopyStmt;
  if (c.is_from) throw new SqlError(SQLSTATE.READ_ONLY, "Strata's SQL interface is read-only: COPY FROM is not allowed");
  if (c.filename || c.is_program)
    throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'COPY to a server file or program is not supported; use COPY … TO STDOUT (psql: \\copy)');
  let select: Node;
  if (c.query) select = c.query;
  else {
    const columns = c.attlist?.length ? strings(c.attlist).map((n) => `"${n.replace(/"/g, '""')}"`) : ['*'];
    const rv = c.relation;
    const table = `${rv.schemaname ? `"${rv.schemaname.replace(/"/g, '""')}".` : ''}"${rv.relname.replace(/"/g, '""')}"`;
    select = { SelectStmt: parseSelectBody(`SELECT ${columns.join(', ')} FROM ${table}`) };
  }
  if (kindOf(select) !== 'SelectStmt') throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'COPY supports a SELECT or a table');
  const text = await deparse(select as never);
  return { inner: { node: select, kind: 'SelectStmt', text, offset: 0, byteOffset: 0 }, options: copyOptions(c.options ?? []) };
}

function copyOptions(list: Node[]): CopyOptions {
  const o = { csv: false, header: false, delimiter: '', nullText: '', quote: '"', escape: '', nullSet: false };
  for (const d of list) {
    const def: Node = d.DefElem;
    const value: string | undefined = def.arg?.String?.sval;
    const flag =
      def.arg === undefined
        ? true
        : def.arg.Boolean
          ? Boolean(def.arg.Boolean.boolval)
          : value !== undefined
            ? !['false', 'off', '0'].includes(value.toLowerCase())
            : true;
    switch (def.defname) {
      case 'format':
        if (value !== 'csv' && value !== 'text') throw new SqlError(SQLSTATE.NOT_SUPPORTED, `COPY format "${value}" is not supported (text or csv)`);
        o.csv = value === 'csv';
        break;
      case 'header':
        o.header = flag;
        break;
      case 'delimiter':
      case 'quote':
      case 'escape':
        if (value?.length !== 1) throw new SqlError(SQLSTATE.INVALID_PARAMETER_VALUE, `COPY ${def.defname} must be a single one-byte character`);
        if (def.defname === 'delimiter') o.delimiter = value;
        else if (def.defname === 'quote') o.quote = value;
        else o.escape = value;
        break;
      case 'null':
        o.nullText = value ?? '';
        o.nullSet = true;
        break;
      default:
        throw new SqlError(SQLSTATE.NOT_SUPPORTED, `COPY option "${def.defname}" is not supported`);
    }
  }
  if (o.header && !o.csv) throw new SqlError(SQLSTATE.NOT_SUPPORTED, 'COPY HEADER is available only in CSV mode here');
  return {
    csv: o.csv,
    header: o.header,
    delimiter: o.delimiter || (o.csv ? ',' : '\t'),
    nullText: o.nullSet ? o.nullText : o.csv ? '' : '\\N',
    quote: o.quote,
    escape: o.escape || o.quote,
  };
}

/** A statement's text-format result as COPY out: CopyOutResponse, one CopyData per line, CopyDone. */
export function copyOut(result: Result, options: CopyOptions): Result {
  const names: string[] = [];
  if (result.rowDescription) {
    const r = new BodyReader(result.rowDescription.subarray(5));
    for (let i = 0, n = r.int16(); i < n; i++) {
      names.push(r.cstring());
      r.bytes(18);
    }
  }
  const lines: Buffer[] = [];
  if (options.header) lines.push(line(names, options));
  for (const row of result.rows) {
    const r = new BodyReader(row.subarray(5));
    const cells: (string | null)[] = [];
    for (let i = 0, n = r.int16(); i < n; i++) {
      const len = r.int32();
      cells.push(len < 0 ? null : r.bytes(len).toString('utf8'));
    }
    lines.push(line(cells, options));
  }
  const response = new MessageBuilder('H').int8(0).int16(names.length);
  for (let i = 0; i < names.length; i++) response.int16(0);
  return {
    rowDescription: null,
    rows: [],
    tag: `COPY ${result.rows.length}`,
    before: [...(result.before ?? []), response.build(), ...lines.map((l) => new MessageBuilder('d').push(l).build()), new MessageBuilder('c').build()],
  };
}

function line(cells: readonly (string | null)[], o: CopyOptions): Buffer {
  return Buffer.from(`${cells.map((c) => (o.csv ? csvCell(c, o) : textCell(c, o))).join(o.delimiter)}\n`, 'utf8');
}

/** Text format: backslash escapes for the delimiter, newlines, tabs and backslashes; NULL as \N. */
function textCell(c: string | null, o: CopyOptions): string {
  if (c === null) return o.nullText;
  let out = '';
  for (const ch of c) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === o.delimiter) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/** CSV: quoted when it holds the delimiter, the quote, a line break, or would read as NULL. */
function csvCell(c: string | null, o: CopyOptions): string {
  if (c === null) return o.nullText;
  const needs = c === o.nullText || c.includes(o.delimiter) || c.includes(o.quote) || c.includes('\n') || c.includes('\r') || c.startsWith('\\.');
  if (!needs) return c;
  let body = '';
  for (const ch of c) body += ch === o.quote || (ch === o.escape && o.escape !== o.quote) ? `${o.escape}${ch}` : ch;
  return `${o.quote}${body}${o.quote}`;
}
