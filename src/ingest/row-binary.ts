/**
 * Checked rows as ClickHouse's RowBinaryWithDefaults: per column a flag byte (1 = absent, the
 * column's DEFAULT applies; 0 = a value follows), then the value in its binary layout. The engine
 * reads it with no text parsing at all: on chDB a 20k-row chunk of ad_performance took ~2.3 µs/row
 * to insert against ~4.1 as JSONCompactEachRow (bench/MEASUREMENTS.md). Absent and null differ, so
 * a Nullable column with a DEFAULT needs no special path.
 *
 * Only types whose layout is exact from the checked JS value are written; a table with any other
 * column (Decimal, Enum, UUID, a DateTime in a zone other than UTC, ...) has no binary writer and
 * goes as JSON (sink.ts).
 */
import type { ColumnSpec } from './table-schema.js';

/** A growable byte buffer the sink owns (pooled); `pos` is the end of what was written. */
export interface ByteWriter {
  buf: Buffer;
  pos: number;
  /** Makes room for `bytes` more. */
  ensure(bytes: number): void;
}

/** Writes one row (values in insert-column order, `undefined` = absent). */
export type RowBinaryWriter = (w: ByteWriter, values: readonly unknown[]) => void;

type Put = (w: ByteWriter, v: unknown) => void;

const TWO_32 = 4_294_967_296;
const DAY_MS = 86_400_000;

function varint(w: ByteWriter, n: number): void {
  while (n >= 0x80) {
    w.buf[w.pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  w.buf[w.pos++] = n;
}

/** Length-prefixed UTF-8. Short ASCII (most values) is copied in JS: a native write per value costs more. */
function putString(w: ByteWriter, v: unknown): void {
  const s = v as string;
  const length = s.length;
  w.ensure(length * 3 + 10);
  const at = w.pos;
  const buf = w.buf;
  if (length < 0x40) {
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + 1 + i] = c;
    }
    if (i === length) {
      buf[at] = length;
      w.pos = at + 1 + length;
      return;
    }
  }
  // Written after a one-byte length guess, moved in the rare case the length needs more.
  const n = buf.write(s, at + 1);
  if (n < 0x80) {
    buf[at] = n;
    w.pos = at + 1 + n;
    return;
  }
  let width = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 128)) width++;
  buf.copyWithin(at + width, at + 1, at + 1 + n);
  w.pos = at;
  varint(w, n);
  w.pos += n;
}

function putFixedString(length: number): Put {
  return (w, v) => {
    w.ensure(length);
    const n = w.buf.write(v as string, w.pos, length);
    w.buf.fill(0, w.pos + n, w.pos + length);
    w.pos += length;
  };
}

function putInt64(w: ByteWriter, v: number): void {
  // Exact for every safe integer: the low half by ToUint32 (modulo 2^32), the high half floored.
  w.buf.writeUInt32LE(v >>> 0, w.pos);
  w.buf.writeInt32LE(Math.floor(v / TWO_32) | 0, w.pos + 4);
  w.pos += 8;
}

function fixed(bytes: number, write: (b: Buffer, v: number, at: number) => unknown): Put {
  return (w, v) => {
    write(w.buf, v as number, w.pos);
    w.pos += bytes;
  };
}

const INTS: Readonly<Record<string, Put>> = {
  UInt8: fixed(1, (b, v, at) => b.writeUInt8(v, at)),
  Int8: fixed(1, (b, v, at) => b.writeInt8(v, at)),
  UInt16: fixed(2, (b, v, at) => b.writeUInt16LE(v, at)),
  Int16: fixed(2, (b, v, at) => b.writeInt16LE(v, at)),
  UInt32: fixed(4, (b, v, at) => b.writeUInt32LE(v, at)),
  Int32: fixed(4, (b, v, at) => b.writeInt32LE(v, at)),
  UInt64: (w, v) => putInt64(w, v as number),
  Int64: (w, v) => putInt64(w, v as number),
  Float32: fixed(4, (b, v, at) => b.writeFloatLE(v, at)),
  Float64: fixed(8, (b, v, at) => b.writeDoubleLE(v, at)),
};

/** Batches repeat a few dates: their day numbers, remembered (bounded). */
const dayNumbers = new Map<string, number>();

/** "YYYY-MM-DD" (checked by validate.ts) -> days since 1970-01-01. */
function dayNumber(date: string): number {
  let d = dayNumbers.get(date);
  if (d === undefined) {
    d = Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) / DAY_MS;
    if (dayNumbers.size > 50_000) dayNumbers.clear();
    dayNumbers.set(date, d);
  }
  return d;
}

/** "YYYY-MM-DD HH:MM:SS[.fff…]" (validate.ts normalises to UTC) -> [seconds, fraction digits]. */
function utcSeconds(text: string): [number, string] {
  const seconds = Date.UTC(+text.slice(0, 4), +text.slice(5, 7) - 1, +text.slice(8, 10), +text.slice(11, 13), +text.slice(14, 16), +text.slice(17, 19)) / 1000;
  return [seconds, text.length > 20 ? text.slice(20) : ''];
}

const MAX_DATETIME = TWO_32 - 1;

function putDateTime(w: ByteWriter, v: unknown): void {
  // DateTime is 1970..2106: the text format saturates what lies outside, so does this.
  const s = utcSeconds(v as string)[0];
  w.buf.writeUInt32LE(Math.min(Math.max(s, 0), MAX_DATETIME), w.pos);
  w.pos += 4;
}

function putDateTime64(precision: number): Put {
  const scale = 10 ** precision;
  return (w, v) => {
    const [s, digits] = utcSeconds(v as string);
    const fraction = precision === 0 ? 0 : Number(digits.slice(0, precision).padEnd(precision, '0'));
    putInt64(w, s * scale + fraction);
  };
}

function putStringArray(w: ByteWriter, v: unknown): void {
  const items = v as readonly string[];
  w.ensure(10);
  varint(w, items.length);
  for (const item of items) putString(w, item);
}

const UTC = /^'(UTC|Etc\/UTC|GMT|Etc\/GMT)'$/;

function unwrap(type: string, wrapper: string): string | undefined {
  return type.startsWith(`${wrapper}(`) && type.endsWith(')') ? type.slice(wrapper.length + 1, -1).trim() : undefined;
}

/** The writer of one column type, or undefined when its layout is not written here. */
export function binaryPut(type: string): Put | undefined {
  const t = type.trim();
  const lc = unwrap(t, 'LowCardinality');
  if (lc !== undefined) return binaryPut(lc); // same layout as the inner type
  const nullable = unwrap(t, 'Nullable');
  if (nullable !== undefined) {
    const inner = binaryPut(nullable);
    if (!inner) return undefined;
    return (w, v) => {
      if (v === null) w.buf[w.pos++] = 1;
      else {
        w.buf[w.pos++] = 0;
        inner(w, v);
      }
    };
  }
  if (t === 'String') return putString;
  const fixedLength = unwrap(t, 'FixedString');
  if (fixedLength !== undefined) return /^\d+$/.test(fixedLength) ? putFixedString(Number(fixedLength)) : undefined;
  if (t in INTS) return INTS[t];
  if (t === 'Bool' || t === 'Boolean') return (w, v) => void (w.buf[w.pos++] = v ? 1 : 0);
  // Date is 1970..2149: the text format saturates what lies outside, so does this.
  if (t === 'Date') return (w, v) => INTS.UInt16(w, Math.min(Math.max(dayNumber(v as string), 0), 65_535));
  if (t === 'Date32') return (w, v) => INTS.Int32(w, dayNumber(v as string));
  const dt = unwrap(t, 'DateTime');
  if (dt !== undefined && UTC.test(dt)) return putDateTime;
  const dt64 = unwrap(t, 'DateTime64');
  if (dt64 !== undefined) {
    const m = /^(\d)\s*,\s*('.*')$/.exec(dt64);
    // Up to microseconds the ticks stay exact in a double.
    if (m && Number(m[1]) <= 6 && UTC.test(m[2] as string)) return putDateTime64(Number(m[1]));
    return undefined;
  }
  const array = unwrap(t, 'Array');
  if (array !== undefined && (array === 'String' || array === 'LowCardinality(String)')) return putStringArray;
  return undefined;
}

/**
 * The row writer for these insert columns (in order), or undefined when one of them has a type
 * written only as text. Values are what validate.ts's encoder produced: checked and coerced.
 */
export function compileRowBinary(columns: readonly ColumnSpec[]): RowBinaryWriter | undefined {
  const puts: Put[] = [];
  for (const c of columns) {
    const put = binaryPut(c.type);
    if (!put) return undefined;
    puts.push(put);
  }
  return (w, values) => {
    for (let i = 0; i < puts.length; i++) {
      const v = values[i];
      // The flag, a null flag and the widest fixed value (8 bytes); strings make their own room.
      w.ensure(10);
      if (v === undefined) {
        w.buf[w.pos++] = 1;
        continue;
      }
      w.buf[w.pos++] = 0;
      (puts[i] as Put)(w, v);
    }
  };
}
