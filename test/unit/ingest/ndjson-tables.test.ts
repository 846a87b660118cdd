import { describe, expect, it } from 'vitest';
import { forEachNdjsonLine } from '../../../src/ingest/ndjson.js';
import { cubesReadingTable } from '../../../src/ingest/tables.js';
import type { Cube, Model } from '../../../src/semantic/model.js';

describe('NDJSON', () => {
  it('numbers physical lines (blank ones skipped), handles CRLF and reports bad JSON', () => {
    const values: [unknown, number][] = [];
    const errors: [number, string][] = [];
    const n = forEachNdjsonLine(
      '{"a":1}\r\n\n{"a":2}\n{oops\n  \n[3]',
      (v, line) => values.push([v, line]),
      (_reason, line, text) => errors.push([line, text]),
    );
    expect(n).toBe(4);
    expect(values).toEqual([
      [{ a: 1 }, 1],
      [{ a: 2 }, 3],
      [[3], 6],
    ]);
    expect(errors).toEqual([[4, '{oops']]);
  });
});

describe('table -> cubes', () => {
  const cube = (name: string, c: Partial<Cube>) => ({ name, ...c }) as Cube;
  const model: Model = {
    cubes: {
      ad_performance: cube('ad_performance', { sqlTable: 'marketing.ad_performance' }),
      ad_perf_summary: cube('ad_perf_summary', {
        sql: { source: 'SELECT * FROM ad_performance WHERE x', parts: [{ kind: 'text', text: 'SELECT * FROM ad_performance WHERE x' }] },
      }),
      ad_performance_archive: cube('ad_performance_archive', { sqlTable: 'ad_performance_archive' }),
      campaigns: cube('campaigns', { sqlTable: '`campaigns`' }),
    },
    views: {},
  };
  it('maps by sql_table (schema-qualified or quoted) and by a sql that names the table', () => {
    expect(cubesReadingTable(model, 'ad_performance')).toEqual(['ad_perf_summary', 'ad_performance']);
    expect(cubesReadingTable(model, 'campaigns')).toEqual(['campaigns']);
    expect(cubesReadingTable(model, 'clients')).toEqual([]);
  });
});
