/** Our text/binary encodings, byte for byte against a real Postgres (PGlite). */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontend, splitBackendMessages } from '../../../src/sqlproxy/codec.js';
import { decodeNumericBinary, decodeParam, encodeBinary, encodeText, OID } from '../../../src/sqlproxy/pg-types.js';

let db: PGlite;
beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
});
afterAll(() => db?.close());

/** Postgres' own encoding of `literal::type` in the given format. */
async function postgres(literal: string, type: string, format: 0 | 1): Promise<Buffer> {
  const out = await db.execProtocolRaw(
    Buffer.concat([frontend.parse('', `SELECT '${literal}'::${type}`, []), frontend.bind('', '', [], [], [format]), frontend.execute('', 0), frontend.sync()]),
  );
  const row = splitBackendMessages(out).find((m) => m.type === 'D')!;
  const len = row.body.readInt32BE(2);
  return Buffer.from(row.body.subarray(6, 6 + len));
}

describe('pg-types', () => {
  const cases: [number, string, string | number | boolean, string][] = [
    [OID.numeric, 'numeric', 0.5, '0.5'],
    [OID.numeric, 'numeric', 0.04030710172744722, '0.04030710172744722'],
    [OID.numeric, 'numeric', 123456789.125, '123456789.125'],
    [OID.numeric, 'numeric', -12.5, '-12.5'],
    [OID.numeric, 'numeric', 0, '0'],
    [OID.numeric, 'numeric', 10000, '10000'],
    [OID.numeric, 'numeric', 0.0001, '0.0001'],
    [OID.int8, 'int8', 9007199254740991, '9007199254740991'],
    [OID.float8, 'float8', 1.5, '1.5'],
    [OID.bool, 'bool', true, 't'],
    [OID.timestamp, 'timestamp', '2024-02-29T13:45:10.250', '2024-02-29 13:45:10.25'],
    [OID.timestamp, 'timestamp', '1999-12-31T23:59:59.000', '1999-12-31 23:59:59'],
    [OID.date, 'date', '2024-02-29T00:00:00.000', '2024-02-29'],
    [OID.date, 'date', '1970-01-01T00:00:00.000', '1970-01-01'],
  ];
  for (const [oid, type, value, literal] of cases) {
    it(`${type} ${literal}`, async () => {
      expect(encodeBinary(oid, value)!.toString('hex')).toBe((await postgres(literal, type, 1)).toString('hex'));
      expect(encodeText(oid, value)).toBe((await postgres(literal, type, 0)).toString('utf8'));
      if (oid === OID.numeric) expect(decodeNumericBinary(await postgres(literal, type, 1))).toBe(literal);
    });
  }

  it('decodes binary parameters as Postgres encodes them', async () => {
    expect(decodeParam(OID.int4, 1, await postgres('42', 'int4', 1))).toBe(42);
    expect(decodeParam(OID.int8, 1, await postgres('-7', 'int8', 1))).toBe(-7);
    expect(decodeParam(OID.float8, 1, await postgres('2.25', 'float8', 1))).toBe(2.25);
    expect(decodeParam(OID.numeric, 1, await postgres('-0.125', 'numeric', 1))).toBe(-0.125);
    expect(decodeParam(OID.date, 1, await postgres('2024-03-01', 'date', 1))).toBe('2024-03-01');
    expect(decodeParam(OID.timestamp, 1, await postgres('2024-03-01 10:00:00.5', 'timestamp', 1))).toBe('2024-03-01T10:00:00.500');
    expect(decodeParam(OID.bool, 1, await postgres('f', 'bool', 1))).toBe(false);
  });
});
