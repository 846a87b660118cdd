/**
 * What an ingestible table accepts, read from ClickHouse itself (system.columns) so the checks
 * can never drift from the migrations. Column types are reduced to the few kinds the
 * validator distinguishes.
 */
import type { Engine } from '../engine/engine.js';

export type ColumnKind =
  | { readonly kind: 'string'; readonly fixedLength?: number }
  | { readonly kind: 'enum'; readonly values: ReadonlySet<string> }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'date' }
  | { readonly kind: 'datetime'; readonly fraction: boolean }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'float' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'stringArray' }
  /** Other arrays, maps, JSON...: passed through unchecked. */
  | { readonly kind: 'other' };

export interface ColumnSpec {
  readonly name: string;
  /** ClickHouse type text, e.g. "LowCardinality(String)". */
  readonly type: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** Has a DEFAULT expression: may be omitted. */
  readonly hasDefault: boolean;
  /** MATERIALIZED / ALIAS columns are computed by ClickHouse and cannot be written. */
  readonly writable: boolean;
}

export interface TableSchema {
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
}

/** Integer bounds; 64-bit and wider are bounded by what a JS number represents exactly. */
const INT_BOUNDS: Record<string, [number, number]> = {
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 4_294_967_295],
  UInt64: [0, Number.MAX_SAFE_INTEGER],
  UInt128: [0, Number.MAX_SAFE_INTEGER],
  UInt256: [0, Number.MAX_SAFE_INTEGER],
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-2_147_483_648, 2_147_483_647],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Int128: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Int256: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function unwrap(type: string, wrapper: string): string | undefined {
  const prefix = `${wrapper}(`;
  return type.startsWith(prefix) && type.endsWith(')') ? type.slice(prefix.length, -1) : undefined;
}

export function parseColumnType(type: string): { kind: ColumnKind; nullable: boolean } {
  let t = type.trim();
  let nullable = false;
  for (;;) {
    const lc = unwrap(t, 'LowCardinality');
    if (lc !== undefined) {
      t = lc;
      continue;
    }
    const n = unwrap(t, 'Nullable');
    if (n !== undefined) {
      t = n;
      nullable = true;
      continue;
    }
    break;
  }
  return { kind: kindOf(t), nullable };
}

function kindOf(t: string): ColumnKind {
  if (t === 'String') return { kind: 'string' };
  const fixed = unwrap(t, 'FixedString');
  if (fixed !== undefined) return { kind: 'string', fixedLength: Number(fixed) };
  if (t === 'UUID') return { kind: 'uuid' };
  if (t === 'Date' || t === 'Date32') return { kind: 'date' };
  if (t === 'DateTime' || t.startsWith('DateTime(')) return { kind: 'datetime', fraction: false };
  if (t.startsWith('DateTime64(')) return { kind: 'datetime', fraction: true };
  if (t === 'Bool' || t === 'Boolean') return { kind: 'bool' };
  if (t === 'Array(String)' || t === 'Array(LowCardinality(String))') return { kind: 'stringArray' };
  if (t === 'Float32' || t === 'Float64' || t.startsWith('Decimal')) return { kind: 'float' };
  const bounds = INT_BOUNDS[t];
  if (bounds) return { kind: 'int', min: bounds[0], max: bounds[1] };
  if (t.startsWith('Enum8(') || t.startsWith('Enum16(')) {
    const values = new Set<string>();
    for (const m of t.matchAll(/'((?:[^'\\]|\\.)*)'\s*=/g)) values.add(m[1].replace(/\\(.)/g, '$1'));
    return { kind: 'enum', values };
  }
  return { kind: 'other' };
}

export function columnSpec(name: string, type: string, defaultKind = ''): ColumnSpec {
  const { kind, nullable } = parseColumnType(type);
  return {
    name,
    type,
    kind,
    nullable,
    hasDefault: defaultKind === 'DEFAULT',
    writable: defaultKind !== 'MATERIALIZED' && defaultKind !== 'ALIAS',
  };
}

/** Reads a table's columns; throws when the table does not exist. */
export async function describeTable(engine: Engine, table: string): Promise<TableSchema> {
  const { rows } = await engine.query<{ name: string; type: string; default_kind: string }>(
    'SELECT name, type, default_kind FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
    { db: engine.database, table },
  );
  if (rows.length === 0) throw new Error(`ingest: table ${engine.database}.${table} does not exist (migrations not applied?)`);
  return { table, columns: rows.map((r) => columnSpec(r.name, r.type, r.default_kind)) };
}
