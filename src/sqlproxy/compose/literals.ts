/** A result cell as a SQL literal of its column's type, for values moved from one query into another. */
import { encodeText, OID, type Cell } from '../pg-types.js';
import type { Node } from '../translate/ast.js';
import { boolConst, nullConst } from './nodes.js';

const NUMERIC = new Set<number>([OID.int2, OID.int4, OID.int8, OID.float4, OID.float8, OID.numeric]);

export function literalOf(oid: number, v: Cell): Node {
  if (v === null) return nullConst();
  if (oid === OID.bool) return boolConst(encodeText(oid, v) === 't');
  const text = encodeText(oid, v)!;
  if (NUMERIC.has(oid)) {
    const n = Number(text);
    if (Number.isSafeInteger(n) && Math.abs(n) < 2 ** 31) return { A_Const: n === 0 ? { ival: {} } : { ival: { ival: n } } };
    return { A_Const: { fval: { fval: text } } };
  }
  return { A_Const: { sval: { sval: text } } };
}
