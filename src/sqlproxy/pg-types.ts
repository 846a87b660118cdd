/** Postgres type OIDs the proxy emits, and text/binary encodings of result cells and parameters. */
import { SqlError, SQLSTATE } from './sql-error.js';

export const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
} as const;

/** Postgres' own name of a result type (valid in CREATE TABLE and in CAST), for the post engine. */
export const TYPE_NAME: Readonly<Record<number, string>> = {
  [OID.bool]: 'bool',
  [OID.int2]: 'int2',
  [OID.int4]: 'int4',
  [OID.int8]: 'int8',
  [OID.float4]: 'float4',
  [OID.float8]: 'float8',
  [OID.numeric]: 'numeric',
  [OID.text]: 'text',
  [OID.date]: 'date',
  [OID.timestamp]: 'timestamp',
  [OID.timestamptz]: 'timestamptz',
};

/** typlen as RowDescription reports it. */
export function typeSize(oid: number): number {
  switch (oid) {
    case OID.bool:
      return 1;
    case OID.int2:
      return 2;
    case OID.int4:
    case OID.float4:
    case OID.date:
    case OID.oid:
      return 4;
    case OID.int8:
    case OID.float8:
    case OID.timestamp:
    case OID.timestamptz:
      return 8;
    default:
      return -1;
  }
}

export type Cell = string | number | boolean | null;

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** "YYYY-MM-DDTHH:mm:ss.SSS" (local, no zone) -> epoch ms as if UTC (timestamp without time zone). */
function localToMs(v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?/.exec(v);
  if (!m) throw new SqlError(SQLSTATE.INVALID_DATETIME, `invalid timestamp value "${v}"`);
  const ms = m[7] ? Number(`${m[7]}000`.slice(0, 3)) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Text form of a timestamp as Postgres prints it with DateStyle ISO. */
export function timestampText(v: string): string {
  const d = new Date(localToMs(v));
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return ms ? `${base}.${pad(ms, 3).replace(/0+$/, '')}` : base;
}

export function dateText(v: string): string {
  return timestampText(v).slice(0, 10);
}

function numberText(n: number, integer: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (integer) return BigInt(Math.round(n)).toString();
  const s = String(n);
  if (!/e/i.test(s)) return s;
  // Exponent form: expand so every client's numeric parser accepts it.
  return Math.abs(n) >= 1 ? BigInt(Math.round(n)).toString() : n.toFixed(20).replace(/0+$/, '');
}

function asNumber(v: Cell): number {
  return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number(v);
}

/** Encodes one cell in text format for the column's type. */
export function encodeText(oid: number, v: Cell): string | null {
  if (v === null || v === undefined) return null;
  switch (oid) {
    case OID.bool:
      return v === true || v === 1 || v === 'true' || v === 't' || v === '1' ? 't' : 'f';
    case OID.int2:
    case OID.int4:
    case OID.int8:
      return numberText(asNumber(v), true);
    case OID.float4:
    case OID.float8:
    case OID.numeric:
      return numberText(asNumber(v), false);
    case OID.timestamp:
      return timestampText(String(v));
    case OID.date:
      return dateText(String(v));
    default:
      return String(v);
  }
}

/** Encodes one cell in binary format; types without a binary form here are refused. */
export function encodeBinary(oid: number, v: Cell): Buffer | null {
  if (v === null || v === undefined) return null;
  switch (oid) {
    case OID.bool:
      return Buffer.from([encodeText(oid, v) === 't' ? 1 : 0]);
    case OID.int2: {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Math.round(asNumber(v)));
      return b;
    }
    case OID.int4: {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Math.round(asNumber(v)));
      return b;
    }
    case OID.int8: {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Math.round(asNumber(v))));
      return b;
    }
    case OID.float4: {
      const b = Buffer.alloc(4);
      b.writeFloatBE(asNumber(v));
      return b;
    }
    case OID.float8: {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(asNumber(v));
      return b;
    }
    case OID.numeric:
      return encodeNumericBinary(numberText(asNumber(v), false));
    case OID.timestamp: {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(localToMs(String(v)) - PG_EPOCH_MS) * 1000n);
      return b;
    }
    case OID.date: {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Math.floor((localToMs(String(v)) - PG_EPOCH_MS) / 86_400_000));
      return b;
    }
    case OID.text:
    case OID.varchar:
    case OID.name:
    case OID.bpchar:
    case OID.unknown:
      return Buffer.from(String(v), 'utf8');
    default:
      throw new SqlError(SQLSTATE.NOT_SUPPORTED, `binary format is not supported for type ${oid}`);
  }
}

/** numeric binary: ndigits, weight, sign, dscale, then base-10000 digits. */
export function encodeNumericBinary(text: string): Buffer {
  const header = (ndigits: number, weight: number, sign: number, dscale: number) => {
    const b = Buffer.alloc(8 + ndigits * 2);
    b.writeInt16BE(ndigits, 0);
    b.writeInt16BE(weight, 2);
    b.writeUInt16BE(sign, 4);
    b.writeInt16BE(dscale, 6);
    return b;
  };
  if (text === 'NaN') return header(0, 0, 0xc000, 0);
  if (text === 'Infinity') return header(0, 0, 0xd000, 0);
  if (text === '-Infinity') return header(0, 0, 0xf000, 0);
  let s = text;
  let sign = 0;
  if (s.startsWith('-')) {
    sign = 0x4000;
    s = s.slice(1);
  }
  const [intPart, fracPart = ''] = s.split('.');
  const dscale = fracPart.length;
  // Pad the integer part to a multiple of 4 on the left, the fraction on the right.
  const intPadded = intPart.replace(/^0+/, '').padStart(Math.ceil(intPart.replace(/^0+/, '').length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  const intGroups = groups.length;
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intGroups - 1;
  // Strip leading zero groups (adjusting weight) and trailing zero groups.
  while (groups.length && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length && groups[groups.length - 1] === 0) groups.pop();
  if (!groups.length) return header(0, 0, 0, dscale);
  const b = header(groups.length, weight, sign, dscale);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(g, 8 + i * 2);
  return b;
}

/** A bound parameter, decoded to a JS value (text params stay strings; typing happens in context). */
export type ParamValue = string | number | boolean | null;

export function decodeParam(oid: number, format: number, raw: Buffer | null): ParamValue {
  if (raw === null) return null;
  if (format === 0) return raw.toString('utf8');
  switch (oid) {
    case OID.bool:
      return raw[0] === 1;
    case OID.int2:
      return raw.readInt16BE(0);
    case OID.int4:
    case OID.oid:
      return raw.readInt32BE(0);
    case OID.int8:
      return Number(raw.readBigInt64BE(0));
    case OID.float4:
      return raw.readFloatBE(0);
    case OID.float8:
      return raw.readDoubleBE(0);
    case OID.numeric:
      return Number(decodeNumericBinary(raw));
    case OID.text:
    case OID.varchar:
    case OID.name:
    case OID.bpchar:
    case OID.unknown:
    case 0:
      return raw.toString('utf8');
    case OID.date: {
      const days = raw.readInt32BE(0);
      return new Date(PG_EPOCH_MS + days * 86_400_000).toISOString().slice(0, 10);
    }
    case OID.timestamp:
    case OID.timestamptz: {
      const us = raw.readBigInt64BE(0);
      return new Date(PG_EPOCH_MS + Number(us / 1000n)).toISOString().replace('Z', oid === OID.timestamptz ? 'Z' : '');
    }
    default:
      throw new SqlError(SQLSTATE.NOT_SUPPORTED, `binary parameter format is not supported for type ${oid}`);
  }
}

export function decodeNumericBinary(b: Buffer): string {
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digit = (i: number) => (i >= 0 && i < ndigits ? b.readUInt16BE(8 + i * 2) : 0);
  let intStr = '';
  for (let p = weight; p >= 0; p--) intStr += intStr ? String(digit(weight - p)).padStart(4, '0') : String(digit(weight - p));
  let fracStr = '';
  for (let p = -1; fracStr.length < dscale; p--) fracStr += String(digit(weight - p)).padStart(4, '0');
  const out = (intStr || '0') + (dscale > 0 ? `.${fracStr.slice(0, dscale)}` : '');
  return (sign === 0x4000 ? '-' : '') + out;
}
