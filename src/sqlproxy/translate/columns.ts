/** How a cube or view looks as a Postgres table: one column per member, typed. */
import type { CatalogCube, CatalogMember } from '../../query/types.js';
import { OID } from '../pg-types.js';

export interface TableColumn {
  readonly name: string;
  readonly oid: number;
  /** SQL type name for the catalog's CREATE TABLE. */
  readonly sqlType: string;
  readonly member: CatalogMember;
}

const COUNTS = new Set(['count', 'count_distinct', 'count_distinct_approx']);

export function memberOid(m: CatalogMember): number {
  if (m.kind === 'segment') return OID.bool;
  if (m.kind === 'measure' && m.aggType && COUNTS.has(m.aggType)) return OID.int8;
  switch (m.type) {
    case 'number':
      return OID.numeric;
    case 'time':
      return OID.timestamp;
    case 'boolean':
      return OID.bool;
    default:
      return OID.text;
  }
}

const SQL_TYPE: Readonly<Record<number, string>> = {
  [OID.int8]: 'bigint',
  [OID.numeric]: 'numeric',
  [OID.timestamp]: 'timestamp',
  [OID.bool]: 'boolean',
  [OID.text]: 'text',
};

/** Dimensions, then measures, then segments: the order of `SELECT *` and of the catalog table. */
export function tableColumns(cube: CatalogCube): TableColumn[] {
  return [...cube.dimensions, ...cube.measures, ...cube.segments].map((member) => {
    const oid = memberOid(member);
    return { name: member.name, oid, sqlType: SQL_TYPE[oid], member };
  });
}
