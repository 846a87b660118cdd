import { describe, expect, it } from 'vitest';
import { CHANNELS, loadError, problems } from './helpers.js';

describe('validation rules (message + file:line)', () => {
  it('YAML syntax errors carry their line; other files are still validated', () => {
    const out = problems(
      { path: 'cube-models/bad.yml', text: 'cubes:\n  - name: x\n    sql: [\n' },
      { path: 'cube-models/other.yml', text: 'cubes:\n  - name: y\n    sql_table: y\n' },
    );
    expect(out[0]).toMatch(/^cube-models\/bad\.yml:4: YAML syntax error: /);
    expect(out).toContain('cube-models/other.yml:2: cube y declares no tenant_column; add `tenant_column: <column>` or mark it `shared: true`');
  });

  it('unknown keys at every level, with suggestions; unsupported Cube keys get their own message', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    shared: true
    titel: Orders
    extends: base
    measures:
      - name: count
        type: count
        descripton: x
        rolling_window: { trailing: 1 day, ofset: end }
    dimensions:
      - name: id
        type: number
        sql: id
        primarykey: true
cubez: []
`),
    ).toEqual([
      'm1.yml:5: unknown key "titel" in cube "orders" -> title',
      'm1.yml:6: "extends" in cube "orders" is a Cube feature Strata does not support',
      'm1.yml:10: unknown key "descripton" in measure "orders.count" -> description',
      'm1.yml:11: unknown key "ofset" in rolling_window of measure "orders.count" -> offset',
      'm1.yml:16: unknown key "primarykey" in dimension "orders.id" -> primary_key',
      'm1.yml:17: unknown key "cubez" in the file -> cubes',
    ]);
  });

  it('value shapes', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    shared: yes
    public: "no"
    meta: [1]
    measures:
      - name: count
        type: count
        drill_members: id
      - just a string
`),
    ).toEqual([
      'm1.yml:2: cube orders declares no tenant_column; add `tenant_column: <column>` or mark it `shared: true`',
      'm1.yml:4: "shared" of cube "orders" must be true or false',
      'm1.yml:5: "public" of cube "orders" must be true or false',
      'm1.yml:6: "meta" of cube "orders" must be a mapping',
      'm1.yml:8: "measures" of cube "orders" must be a list of mappings',
      'm1.yml:10: "drill_members" of measure "orders.count" must be a list of strings',
    ]);
  });

  it('missing, invalid and duplicate names (cube, member, view)', () => {
    expect(
      problems(
        `cubes:
  - sql_table: a
    shared: true
  - name: orders
    sql_table: orders
    shared: true
    measures:
      - type: count
      - name: count
        type: count
    dimensions:
      - name: count
        type: number
        sql: n
      - name: order date
        type: time
        sql: d
`,
        `cubes:
  - name: orders
    sql_table: orders2
    shared: true
views:
  - name: orders
    cubes:
      - join_path: orders
        includes: "*"
`,
      ),
    ).toEqual([
      'm1.yml:2: cube "?" has no name',
      'm1.yml:8: measure "orders.?" has no name',
      'm1.yml:12: duplicate member name in cube "orders" "count" (first defined at m1.yml:9)',
      'm1.yml:15: invalid name "order date" for dimension: use letters, digits and _ (not starting with a digit)',
      'm2.yml:2: duplicate cube name "orders" (first defined at m1.yml:4)',
      'm2.yml:6: duplicate view name "orders" (first defined at m1.yml:4)',
    ]);
  });

  it('invalid types, formats, currency, relationships', () => {
    expect(
      problems(
        `cubes:
  - name: orders
    sql_table: orders
    tenant_column: tenant_id
    joins:
      - name: channels
        relationship: belongs_too
        sql: "{CUBE}.channel = {channels.code}"
      - name: channels
        sql: "{CUBE}.channel = {channels.code}"
    measures:
      - name: total
        type: summ
        sql: amount
        format: procent
        currency: usd
      - name: other
        sql: x
    dimensions:
      - name: id
        type: text
        sql: id
        primary_key: true
`,
        CHANNELS,
      ),
    ).toEqual([
      'm1.yml:7: invalid relationship "belongs_too" for join "orders" -> "channels" (one of many_to_one, one_to_many, one_to_one) -> belongs_to',
      'm1.yml:9: duplicate join in cube "orders" "channels" (first defined at m1.yml:6)',
      'm1.yml:9: join "orders" -> "channels" has no relationship (one of many_to_one, one_to_many, one_to_one)',
      'm1.yml:13: invalid type "summ" for measure "orders.total" (one of count, count_distinct, count_distinct_approx, sum, avg, min, max, number, string, time, boolean) -> sum',
      'm1.yml:15: invalid format "procent" for measure "orders.total" (one of percent, currency, number, integer, id, imageUrl, link) -> percent',
      'm1.yml:16: invalid currency "usd" for measure "orders.total": use an ISO 4217 code such as "USD"',
      'm1.yml:17: measure "orders.other" has no type (one of count, count_distinct, count_distinct_approx, sum, avg, min, max, number, string, time, boolean)',
      'm1.yml:21: invalid type "text" for dimension "orders.id" (one of string, number, time, boolean)',
    ]);
  });

  it('sql_table vs sql exclusivity', () => {
    expect(
      problems(`cubes:
  - name: a
    shared: true
  - name: b
    shared: true
    sql_table: b
    sql: SELECT 1
  - name: c
    shared: true
    sql_table: "c; DROP TABLE x"
`),
    ).toEqual([
      'm1.yml:2: cube "a" declares neither sql_table nor sql',
      'm1.yml:7: cube "b" declares both sql_table and sql; use one',
      'm1.yml:10: invalid sql_table "c; DROP TABLE x" for cube "c": use "table" or "database.table"',
    ]);
  });

  it('tenant declaration: neither or both do not load', () => {
    const e = loadError(`cubes:
  - name: ad_performance
    sql_table: ad_performance
  - name: campaigns
    sql_table: campaigns
    shared: false
  - name: both
    sql_table: both
    shared: true
    tenant_column: tenant_id
  - name: odd
    sql_table: odd
    tenant_column: "tenant id"
`);
    expect(e.problems).toEqual([
      { file: 'm1.yml', line: 2, message: 'cube ad_performance declares no tenant_column; add `tenant_column: <column>` or mark it `shared: true`' },
      { file: 'm1.yml', line: 4, message: 'cube campaigns declares no tenant_column; add `tenant_column: <column>` or mark it `shared: true`' },
      { file: 'm1.yml', line: 10, message: 'cube both declares both tenant_column and shared: true; use one' },
      { file: 'm1.yml', line: 13, message: 'invalid tenant_column "tenant id" for cube odd: use a plain column name' },
    ]);
  });

  it('interval syntax: refresh_key, rolling_window, granularities', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    shared: true
    refresh_key:
      every: "*/5 * * * *"
    measures:
      - name: a
        type: sum
        sql: x
        rolling_window:
          trailing: 7 dayz
          leading: soon
          offset: middle
      - name: b
        type: sum
        sql: x
        rolling_window: {}
      - name: c
        type: number
        sql: "1"
        rolling_window: { trailing: 1 day }
    dimensions:
      - name: d
        type: time
        sql: d
        granularities:
          - name: fortnight
            interval: 2 fortnights
          - name: nothing
      - name: e
        type: string
        sql: e
        granularities:
          - { name: g, interval: 1 week }
  - name: other
    sql_table: other
    shared: true
    refresh_key:
      every: 0 second
`),
    ).toEqual([
      'm1.yml:6: refresh_key.every of cube "orders" is a cron expression; Strata supports "<number> <second|minute|hour|day|week|month|quarter|year>", e.g. "7 day"',
      'm1.yml:12: invalid interval "7 dayz" for trailing of rolling_window of measure "orders.a": use "<number> <second|minute|hour|day|week|month|quarter|year>", e.g. "7 day" or "unbounded"',
      'm1.yml:13: invalid interval "soon" for leading of rolling_window of measure "orders.a": use "<number> <second|minute|hour|day|week|month|quarter|year>", e.g. "7 day" or "unbounded"',
      'm1.yml:14: invalid offset "middle" for rolling_window of measure "orders.a" (start or end)',
      'm1.yml:18: rolling_window of measure "orders.b" needs "trailing" and/or "leading"',
      'm1.yml:22: rolling_window needs an aggregating measure type, but measure "orders.c" is of type number',
      'm1.yml:29: invalid interval "2 fortnights" for interval of granularity "fortnight" of dimension "orders.d": use "<number> <second|minute|hour|day|week|month|quarter|year>", e.g. "7 day"',
      'm1.yml:30: granularity "nothing" of dimension "orders.d" has no interval',
      'm1.yml:34: dimension "orders.e" has granularities but is not of type time',
      'm1.yml:40: every of refresh_key of cube "other" must be a positive interval, got "0 second"',
    ]);
  });

  it('required sql', () => {
    expect(
      problems(
        `cubes:
  - name: orders
    sql_table: orders
    shared: true
    joins:
      - name: channels
        relationship: many_to_one
    measures:
      - name: total
        type: sum
      - name: f
        type: count
        filters:
          - sql: ""
    dimensions:
      - name: id
        type: number
        primary_key: true
      - name: both
        type: string
        sql: x
        case:
          when: []
    segments:
      - name: s
`,
        CHANNELS,
      ),
    ).toEqual([
      'm1.yml:6: join "orders" -> "channels" has no sql',
      'm1.yml:9: measure "orders.total" has no sql',
      'm1.yml:14: filter of measure "orders.f" has empty sql',
      'm1.yml:16: dimension "orders.id" has no sql',
      'm1.yml:21: dimension "orders.both" declares both sql and case; use one',
      'm1.yml:23: case of dimension "orders.both" needs at least one "when"',
      'm1.yml:25: segment "orders.s" has no sql',
    ]);
  });

  it('unknown member and cube references in SQL, with suggestions', () => {
    expect(
      problems(`cubes:
  - name: ad_performance
    sql_table: ad_performance
    shared: true
    measures:
      - name: clicks
        type: sum
        sql: clicks
      - name: ctr
        type: number
        sql: "{clik} / NULLIF({CUBE.impresions}, 0)"
      - name: x
        type: sum
        sql: "{campains.name}"
    dimensions:
      - name: d
        type: string
        sql: "{ad_performance.chanel} || '{not_a_ref}'"
      - name: channel
        type: string
        sql: "{campains}"
      - name: broken
        type: string
        sql: "{CUBE.a.b}"
`),
    ).toEqual([
      'm1.yml:11: unknown member "ad_performance.clik" referenced in measure "ad_performance.ctr" -> clicks',
      'm1.yml:11: unknown member "ad_performance.impresions" referenced in measure "ad_performance.ctr"',
      'm1.yml:14: unknown cube "campains" referenced as {campains.name} in measure "ad_performance.x"',
      'm1.yml:18: unknown member "ad_performance.chanel" referenced in dimension "ad_performance.d" -> channel',
      'm1.yml:21: unknown member "ad_performance.campains" referenced in dimension "ad_performance.channel"',
      'm1.yml:24: invalid SQL template in dimension "ad_performance.broken": invalid reference "{CUBE.a.b}"',
    ]);
  });

  it('what a snippet may reference: number measures, dimensions, segments, joins, cube sql', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql: "SELECT * FROM t WHERE {status} = 1"
    tenant_column: tenant_id
    joins:
      - name: users
        relationship: many_to_one
        sql: "{CUBE}.user_id = {users.id} AND {items.id} = 1"
    measures:
      - name: total
        type: sum
        sql: amount
      - name: doubled
        type: sum
        sql: "{total} * 2"
      - name: ratio
        type: number
        sql: "{total} / {id}"
      - name: big
        type: count
        filters:
          - sql: "{total} > 10"
    dimensions:
      - name: id
        type: number
        sql: id
        primary_key: true
      - name: status
        type: string
        sql: "{total} || {paid}"
    segments:
      - name: paid
        sql: "{status} = 'paid'"
  - name: users
    sql_table: users
    tenant_column: tenant_id
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
  - name: items
    sql_table: items
    tenant_column: tenant_id
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
`),
    ).toEqual([
      'm1.yml:3: sql of cube "orders" may not reference member "orders.status" (only {CUBE} and cube names)',
      'm1.yml:8: join "orders" -> "users" may only reference members of "orders" and "users", not "items.id"',
      'm1.yml:15: measure "orders.doubled" references measure "orders.total"; only a measure of type number may reference other measures',
      'm1.yml:18: measure "orders.ratio" is of type number and may only reference measures, but references dimension "orders.id"',
      'm1.yml:22: filter of measure "orders.big" references measure "orders.total"; only measures of type number may reference measures',
      'm1.yml:30: dimension "orders.status" references measure "orders.total"; only measures of type number may reference measures',
      'm1.yml:30: dimension "orders.status" references segment "orders.paid"; segments are filters and cannot be used in SQL',
      'm1.yml:33: reference cycle: orders.paid -> orders.status -> orders.paid',
    ]);
  });

  it('cross-cube references need a join path', () => {
    expect(
      problems(`cubes:
  - name: a
    sql_table: a
    shared: true
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
      - { name: b_name, type: string, sql: "{b.name}" }
  - name: b
    sql_table: b
    shared: true
    dimensions:
      - { name: name, type: string, sql: name }
`),
    ).toEqual(['m1.yml:7: dimension "a.b_name" references {b.name} but cube "b" is not reachable from "a" through joins']);
  });

  it('reference cycles between members', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    shared: true
    measures:
      - { name: a, type: number, sql: "{b} + 1" }
      - { name: b, type: number, sql: "{c} + 1" }
      - { name: c, type: number, sql: "{a} + 1" }
    dimensions:
      - { name: self, type: string, sql: "{CUBE.self}" }
`),
    ).toEqual(['m1.yml:6: reference cycle: orders.a -> orders.b -> orders.c -> orders.a', 'm1.yml:10: reference cycle: orders.self -> orders.self']);
  });

  it('joins to unknown cubes, self-joins, and primary keys for joined cubes', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    tenant_column: tenant_id
    joins:
      - { name: userz, relationship: many_to_one, sql: "1 = 1" }
      - { name: users, relationship: many_to_one, sql: "{CUBE}.user_id = {users.id}" }
      - { name: orders, relationship: one_to_one, sql: "1 = 1" }
    dimensions:
      - { name: user_id, type: number, sql: user_id }
  - name: users
    sql_table: users
    tenant_column: tenant_id
    dimensions:
      - { name: id, type: number, sql: id }
`),
    ).toEqual([
      'm1.yml:2: cube "orders" takes part in a join but declares no primary key; add `primary_key: true` to its key dimension',
      'm1.yml:6: cube "orders" joins unknown cube "userz" -> users',
      'm1.yml:8: cube "orders" joins itself; self-joins are not supported',
      'm1.yml:11: cube "users" takes part in a join but declares no primary key; add `primary_key: true` to its key dimension',
    ]);
  });

  it('a member computed from a scoped member carries its scopes', () => {
    expect(
      problems(`cubes:
  - name: ads
    sql_table: ads
    shared: true
    scopes: [marketing:read]
    measures:
      - { name: cost, type: sum, sql: cost, scopes: [finance:read] }
      - { name: clicks, type: sum, sql: clicks }
      - { name: cpc, type: number, sql: "{cost} / {clicks}" }
      - { name: cpc_ok, type: number, sql: "{cost} / {clicks}", scopes: [finance:read] }
    dimensions:
      - { name: margin, type: number, sql: margin, scopes: [finance:read] }
      - { name: margin_band, type: string, sql: "if({margin} > 0, 'up', 'down')" }
`),
    ).toEqual([
      'm1.yml:9: measure "ads.cpc" references "ads.cost", which requires scope "finance:read"; add it to the scopes of "ads.cpc"',
      'm1.yml:13: dimension "ads.margin_band" references "ads.margin", which requires scope "finance:read"; add it to the scopes of "ads.margin_band"',
    ]);
  });

  it('drill_members and scopes', () => {
    expect(
      problems(`cubes:
  - name: orders
    sql_table: orders
    shared: true
    scopes: ["finance read"]
    measures:
      - name: count
        type: count
        drill_members: [stauts, orders.id, nope.x]
        scopes: [ok:read]
    dimensions:
      - { name: id, type: number, sql: id, primary_key: true }
      - { name: status, type: string, sql: status }
`),
    ).toEqual([
      'm1.yml:5: invalid scope "finance read" in cube "orders": use letters, digits and _ : . - * /',
      'm1.yml:9: drill_members of measure "orders.count" names unknown dimension "orders.stauts" -> status',
      'm1.yml:9: drill_members of measure "orders.count" names unknown dimension "nope.x"',
    ]);
  });
});

describe('collecting problems', () => {
  it('reports every problem across files at once, sorted by file and line', () => {
    const e = loadError(
      `cubes:
  - name: ad_performance
    sql_table: ad_performance
    titel: Ads
    measures:
      - name: ctr
        type: number
        sql: "{clik} / 2"
      - name: clicks
        type: sum
        sql: clicks
`,
      `cubes:
  - name: campaigns
    sql_table: campaigns
    tenant_column: tenant_id
    dimensions:
      - { name: name, type: strng, sql: name }
`,
    );
    expect(e.problems.map((p) => `${p.file}:${p.line}`)).toEqual(['m1.yml:2', 'm1.yml:4', 'm1.yml:8', 'm2.yml:6']);
    expect(e.problems[2]).toEqual({
      file: 'm1.yml',
      line: 8,
      message: 'unknown member "ad_performance.clik" referenced in measure "ad_performance.ctr"',
      suggestion: 'clicks',
    });
    expect(e.message).toBe(
      [
        'model has 4 problem(s):',
        '  m1.yml:2: cube ad_performance declares no tenant_column; add `tenant_column: <column>` or mark it `shared: true`',
        '  m1.yml:4: unknown key "titel" in cube "ad_performance" — did you mean "title"?',
        '  m1.yml:8: unknown member "ad_performance.clik" referenced in measure "ad_performance.ctr" — did you mean "clicks"?',
        '  m2.yml:6: invalid type "strng" for dimension "campaigns.name" (one of string, number, time, boolean) — did you mean "string"?',
      ].join('\n'),
    );
  });
});
