import { describe, expect, it } from 'vitest';
import { validateModel } from '../../../src/semantic/load.js';
import { cubeQuality } from '../../../src/semantic/quality.js';

const model = (rules: string) => `
cubes:
  - name: platforms
    sql: SELECT * FROM platforms FINAL
    shared: true
    dimensions:
      - { name: platform, sql: "{CUBE}.platform", type: string, primary_key: true }
  - name: facts
    sql_table: facts
    tenant_column: tenant_id
    meta:
      strata:
${rules}
    measures:
      - { name: n, type: count }
    dimensions:
      - { name: platform, sql: platform, type: string }
`;

describe('data-quality rules (meta.strata)', () => {
  it('parses every rule kind and resolves references to a table column', () => {
    const { model: m, problems } = validateModel([
      {
        path: 'm.yml',
        text: model(`        natural_key: [date, ad_id]
        quality:
          - { name: p, column: platform, accepted_values_from: platforms.platform }
          - { name: d, column: device, accepted_values: [mobile] }
          - { name: c, column: country, accepted_values: iso_3166_alpha2 }
          - { name: t, column: date, min: "2000-01-01", max_days_ahead: 1 }
          - { name: i, column: impressions, max: 100, max_factor_of_trailing_max: 10 }`),
      },
    ]);
    expect(problems).toEqual([]);
    const { quality } = cubeQuality(m, m.cubes.facts);
    expect(quality.naturalKey).toEqual(['date', 'ad_id']);
    expect(quality.rules.map((r) => r.kind)).toEqual(['accepted_values_from', 'accepted_values', 'accepted_values', 'date_bounds', 'bounds']);
    expect(quality.rules[0]).toMatchObject({ ref: { table: 'platforms', column: 'platform' } });
    expect(quality.rules[4]).toMatchObject({ max: 100, maxFactorOfTrailingMax: 10, trailingDays: 28 });
  });

  it('validate-models reports bad rules with file and line', () => {
    const { problems } = validateModel([
      {
        path: 'm.yml',
        text: model(`        quality:
          - { name: p, column: platform, references: nosuch.platform }
          - { name: q, column: x }
          - { name: r, column: y, max_days_ahead: -1 }
          - { column: z, accepted_values: [a] }`),
      },
    ]);
    expect(problems.map((p) => [p.file, p.message])).toEqual([
      ['m.yml', 'cube "facts": rule "p": "nosuch.platform" must name a dimension of a cube as cube.dimension'],
      ['m.yml', expect.stringContaining('rule "q" checks nothing')],
      ['m.yml', 'cube "facts": rule "r": max_days_ahead must be a whole number >= 0'],
      ['m.yml', 'cube "facts": meta.strata.quality[3] needs a name (an identifier)'],
    ]);
    // At the cube's meta block.
    expect(new Set(problems.map((p) => p.line))).toEqual(new Set([12]));
  });
});
