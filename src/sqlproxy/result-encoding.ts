/**
 * Result encoding: a semantic plan's RowDescription and DataRows (text or binary per the result
 * format codes), and a catalog engine's answer (its RowDescription, DataRows and tag) as a Result.
 */
import type { BackendMessage } from './catalog-db.js';
import { BodyReader, type FieldDescription, msg } from './codec.js';
import { type Cell, encodeBinary, encodeText, OID, typeSize } from './pg-types.js';
import type { Result } from './session-state.js';
import type { SemanticPlan } from './translate/select.js';

/** The format code of column `i`: none = text, one = for every column, else one per column. */
export function formatAt(formats: readonly number[], i: number): number {
  if (!formats.length) return 0;
  return formats.length === 1 ? formats[0] : (formats[i] ?? 0);
}

export function rowDescription(plan: SemanticPlan, formats: readonly number[]): Buffer {
  const fields: FieldDescription[] = plan.columns.map((c, i) => ({
    name: c.name,
    typeOid: c.oid,
    typeSize: typeSize(c.oid),
    format: formatAt(formats, i),
  }));
  return msg.rowDescription(fields);
}

export function encodeRow(plan: SemanticPlan, row: Readonly<Record<string, string | number | boolean | null>>, formats: readonly number[]): Buffer {
  return msg.dataRow(
    plan.columns.map((c, i) => {
      const v = c.source.kind === 'constant' ? c.source.value : (row[c.source.key] ?? null);
      if (formatAt(formats, i) === 1) return encodeBinary(c.oid, v);
      const text = encodeText(c.oid, v);
      return text === null ? null : Buffer.from(text, 'utf8');
    }),
  );
}

export function catalogResult(out: BackendMessage[]): Result {
  const rd = out.find((m) => m.type === 'T');
  const rows = out.filter((m) => m.type === 'D').map((m) => m.raw);
  const cc = out.find((m) => m.type === 'C');
  const tag = cc ? cc.body.toString('utf8', 0, cc.body.length - 1) : 'SELECT 0';
  return { rowDescription: rd ? rd.raw : null, rows, tag };
}

const NUMERIC_OIDS = new Set<number>([OID.int2, OID.int4, OID.int8, OID.float4, OID.float8, OID.numeric]);

/** An engine's text-format answer as cells (a composed subquery's values, moved into another query). */
export function decodeTextResult(out: readonly BackendMessage[]): { oids: number[]; rows: Cell[][] } {
  const rd = out.find((m) => m.type === 'T');
  const oids: number[] = [];
  if (rd) {
    const r = new BodyReader(rd.body);
    for (let i = 0, n = r.int16(); i < n; i++) {
      r.cstring();
      r.int32();
      r.int16();
      oids.push(r.uint32());
      r.int16();
      r.int32();
      r.int16();
    }
  }
  const rows = out
    .filter((m) => m.type === 'D')
    .map((m) => {
      const r = new BodyReader(m.body);
      const cells: Cell[] = [];
      for (let i = 0, n = r.int16(); i < n; i++) {
        const len = r.int32();
        const text = len < 0 ? null : r.bytes(len).toString('utf8');
        cells.push(text === null ? null : oids[i] === OID.bool ? text === 't' : NUMERIC_OIDS.has(oids[i]) ? Number(text) : text);
      }
      return cells;
    });
  return { oids, rows };
}
