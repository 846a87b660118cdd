import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/errors.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { Measure } from '../../../src/semantic/model.js';
import { resolveMember } from '../../../src/semantic/resolve.js';
import { load } from './helpers.js';

const DIR = 'test/fixtures/models/valid';
const files = readdirSync(DIR)
  .sort()
  .map((f) => ({ path: `${DIR}/${f}`, text: readFileSync(`${DIR}/${f}`, 'utf8') }));
const model = loadModel(files);
const ads = model.cubes.ad_performance;

describe('loadModel on the valid fixture', () => {
  it('loads every cube and view', () => {
    expect(Object.keys(model.cubes).sort()).toEqual(['ad_performance', 'campaigns', 'channels']);
    expect(Object.keys(model.views)).toEqual(['marketing']);
  });

  it('resolves cube-level fields', () => {
    expect(ads).toMatchObject({
      kind: 'cube',
      name: 'ad_performance',
      title: 'Ad Performance',
      description: 'Daily ad metrics per campaign',
      sqlTable: 'marketing.ad_performance',
      tenant: { kind: 'column', column: 'tenant_id' },
      primaryKey: ['id'],
      public: true,
      scopes: ['marketing:read'],
      meta: { owner: 'growth' },
      refreshKey: { everySeconds: 10 },
      location: { file: `${DIR}/ad_performance.yml`, line: 2 },
    });
    expect(ads.sql).toBeUndefined();
    expect(model.cubes.channels.tenant).toEqual({ kind: 'shared' });
    expect(model.cubes.campaigns.sqlTable).toBeUndefined();
    expect(model.cubes.campaigns.sql).toEqual({
      parts: [{ kind: 'text', text: 'SELECT * FROM marketing.campaigns WHERE NOT deleted' }],
      source: 'SELECT * FROM marketing.campaigns WHERE NOT deleted',
    });
  });

  it('normalizes join relationships and parses join sql', () => {
    expect(ads.joins.campaigns).toEqual({
      target: 'campaigns',
      relationship: 'many_to_one', // belongs_to
      sql: {
        parts: [
          { kind: 'cube', cube: 'ad_performance' },
          { kind: 'text', text: '.campaign_id = ' },
          { kind: 'member', cube: 'campaigns', member: 'id' },
        ],
        source: '{CUBE}.campaign_id = {campaigns.id}',
      },
      location: { file: `${DIR}/ad_performance.yml`, line: 12 },
    });
    expect(model.cubes.campaigns.joins.channels.relationship).toBe('many_to_one'); // manyToOne
  });

  it('resolves measures: count without sql, number over measures, formats, currency, drill members', () => {
    expect(ads.measures.count).toMatchObject({ type: 'count', filters: [], drillMembers: [] });
    expect(ads.measures.count.sql).toBeUndefined();
    expect(ads.measures.clicks.drillMembers).toEqual(['ad_performance.id', 'campaigns.name']);
    expect(ads.measures.cost).toMatchObject({ format: 'currency', currency: 'USD' });
    expect(ads.measures.ctr).toEqual<Measure>({
      kind: 'measure',
      cube: 'ad_performance',
      name: 'ctr',
      path: 'ad_performance.ctr',
      title: 'Ad Performance Ctr',
      shortTitle: 'Ctr',
      meta: {},
      public: true,
      scopes: ['marketing:read'],
      location: { file: `${DIR}/ad_performance.yml`, line: 31 },
      type: 'number',
      sql: {
        parts: [
          { kind: 'member', cube: 'ad_performance', member: 'clicks' },
          { kind: 'text', text: ' / NULLIF(' },
          { kind: 'member', cube: 'ad_performance', member: 'impressions' },
          { kind: 'text', text: ', 0)' },
        ],
        source: '{clicks} / NULLIF({impressions}, 0)',
      },
      filters: [],
      format: 'percent',
      drillMembers: [],
    });
  });

  it('humanizes titles and keeps explicit ones', () => {
    expect(ads.measures.cost_per_click).toMatchObject({ title: 'Ad Performance Cost Per Click', shortTitle: 'Cost Per Click' });
    expect(ads.measures.clicks_7d).toMatchObject({ title: 'Ad Performance Clicks (7 days)', shortTitle: 'Clicks (7 days)' });
    expect(model.cubes.campaigns.dimensions.name).toMatchObject({ title: 'Campaigns Campaign', shortTitle: 'Campaign' });
  });

  it('merges cube and member scopes (sorted, unique)', () => {
    expect(ads.measures.cost.scopes).toEqual(['finance:read', 'marketing:read']);
    expect(ads.measures.cost_per_click.scopes).toEqual(['finance:read', 'marketing:read']);
    expect(model.cubes.campaigns.dimensions.status.scopes).toEqual(['marketing:admin']);
    expect(model.cubes.campaigns.dimensions.name.scopes).toEqual([]);
  });

  it('parses measure filters and rolling windows', () => {
    expect(ads.measures.paid_clicks.filters.map((f) => f.parts)).toEqual([
      [
        { kind: 'cube', cube: 'ad_performance' },
        { kind: 'text', text: '.cost > 0' },
      ],
      [
        { kind: 'member', cube: 'ad_performance', member: 'channel' },
        { kind: 'text', text: " != 'organic'" },
      ],
    ]);
    expect(ads.measures.clicks_7d.rollingWindow).toEqual({ trailing: { amount: 7, unit: 'day' }, offset: 'end' });
    expect(ads.measures.running_cost.rollingWindow).toEqual({ trailing: 'unbounded', offset: 'start' });
  });

  it('resolves dimensions: primary key, case, granularities, public', () => {
    expect(ads.dimensions.id).toMatchObject({ primaryKey: true, public: false, type: 'string' });
    expect(ads.dimensions.channel_group.sql).toBeUndefined();
    expect(ads.dimensions.channel_group.case).toEqual({
      when: [
        {
          label: 'Paid search',
          sql: {
            parts: [
              { kind: 'cube', cube: 'ad_performance' },
              { kind: 'text', text: ".channel IN ('search', 'shopping')" },
            ],
            source: "{CUBE}.channel IN ('search', 'shopping')",
          },
        },
        {
          label: 'Social',
          sql: {
            parts: [
              { kind: 'member', cube: 'ad_performance', member: 'channel' },
              { kind: 'text', text: " = 'social'" },
            ],
            source: "{channel} = 'social'",
          },
        },
      ],
      else: 'Other',
    });
    expect(ads.dimensions.date.granularities).toEqual({
      fiscal_week: { name: 'fiscal_week', title: 'Fiscal Week', interval: { amount: 1, unit: 'week' }, offset: { amount: 2, unit: 'day' } },
    });
    expect(ads.dimensions.channel.granularities).toBeUndefined();
  });

  it('resolves segments', () => {
    expect(ads.segments.paid).toMatchObject({ kind: 'segment', path: 'ad_performance.paid', title: 'Ad Performance Paid' });
    expect(ads.segments.paid.sql.parts).toEqual([
      { kind: 'cube', cube: 'ad_performance' },
      { kind: 'text', text: '.cost > 0' },
    ]);
  });

  it('returns a frozen model that resolveMember understands', () => {
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(ads.measures.ctr.sql!.parts)).toBe(true);
    expect(resolveMember(model, 'marketing.campaigns_name').member.path).toBe('campaigns.name');
    expect(() => resolveMember(model, 'ad_performance.clik')).toThrow('did you mean "ad_performance.clicks"');
  });
});

describe('loadModel details', () => {
  const cube = (extra: string) => `cubes:
  - name: orders
    sql_table: orders
    shared: true
${extra}`;

  it('accepts legacy `shown`, public: false and relationship spellings', () => {
    const m = load(`cubes:
  - name: a
    sql_table: a
    shared: true
    shown: false
    joins:
      - { name: b, relationship: hasMany, sql: "{CUBE}.id = {b.a_id}" }
      - { name: c, relationship: has_one, sql: "{CUBE}.id = {c.a_id}" }
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
  - name: b
    sql_table: b
    shared: true
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
      - { name: a_id, type: number, sql: a_id }
  - name: c
    sql_table: c
    shared: true
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
      - { name: a_id, type: number, sql: a_id }
`);
    expect(m.cubes.a.public).toBe(false);
    expect(m.cubes.a.dimensions.id.public).toBe(false); // members of a private cube are private
    expect(m.cubes.a.joins.b.relationship).toBe('one_to_many');
    expect(m.cubes.a.joins.c.relationship).toBe('one_to_one');
  });

  it('reads refresh_key every in other units and sql', () => {
    const m = load(
      cube(`    refresh_key:
      every: 2 minutes
      sql: SELECT max(updated_at) FROM orders
`),
    );
    expect(m.cubes.orders.refreshKey).toEqual({
      everySeconds: 120,
      sql: { parts: [{ kind: 'text', text: 'SELECT max(updated_at) FROM orders' }], source: 'SELECT max(updated_at) FROM orders' },
    });
  });

  it('accepts empty files and files with only views or only cubes', () => {
    const m = loadModel([
      { path: 'empty.yml', text: '' },
      { path: 'c.yml', text: cube('    measures:\n      - { name: count, type: count }\n') },
    ]);
    expect(Object.keys(m.cubes)).toEqual(['orders']);
  });

  it('throws ModelError with MODEL_INVALID code', () => {
    expect(() => load('cubes:\n  - name: x\n    sql_table: x\n')).toThrow(ModelError);
    try {
      load('cubes:\n  - name: x\n    sql_table: x\n');
    } catch (e) {
      expect((e as ModelError).code).toBe('MODEL_INVALID');
      expect((e as ModelError).message).toContain('m1.yml:2: cube x declares no tenant_column');
    }
  });
});

describe('YAML features', () => {
  it('resolves anchors and aliases', () => {
    const m = load(`cubes:
  - name: a
    sql_table: a
    shared: true
    dimensions:
      - &pk
        name: id
        type: number
        sql: id
        primary_key: true
  - name: b
    sql_table: b
    shared: true
    dimensions:
      - *pk
`);
    expect(m.cubes.a.primaryKey).toEqual(['id']);
    expect(m.cubes.b.dimensions.id).toMatchObject({ type: 'number', primaryKey: true, path: 'b.id', location: { file: 'm1.yml', line: 7 } });
  });
});
