/** COPY TO STDOUT encodings against what Postgres 18 writes for the same values (COPY docs' rules). */
import { beforeAll, describe, expect, it } from 'vitest';
import { msg } from '../../../src/sqlproxy/codec.js';
import { copyOut, copySource } from '../../../src/sqlproxy/copy-out.js';
import { loadParser, parseQuery } from '../../../src/sqlproxy/parse.js';
import { SqlError } from '../../../src/sqlproxy/sql-error.js';

beforeAll(() => loadParser());

const result = (names: string[], rows: (string | null)[][]) => ({
  rowDescription: msg.rowDescription(names.map((name) => ({ name, typeOid: 25, typeSize: -1, format: 0 }))),
  rows: rows.map((r) => msg.dataRow(r.map((c) => (c === null ? null : Buffer.from(c, 'utf8'))))),
  tag: `SELECT ${rows.length}`,
});

async function copied(sql: string, names: string[], rows: (string | null)[][]): Promise<string> {
  const { options } = await copySource(parseQuery(sql).statements[0]);
  const out = copyOut(result(names, rows), options);
  expect(out.tag).toBe(`COPY ${rows.length}`);
  // CopyOutResponse, the CopyData lines, CopyDone.
  expect(out.before![0][0]).toBe('H'.charCodeAt(0));
  expect(out.before!.at(-1)![0]).toBe('c'.charCodeAt(0));
  return out
    .before!.slice(1, -1)
    .map((m) => m.subarray(5).toString('utf8'))
    .join('');
}

describe('COPY TO STDOUT', () => {
  const values = [
    ['plain', 'a,b'],
    ['tab\there', 'line\nbreak'],
    ['back\\slash', null],
    ['say "hi"', ''],
  ];

  it('text format: backslash escapes, \\N for NULL, tab-separated', async () => {
    expect(await copied('COPY (SELECT 1) TO STDOUT', ['a', 'b'], values)).toBe('plain\ta,b\ntab\\there\tline\\nbreak\nback\\\\slash\t\\N\nsay "hi"\t\n');
  });

  it('CSV with a header: quoted only where needed, NULL unquoted empty, empty string quoted', async () => {
    expect(await copied('COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER)', ['a', 'b'], values)).toBe(
      'a,b\nplain,"a,b"\ntab\there,"line\nbreak"\nback\\slash,\n"say ""hi""",""\n',
    );
  });

  it('CSV options: delimiter, NULL text, escape', async () => {
    expect(
      await copied(
        "COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL 'NA', ESCAPE '\\')",
        ['a', 'b'],
        [
          ['x;y', null],
          ['q"\\', 'NA'],
        ],
      ),
    ).toBe('"x;y";NA\n"q\\"\\\\";"NA"\n');
  });

  it('a table with columns reads as SELECT of them; writes and server files are refused', async () => {
    const { inner } = await copySource(parseQuery('COPY ad_performance (platform, clicks) TO STDOUT').statements[0]);
    expect(inner.text.replace(/\s+/g, ' ').trim()).toBe('SELECT platform, clicks FROM ad_performance');
    for (const [sql, code] of [
      ['COPY ad_performance FROM STDIN', '25006'],
      ["COPY (SELECT 1) TO '/tmp/x'", '0A000'],
      ['COPY (SELECT 1) TO STDOUT WITH (FORMAT binary)', '0A000'],
    ]) {
      const e = await copySource(parseQuery(sql).statements[0]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SqlError);
      expect((e as SqlError).code).toBe(code);
    }
  });
});
