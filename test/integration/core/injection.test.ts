/**
 * Injection on real chDB through the real query service and the REAL models.
 *  - Hostile filter VALUES (quotes, backslashes, comments, {p0:String}-like text, SQL keywords, NUL,
 *    unicode, LIKE wildcards) are plain data: a tenant "evil" owns campaigns named with exactly these
 *    strings, and equals / contains / startsWith / notEquals return exactly the matching rows;
 *    for acme (who has no such names) they return nothing. The SQL text never contains them.
 *  - Hostile MEMBER NAMES, time zones, granularities, directions, limits and dates are rejected with
 *    BAD_USER_INPUT before anything runs; a hostile tenant id matches no row.
 *  - Afterwards the warehouse is intact: same tables, same databases, same row counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { principalFor, startCore, type Core } from './harness.js';

const HOSTILE = [
  "'",
  "''",
  '\\',
  "\\'",
  "' OR '1'='1",
  "x'; DROP TABLE campaigns; --",
  "x' UNION SELECT campaign_id FROM campaigns WHERE tenant_id = 'globex' --",
  '-- a comment',
  '/* a comment */',
  '*/ OR 1=1 /*',
  '{p0:String}',
  '{tenant:String}',
  '{tz:String}',
  '{}',
  '{{ x }}',
  '%',
  '_',
  '50%_off',
  'DROP TABLE ad_performance',
  'UNION SELECT * FROM system.tables',
  'a\u0000b',
  '\u0000',
  'Ωmega ☃ 🚀 مرحبا',
  'e\u0301 naïve',
  'line\nbreak\r\n',
  '`backtick`',
  '"double"',
  '$1 ? :name',
];

let core: Core;
let before: Awaited<ReturnType<typeof snapshot>>;

async function snapshot() {
  const tables = await core.sql<{ database: string; name: string; total_rows: number | null }>(
    "SELECT database, name, total_rows FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') ORDER BY database, name",
  );
  const databases = await core.sql<{ name: string }>('SELECT name FROM system.databases ORDER BY name');
  const counts: Record<string, number> = {};
  for (const t of tables.filter((x) => x.database === core.wh.engine.database)) {
    counts[t.name] = Number((await core.sql<{ n: number }>(`SELECT count() AS n FROM ${t.name}`))[0].n);
  }
  return { tables: tables.map((t) => `${t.database}.${t.name}`), databases: databases.map((d) => d.name), counts };
}

async function count(tenant: string, query: SemanticQuery): Promise<number> {
  const { rows } = await core.load(tenant, query);
  return rows.length === 0 ? 0 : Number(rows[0]['campaigns.count'] ?? 0);
}

async function rejection(query: unknown, tenant = 'acme'): Promise<UserError> {
  try {
    await core.load(tenant, query as SemanticQuery);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(query)}`);
}

beforeAll(async () => {
  core = await startCore();
  // Tenant "evil" owns one campaign per hostile string, named exactly that.
  await core.wh.engine.insert(
    'campaigns',
    HOSTILE.map((name, i) => ({ tenant_id: 'evil', campaign_id: `evil-cmp-${i}`, platform: 'meta', name, start_date: '2026-01-01' })),
  );
  const stored = await core.sql<{ name: string }>("SELECT name FROM campaigns WHERE tenant_id = 'evil' ORDER BY campaign_id");
  expect(new Set(stored.map((r) => r.name))).toEqual(new Set(HOSTILE));
  before = await snapshot();
});

afterAll(async () => {
  await core?.close();
});

describe('hostile filter values are data', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('%s', async (_label, value) => {
    const filter = (operator: string) =>
      ({ measures: ['campaigns.count'], filters: [{ member: 'campaigns.name', operator, values: [value] }] }) as SemanticQuery;
    const lower = value.toLowerCase();
    expect(await count('evil', filter('equals'))).toBe(1);
    expect(await count('evil', filter('notEquals'))).toBe(HOSTILE.length - 1);
    expect(await count('evil', filter('contains'))).toBe(HOSTILE.filter((n) => n.toLowerCase().includes(lower)).length);
    expect(await count('evil', filter('startsWith'))).toBe(HOSTILE.filter((n) => n.toLowerCase().startsWith(lower)).length);
    expect(await count('evil', filter('endsWith'))).toBe(HOSTILE.filter((n) => n.toLowerCase().endsWith(lower)).length);
    // acme has no such campaign, and a value naming another tenant's rows does not reach them
    expect(await count('acme', filter('equals'))).toBe(0);
    expect(await count('acme', filter('contains'))).toBe(0);
    // on a fact table, through a join and a view
    const { rows } = await core.load('acme', {
      measures: ['campaign_performance.clicks'],
      filters: [{ member: 'campaign_performance.campaigns_name', operator: 'equals', values: [value] }],
    });
    expect(rows.every((r) => r['campaign_performance.clicks'] === null || r['campaign_performance.clicks'] === 0)).toBe(true);

    // The value travels as a parameter: the SQL text is the same whatever the value.
    const { compiled } = core.service.compile(principalFor('evil'), filter('equals'));
    expect(Object.values(compiled.params)).toContainEqual(value);
    const benign = core.service.compile(principalFor('evil'), {
      ...filter('equals'),
      filters: [{ member: 'campaigns.name', operator: 'equals', values: ['benign'] }],
    });
    expect(compiled.sql).toBe(benign.compiled.sql);
  });

  it('several hostile values in one equals filter match exactly those rows', async () => {
    const q: SemanticQuery = { measures: ['campaigns.count'], filters: [{ member: 'campaigns.name', operator: 'equals', values: HOSTILE.slice(0, 10) }] };
    expect(await count('evil', q)).toBe(10);
  });
});

describe('hostile names and options are rejected with BAD_USER_INPUT', () => {
  const NAMES = [
    'campaigns.count; DROP TABLE campaigns',
    'campaigns.count --',
    "campaigns.count' OR '1'='1",
    'campaigns.{p0:String}',
    '{tenant:String}',
    'campaigns.count/* */',
    'campaigns.count\u0000',
    'campaigns.count UNION SELECT 1',
    '__proto__.count',
    'campaigns.__proto__',
    'constructor.name',
    'campaigns.constructor',
    'campaigns.toString',
    'campaigns.hasOwnProperty',
    'campaign_performance.__proto__',
    'campaigns',
    'system.tables',
  ];

  it.each(NAMES.map((n) => [JSON.stringify(n), n]))('member %s in every slot', async (_label, name) => {
    const slots: unknown[] = [
      { measures: [name] },
      { measures: ['campaigns.count'], dimensions: [name] },
      { measures: ['campaigns.count'], segments: [name] },
      { measures: ['campaigns.count'], timeDimensions: [{ dimension: name, granularity: 'day' }] },
      { measures: ['campaigns.count'], filters: [{ member: name, operator: 'equals', values: ['x'] }] },
      { measures: ['campaigns.count'], order: { [name]: 'asc' } },
    ];
    for (const q of slots) {
      const e = await rejection(q);
      expect(e.code, JSON.stringify(q)).toBe('BAD_USER_INPUT');
      expect(e.message).toMatch(/unknown member|cannot order by/);
    }
  });

  it('a hidden member (ad_performance.id, public: false) is refused like an unknown one', async () => {
    const e = await rejection({ dimensions: ['ad_performance.id'] });
    expect([e.code, e.message]).toEqual(['BAD_USER_INPUT', 'member "ad_performance.id" is not public']);
  });

  it('suggests the intended member for a near miss', async () => {
    const e = await rejection({ measures: ['ad_performance.clik'] });
    expect(e.message).toBe('unknown member "ad_performance.clik" — did you mean "ad_performance.clicks"?');
  });

  it.each([
    ['time zone', { measures: ['campaigns.count'], timezone: "UTC') FROM system.tables --" }, /unknown time zone/],
    ['time zone param', { measures: ['campaigns.count'], timezone: '{tz:String}' }, /unknown time zone/],
    [
      'granularity',
      { measures: ['campaigns.count'], timeDimensions: [{ dimension: 'campaigns.start_date', granularity: 'day) FROM campaigns --' }] },
      /unknown granularity/,
    ],
    ['direction', { measures: ['campaigns.count'], order: { 'campaigns.count': 'desc; DROP TABLE campaigns' } }, /must be "asc" or "desc"/],
    ['limit text', { measures: ['campaigns.count'], limit: '10; DROP TABLE campaigns' }, /limit must be a non-negative integer/],
    ['limit float', { measures: ['campaigns.count'], limit: 1.5 }, /limit must be a non-negative integer/],
    ['offset negative', { measures: ['campaigns.count'], offset: -1 }, /offset must be a non-negative integer/],
    ['number value', { measures: ['campaigns.count'], filters: [{ member: 'campaigns.budget', operator: 'gt', values: ['1 OR 1=1'] }] }, /invalid number/],
    [
      'boolean value',
      { measures: ['web_sessions.sessions'], filters: [{ member: 'web_sessions.bounced', operator: 'equals', values: ['true OR 1=1'] }] },
      /invalid boolean/,
    ],
    [
      'date value',
      {
        measures: ['campaigns.count'],
        filters: [{ member: 'campaigns.start_date', operator: 'beforeDate', values: ["2025-01-01'); DROP TABLE campaigns; --"] }],
      },
      /date/,
    ],
    [
      'date range',
      { measures: ['campaigns.count'], timeDimensions: [{ dimension: 'campaigns.start_date', dateRange: ['2025-01-01', "2025-02-01' OR 1=1"] }] },
      /date/,
    ],
    [
      'operator',
      { measures: ['campaigns.count'], filters: [{ member: 'campaigns.name', operator: "equals' OR 1=1", values: ['x'] }] },
      /unknown filter operator/,
    ],
    ['object value', { measures: ['campaigns.count'], filters: [{ member: 'campaigns.name', operator: 'equals', values: [{ a: 1 }] }] }, /invalid value/],
    // JSON.parse('{"toString":"x"}') is a plain object whose String() throws TypeError; normalize.ts and
    // values.ts build their error messages with String(x), so these three fail with a TypeError (a 500
    // "Unexpected error" at the doors) instead of BAD_USER_INPUT. Known bug, see the core test report.
    ['time zone object with a toString key', { measures: ['campaigns.count'], timezone: JSON.parse('{"toString":"x"}') }, /unknown time zone/],
    [
      'granularity object with a toString key',
      { measures: ['campaigns.count'], timeDimensions: [{ dimension: 'campaigns.start_date', granularity: JSON.parse('{"toString":"x"}') }] },
      /unknown granularity/,
    ],
    [
      'filter value object with a toString key',
      { measures: ['campaigns.count'], filters: [{ member: 'campaigns.name', operator: 'equals', values: [JSON.parse('{"toString":"x"}')] }] },
      /invalid value/,
    ],
  ])('%s', async (_label, query, message) => {
    const e = await rejection(query);
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(message);
  });
});

describe('a hostile tenant id matches no row', () => {
  it.each(["acme' OR '1'='1", "acme' --", '{tenant:String}', 'acme\u0000', "' UNION SELECT 1 --"].map((t) => [JSON.stringify(t), t]))(
    '%s',
    async (_label, tenant) => {
      expect(await count(tenant, { measures: ['campaigns.count'] })).toBe(0);
      const { rows } = await core.load(tenant, { measures: ['ad_performance.clicks'], dimensions: ['ad_performance.campaign_id'] });
      expect(rows).toEqual([]);
    },
  );
});

describe('the warehouse is intact afterwards', () => {
  it('same databases, tables and row counts', async () => {
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(before.counts.ad_performance).toBeGreaterThan(0);
  });
});
