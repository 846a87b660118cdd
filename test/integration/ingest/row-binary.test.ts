/**
 * Binary rows (RowBinaryWithDefaults, ingest/row-binary.ts) against ClickHouse's own JSON parser:
 * the same checked rows go into two identical tables, one as binary, one as JSONCompactEachRow,
 * and the tables must read back the same (signed columns carry names the checks let be negative), for every column type the writer handles, on the
 * embedded engine and over HTTP (the ClickHouse-HTTP adapter).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { compileRowBinary } from '../../../src/ingest/row-binary.js';
import { createRowSink } from '../../../src/ingest/sink.js';
import { columnSpec, describeTable } from '../../../src/ingest/table-schema.js';
import { compileRowEncoder } from '../../../src/ingest/validate.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { type ClickhouseHttp, startClickhouseHttp } from '../../helpers/clickhouse-http.js';

const COLUMNS = `(
  tenant_id LowCardinality(String),
  id UInt32,
  s String,
  lc LowCardinality(String),
  fixed FixedString(4),
  u8 UInt8, delta Int8, u16 UInt16, i16 Int16, longitude Int32,
  u64 UInt64, adjustment Int64,
  f32 Float32 DEFAULT 0.25, latitude Float64 DEFAULT 0,
  ok Bool DEFAULT true,
  d Date DEFAULT '2000-01-01', d32 Date32 DEFAULT '2000-01-01',
  dt DateTime('UTC') DEFAULT 0, dt64 DateTime64(3, 'UTC') DEFAULT 0,
  maybe_date Nullable(Date),
  maybe_s Nullable(String) DEFAULT 'was absent',
  tags Array(String) DEFAULT ['none'],
  note String DEFAULT 'default note',
  at DateTime64(3, 'UTC') DEFAULT toDateTime64('2001-02-03 04:05:06.789', 3, 'UTC')
) ENGINE = MergeTree ORDER BY id`;

const long = 'é'.repeat(70); // 140 bytes: a two-byte length
const huge = 'x'.repeat(20_000); // a three-byte length

/** Rows as a client sends them: every type, edge values, absent and null columns. */
function rowsToSend(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [
    {
      id: 1,
      s: 'plain',
      lc: 'meta',
      fixed: 'ab',
      u8: 255,
      delta: -128,
      u16: 65_535,
      i16: 32_766,
      longitude: -2_147_483_648,
      u64: Number.MAX_SAFE_INTEGER,
      adjustment: Number.MIN_SAFE_INTEGER,
      f32: 1.5,
      latitude: -0.1,
      ok: true,
      d: '2026-10-01',
      d32: '1901-05-06',
      dt: '2026-10-01 12:34:56',
      dt64: '2026-10-01T12:34:56.789+02:00',
      maybe_date: null,
      maybe_s: null,
      tags: ['a', 'ü', ''],
      note: 'sent',
      at: '2020-01-01 00:00:00.5',
    },
    // Absent values take the column DEFAULT (Nullable with a DEFAULT too: absent is not null).
    { id: 2, s: long, lc: '', fixed: 'abcd', u8: 0, delta: 127, u16: 0, i16: 32_767, longitude: 2_147_483_647, u64: 4_294_967_296, adjustment: -1 },
    {
      id: 3,
      s: huge,
      lc: 'x',
      fixed: '',
      u8: 1,
      delta: 0,
      u16: 1,
      i16: 0,
      longitude: 0,
      u64: 0,
      adjustment: 4_294_967_297,
      f32: 0,
      latitude: 1e300,
      ok: false,
    },
    // Outside Date / DateTime's ranges: saturated, as the text formats do.
    {
      id: 4,
      s: "quote ' backslash \\ newline \n tab \t",
      lc: 'y',
      fixed: 'é',
      u8: 2,
      delta: -1,
      u16: 2,
      i16: 1,
      longitude: -1,
      u64: 1,
      adjustment: 0,
      d: '1950-01-01',
      d32: '2299-12-31',
      dt: '2200-01-01 00:00:00',
      dt64: '1969-12-31 23:59:59.001',
      maybe_date: '2149-06-06',
      maybe_s: 'set',
      tags: [],
    },
    { id: 5, s: '', lc: 'z', fixed: 'z', u8: 3, delta: 3, u16: 3, i16: 3, longitude: 3, u64: 3, adjustment: 3, d: '2150-01-01', dt: '1960-01-01 00:00:00' },
  ];
  for (let i = 6; i < 3_000; i++) {
    rows.push({
      id: i,
      s: `row ${i}`,
      lc: `v${i % 7}`,
      fixed: String(i % 100),
      u8: i % 256,
      delta: (i % 256) - 128,
      u16: i,
      i16: i,
      longitude: i * 1000,
      u64: i * 1e9,
      adjustment: -i * 1e9,
    });
  }
  return rows;
}

async function insertBoth(engine: Engine, tenant: string): Promise<void> {
  for (const t of ['via_binary', 'via_json']) {
    await engine.command(`DROP TABLE IF EXISTS ${t}`);
    await engine.command(`CREATE TABLE ${t} ${COLUMNS}`);
  }
  const schema = await describeTable(engine, 'via_binary');
  const encoder = compileRowEncoder(schema, tenant);
  expect(encoder.binary).toBeDefined();
  expect(await engine.acceptsFormat?.('RowBinaryWithDefaults')).toBe(true);
  const encoded = rowsToSend().map((r) => {
    const e = encoder.encode(r);
    if (typeof e === 'string') throw new Error(e);
    return e;
  });
  // Small chunks: rows cross chunk boundaries and the pooled buffers grow and are reused.
  for (const [table, binary] of [
    ['via_binary', encoder.binary],
    ['via_json', undefined],
  ] as const) {
    const sink = createRowSink(engine, { table, columns: encoder.columns, compact: false, binary });
    for (let i = 0; i < encoded.length; i++) {
      sink.add(encoded[i] as unknown[]);
      if ((i + 1) % 700 === 0) await sink.cut();
    }
    await sink.finish();
  }
}

async function readBack(engine: Engine, table: string): Promise<Record<string, unknown>[]> {
  // Every column as text, so a value that differs in any bit shows.
  const { rows } = await engine.query(`SELECT * APPLY(toString) FROM ${table} ORDER BY id`);
  return rows;
}

async function expectSameTables(engine: Engine): Promise<void> {
  const [binary, json] = [await readBack(engine, 'via_binary'), await readBack(engine, 'via_json')];
  expect(binary).toHaveLength(2_999);
  expect(binary).toEqual(json);
  // Spot checks against the values sent, not only against the JSON path.
  const byId = new Map(binary.map((r) => [r['toString(id)'], r]));
  expect(byId.get('1')).toMatchObject({
    'toString(tenant_id)': 'acme',
    'toString(u64)': '9007199254740991',
    'toString(adjustment)': '-9007199254740991',
    'toString(dt64)': '2026-10-01 10:34:56.789',
    'toString(maybe_date)': null,
    'toString(maybe_s)': null,
    'toString(tags)': "['a','ü','']",
    'toString(at)': '2020-01-01 00:00:00.500',
  });
  expect(byId.get('2')).toMatchObject({
    'toString(s)': long,
    'toString(maybe_s)': 'was absent',
    'toString(tags)': "['none']",
    'toString(note)': 'default note',
    'toString(at)': '2001-02-03 04:05:06.789',
    'toString(d)': '2000-01-01',
    'toString(f32)': '0.25',
    'toString(ok)': 'true',
  });
  expect(byId.get('3')?.['toString(s)']).toBe(huge);
  expect(byId.get('4')).toMatchObject({ 'toString(d)': '1970-01-01', 'toString(dt)': '2106-02-07 06:28:15', 'toString(maybe_date)': '2149-06-06' });
  expect(byId.get('5')).toMatchObject({ 'toString(d)': '2149-06-06', 'toString(dt)': '1970-01-01 00:00:00' });
}

describe('RowBinaryWithDefaults rows read back as the JSON rows do', () => {
  let dir: string;
  let embedded: Engine;
  let http: ClickhouseHttp;
  let overHttp: Engine;

  beforeAll(async () => {
    dir = makeTempDir();
    embedded = createEngine({ database: 'strata', chdbPath: `${dir}/ch`, queryTimeoutMs: 30_000 });
    http = await startClickhouseHttp();
    overHttp = createEngine({ url: http.url, database: 'strata', chdbPath: '/unused', queryTimeoutMs: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await embedded?.close();
    await overHttp?.close();
    await http?.stop();
  });

  it('files spooled for chDB are removed, and so are those a killed process left', async () => {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const leftover = join(base, `strata-insert-${deadPid}-test`);
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'chunk.bin'), 'x');
    // The first binary insert of this process makes its spool directory, and sweeps.
    const fresh = embedded;
    await fresh.command('CREATE TABLE IF NOT EXISTS spooled (id UInt32) ENGINE = MergeTree ORDER BY id');
    await fresh.insertRaw('spooled', Buffer.from([0, 7, 0, 0, 0]), 'RowBinaryWithDefaults', ['id']);
    expect((await fresh.query('SELECT id FROM spooled')).rows).toEqual([{ id: 7 }]);
    expect(existsSync(leftover)).toBe(false);
    const ours = readdirSync(base).filter((n) => n.startsWith(`strata-insert-${process.pid}-`));
    expect(ours).toHaveLength(1);
    expect(readdirSync(join(base, ours[0] as string))).toEqual([]); // the chunk's file went after its insert
  });

  it('on the embedded engine', async () => {
    await insertBoth(embedded, 'acme');
    await expectSameTables(embedded);
  });

  it('over HTTP', async () => {
    await insertBoth(overHttp, 'acme');
    await expectSameTables(overHttp);
  });
});

describe('which tables get a binary writer', () => {
  it('none when a column has a type written only as text', () => {
    for (const type of [
      'UUID',
      'Decimal(10, 2)',
      "Enum8('a' = 1)",
      'DateTime',
      "DateTime('Europe/Paris')",
      "DateTime64(9, 'UTC')",
      'Map(String, String)',
      'Array(UInt8)',
    ]) {
      expect(compileRowBinary([columnSpec('id', 'UInt32'), columnSpec('x', type)]), type).toBeUndefined();
    }
    expect(compileRowBinary([columnSpec('id', 'UInt32'), columnSpec('x', 'LowCardinality(Nullable(String))')])).toBeDefined();
  });
});
