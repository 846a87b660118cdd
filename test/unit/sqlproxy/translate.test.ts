import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseQuery } from '../../../src/sqlproxy/parse.js';
import { OID } from '../../../src/sqlproxy/pg-types.js';
import { route } from '../../../src/sqlproxy/router.js';
import { SqlError } from '../../../src/sqlproxy/sql-error.js';
import { positionMapper } from '../../../src/sqlproxy/translate/ast.js';
import { parseLike, type SemanticPlan, translateSelect, UnknownColumnError } from '../../../src/sqlproxy/translate/select.js';
import type { ParamSource } from '../../../src/sqlproxy/translate/values.js';
import { fixtureCatalog } from './fixture.js';

const NOW = new Date('2024-03-15T10:30:00Z');

beforeAll(() => loadParser());

function plan(sql: string, values?: (string | number | boolean | null)[], timezone = 'UTC'): SemanticPlan {
  const parsed = parseQuery(sql);
  const params: ParamSource = {
    value: (n) => (values ? values[n - 1] : undefined),
    expect: () => {},
    count: values?.length ?? 0,
    bound: values !== undefined,
  };
  return translateSelect(parsed.statements[0].node.SelectStmt, { catalog: fixtureCatalog(), params, now: NOW, timezone, position: positionMapper(sql) });
}

function fails(sql: string, values?: (string | number)[]): SqlError {
  try {
    plan(sql, values);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected ${sql} to fail`);
}

/** 1-based position of the first occurrence of `needle` in `sql`. */
const at = (sql: string, needle: string) => sql.indexOf(needle) + 1;

describe('select list -> members', () => {
  it('maps SUM on a sum measure, COUNT(*), MEASURE() and dimensions, with Postgres column names and types', () => {
    const p = plan('SELECT channel, SUM(clicks), COUNT(*), MEASURE(ctr) AS ctr FROM ad_performance GROUP BY channel');
    expect(p.query).toEqual({
      measures: ['ad_performance.clicks', 'ad_performance.count', 'ad_performance.ctr'],
      dimensions: ['ad_performance.channel'],
      timezone: 'UTC',
    });
    expect(p.columns.map((c) => [c.name, c.oid])).toEqual([
      ['channel', OID.text],
      ['sum', OID.numeric],
      ['count', OID.int8],
      ['ctr', OID.numeric],
    ]);
  });

  it('accepts the aggregate matching each measure type, and plain references to measures', () => {
    const p = plan('SELECT AVG(avg_position), MAX(max_bid), COUNT(DISTINCT campaigns_count), ctr FROM ad_performance');
    // The row count rides along: over no fact rows, SUM/AVG/MIN/MAX answer NULL as in Postgres.
    expect(p.query.measures).toEqual([
      'ad_performance.avg_position',
      'ad_performance.max_bid',
      'ad_performance.campaigns_count',
      'ad_performance.ctr',
      'ad_performance.count',
    ]);
    expect(p.post?.rowCount).toBe('ad_performance.count');
    expect(p.query.dimensions).toBeUndefined();
  });

  it('maps date_trunc to a granularity and CAST(... AS date) to day with a date type', () => {
    const p = plan("SELECT date_trunc('week', date) AS w, CAST(date AS date) AS d, SUM(clicks) FROM ad_performance GROUP BY 1, 2");
    expect(p.query.timeDimensions).toEqual([
      { dimension: 'ad_performance.date', granularity: 'week' },
      { dimension: 'ad_performance.date', granularity: 'day' },
    ]);
    expect(p.columns.map((c) => [c.name, c.oid, c.source])).toEqual([
      ['w', OID.timestamp, { kind: 'key', key: 'ad_performance.date.week' }],
      ['d', OID.date, { kind: 'key', key: 'ad_performance.date.day' }],
      ['sum', OID.numeric, { kind: 'key', key: 'ad_performance.clicks' }],
    ]);
  });

  it('SELECT * lists every column (dimensions, measures, segments as NULL booleans), grouped by the dimensions', () => {
    const p = plan('SELECT * FROM ad_performance');
    expect(p.columns.map((c) => c.name)).toEqual([
      'date',
      'channel',
      'campaign_id',
      'is_mobile',
      'clicks',
      'impressions',
      'count',
      'ctr',
      'avg_position',
      'max_bid',
      'campaigns_count',
      'paid_search',
    ]);
    expect(p.columns.at(-1)).toEqual({ name: 'paid_search', oid: OID.bool, source: { kind: 'constant', value: null } });
    expect(p.query.dimensions).toEqual(['ad_performance.date', 'ad_performance.channel', 'ad_performance.campaign_id', 'ad_performance.is_mobile']);
  });

  it('reads views as tables', () => {
    const p = plan("SELECT campaign_name, SUM(clicks) FROM marketing WHERE date >= '2024-01-01' GROUP BY 1");
    expect(p.query.measures).toEqual(['marketing.clicks']);
    expect(p.query.dimensions).toEqual(['marketing.campaign_name']);
  });

  it('qualified names: alias, table, schema.table', () => {
    const p = plan('SELECT ad_performance.channel, "public"."ad_performance"."clicks" FROM public.ad_performance');
    expect(p.query).toMatchObject({ measures: ['ad_performance.clicks'], dimensions: ['ad_performance.channel'] });
    expect(plan('SELECT a.channel, SUM(a.clicks) FROM ad_performance AS a GROUP BY a.channel').query.dimensions).toEqual(['ad_performance.channel']);
  });

  it('CROSS JOIN of cubes the model joins', () => {
    const p = plan('SELECT c.name, SUM(a.clicks) FROM ad_performance a CROSS JOIN campaigns c GROUP BY 1');
    expect(p.query).toMatchObject({ measures: ['ad_performance.clicks'], dimensions: ['campaigns.name'] });
  });
});

describe('WHERE -> filters and segments', () => {
  const where = (w: string, values?: (string | number | boolean | null)[]) => plan(`SELECT SUM(clicks) FROM ad_performance WHERE ${w}`, values).query;

  it('comparisons, IN, NOT IN, BETWEEN, IS [NOT] NULL', () => {
    expect(where("channel = 'search' AND campaign_id > 3 AND 10 >= campaign_id").filters).toEqual([
      { member: 'ad_performance.channel', operator: 'equals', values: ['search'] },
      { member: 'ad_performance.campaign_id', operator: 'gt', values: [3] },
      { member: 'ad_performance.campaign_id', operator: 'lte', values: [10] },
    ]);
    expect(where("channel IN ('a', 'b') AND channel NOT IN ('c') AND channel <> 'd'").filters).toEqual([
      { member: 'ad_performance.channel', operator: 'equals', values: ['a', 'b'] },
      // Postgres: a negated comparison is never true for NULL (Cube's notEquals would match NULL rows).
      { member: 'ad_performance.channel', operator: 'notEquals', values: ['c'] },
      { member: 'ad_performance.channel', operator: 'set' },
      { member: 'ad_performance.channel', operator: 'notEquals', values: ['d'] },
      { member: 'ad_performance.channel', operator: 'set' },
    ]);
    expect(where('campaign_id BETWEEN 1 AND 5').filters).toEqual([
      { member: 'ad_performance.campaign_id', operator: 'gte', values: [1] },
      { member: 'ad_performance.campaign_id', operator: 'lte', values: [5] },
    ]);
    expect(where('channel IS NULL AND campaign_id IS NOT NULL').filters).toEqual([
      { member: 'ad_performance.channel', operator: 'notSet' },
      { member: 'ad_performance.campaign_id', operator: 'set' },
    ]);
  });

  it('LIKE/ILIKE patterns map to contains/startsWith/endsWith; NOT LIKE negates; LOWER() LIKE is accepted', () => {
    expect(
      where(
        "channel LIKE '%ear%' AND channel ILIKE 'se%' AND channel LIKE '%ch' AND channel NOT LIKE '%x%' AND LOWER(channel) LIKE '%y%' AND channel LIKE '%Y%'",
      ).filters,
    ).toEqual([
      { member: 'ad_performance.channel', operator: 'contains', values: ['ear'] },
      { member: 'ad_performance.channel', operator: 'startsWith', values: ['se'] },
      { member: 'ad_performance.channel', operator: 'endsWith', values: ['ch'] },
      { member: 'ad_performance.channel', operator: 'contains', values: ['y'] },
      { member: 'ad_performance.channel', operator: 'contains', values: ['Y'] },
    ]);
    // LIKE is case-sensitive in Postgres: the (case-insensitive) member filter narrows, the exact test runs over the rows.
    expect(where("channel ILIKE 'x%'").filters).toEqual([{ member: 'ad_performance.channel', operator: 'startsWith', values: ['x'] }]);
    expect(fails("SELECT SUM(clicks) FROM ad_performance WHERE NOT (channel LIKE 'x%')").code).toBe('0A000');
    expect(parseLike('50\\%%')).toEqual({ kind: 'startsWith', text: '50%' });
    expect(parseLike('a%b')).toBeUndefined();
  });

  it('a check over the rows inside OR checks the whole OR; the pushed-down OR only narrows', () => {
    const p = plan("SELECT COUNT(*) FROM ad_performance WHERE channel LIKE 'Se%' OR is_mobile");
    expect(p.query.filters).toEqual([
      {
        or: [
          { member: 'ad_performance.channel', operator: 'startsWith', values: ['Se'] },
          { member: 'ad_performance.is_mobile', operator: 'equals', values: [true] },
        ],
      },
    ]);
    expect(p.post?.where && JSON.stringify(p.post.where)).toContain('OR_EXPR');
    expect(p.query.dimensions).toEqual(expect.arrayContaining(['ad_performance.channel', 'ad_performance.is_mobile']));
    // Regexes and LIKE patterns with inner wildcards push nothing down and are checked over the rows.
    const r = plan("SELECT channel, SUM(clicks) FROM ad_performance WHERE channel ~ '^s' AND channel LIKE 's%a_h' GROUP BY 1");
    expect(r.query.filters).toBeUndefined();
    expect(r.post?.where).toBeDefined();
  });

  it('OR and NOT become filter trees (De Morgan)', () => {
    expect(where("channel = 'a' OR (campaign_id < 3 AND NOT channel = 'b')").filters).toEqual([
      {
        or: [
          { member: 'ad_performance.channel', operator: 'equals', values: ['a'] },
          {
            and: [
              { member: 'ad_performance.campaign_id', operator: 'lt', values: [3] },
              {
                and: [
                  { member: 'ad_performance.channel', operator: 'notEquals', values: ['b'] },
                  { member: 'ad_performance.channel', operator: 'set' },
                ],
              },
            ],
          },
        ],
      },
    ]);
  });

  it('segments: bare column and = true; boolean dimensions become equals filters', () => {
    expect(where("paid_search AND channel = 'a'")).toMatchObject({
      segments: ['ad_performance.paid_search'],
      filters: [{ member: 'ad_performance.channel', operator: 'equals', values: ['a'] }],
    });
    expect(where('paid_search = true').segments).toEqual(['ad_performance.paid_search']);
    expect(where('is_mobile').filters).toEqual([{ member: 'ad_performance.is_mobile', operator: 'equals', values: [true] }]);
    expect(where('NOT is_mobile').filters).toEqual([
      { member: 'ad_performance.is_mobile', operator: 'notEquals', values: [true] },
      { member: 'ad_performance.is_mobile', operator: 'set' },
    ]);
  });

  it('time columns: Metabase NOW() - INTERVAL and CAST AS date ranges', () => {
    expect(where("date >= CAST((NOW() + INTERVAL '-30 day') AS date) AND date < CAST(NOW() AS date)").filters).toEqual([
      { member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-02-14T00:00:00.000'] },
      { member: 'ad_performance.date', operator: 'beforeDate', values: ['2024-03-15T00:00:00.000'] },
    ]);
    expect(where("date >= NOW() - INTERVAL '7 days'").filters).toEqual([
      { member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-03-08T10:30:00.000'] },
    ]);
    expect(where("CAST(date AS date) BETWEEN '2024-01-01' AND '2024-01-31'").filters).toEqual([
      { member: 'ad_performance.date', operator: 'inDateRange', values: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] },
    ]);
    // A truncated column compared with a value: whole buckets.
    expect(where("date_trunc('month', date) = '2024-02-01'").filters).toEqual([
      { member: 'ad_performance.date', operator: 'inDateRange', values: ['2024-02-01T00:00:00.000', '2024-02-29T23:59:59.999'] },
    ]);
    expect(where("date_trunc('month', date) <= '2024-02-10'").filters).toEqual([
      { member: 'ad_performance.date', operator: 'beforeDate', values: ['2024-03-01T00:00:00.000'] },
    ]);
    expect(where("date > '2024-01-01 10:00:00'").filters).toEqual([
      { member: 'ad_performance.date', operator: 'afterDate', values: ['2024-01-01T10:00:00.000'] },
    ]);
    expect(where('date >= CURRENT_DATE - 1').filters).toEqual([
      { member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-03-14T00:00:00.000'] },
    ]);
  });

  it('relative times use the session time zone', () => {
    const q = plan('SELECT SUM(clicks) FROM ad_performance WHERE date >= CAST(NOW() AS date)', undefined, 'America/New_York').query;
    expect(q.filters).toEqual([{ member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-03-15T00:00:00.000'] }]);
    expect(q.timezone).toBe('America/New_York');
  });

  it('constant conditions: WHERE 1 <> 1 and LIMIT 0 answer empty without loading (Metabase probes)', () => {
    expect(plan('SELECT TRUE AS "_" FROM "public"."ad_performance" WHERE 1 <> 1 LIMIT 0').empty).toBe(true);
    expect(plan('SELECT channel FROM ad_performance WHERE 1 = 1').query.filters).toBeUndefined();
    expect(plan('SELECT channel FROM ad_performance LIMIT 0').empty).toBe(true);
  });

  it('$n parameters are typed by their column', () => {
    const q = plan('SELECT SUM(clicks) FROM ad_performance WHERE channel = $1 AND campaign_id > $2 AND date >= $3 LIMIT $4', [
      'search',
      '3',
      '2024-01-05',
      2,
    ]).query;
    expect(q.filters).toEqual([
      { member: 'ad_performance.channel', operator: 'equals', values: ['search'] },
      { member: 'ad_performance.campaign_id', operator: 'gt', values: [3] },
      { member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-01-05T00:00:00.000'] },
    ]);
    expect(q.limit).toBeUndefined();
    expect(plan('SELECT SUM(clicks) FROM ad_performance LIMIT $1', [2]).post?.limit).toBe(2);
    expect(plan('SELECT channel FROM ad_performance WHERE channel = ANY($1)', ['{a,"b c"}']).query.filters).toEqual([
      { member: 'ad_performance.channel', operator: 'equals', values: ['a', 'b c'] },
    ]);
  });
});

describe('HAVING, ORDER BY, LIMIT, subqueries', () => {
  it('HAVING on aggregates becomes measure filters', () => {
    const q = plan('SELECT channel, SUM(clicks) FROM ad_performance GROUP BY channel HAVING SUM(clicks) > 100 AND MEASURE(ctr) <= 0.5').query;
    expect(q.filters).toEqual([
      { member: 'ad_performance.clicks', operator: 'gt', values: [100] },
      { member: 'ad_performance.ctr', operator: 'lte', values: [0.5] },
    ]);
  });

  it('ORDER BY alias, ordinal and expression; LIMIT/OFFSET', () => {
    const q = plan('SELECT channel AS c, SUM(clicks) AS s FROM ad_performance GROUP BY 1 ORDER BY s DESC, 1, MEASURE(ctr) LIMIT 5 OFFSET 10').query;
    expect(q.order).toEqual([
      ['ad_performance.clicks', 'desc'],
      ['ad_performance.channel', 'asc'],
      ['ad_performance.ctr', 'asc'],
    ]);
    expect(q.measures).toEqual(['ad_performance.clicks', 'ad_performance.ctr']);
    expect([q.limit, q.offset]).toEqual([5, 10]);
  });

  it('Superset: aggregate over SELECT * virtual_table', () => {
    const p = plan(
      `SELECT DATE_TRUNC('day', date) AS __timestamp, SUM(clicks) AS "SUM(clicks)" FROM (SELECT * FROM ad_performance WHERE channel = 'search') AS virtual_table GROUP BY DATE_TRUNC('day', date) ORDER BY "SUM(clicks)" DESC LIMIT 10000`,
    );
    expect(p.query).toEqual({
      measures: ['ad_performance.clicks'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day' }],
      filters: [{ member: 'ad_performance.channel', operator: 'equals', values: ['search'] }],
      order: [['ad_performance.clicks', 'desc']],
      limit: 10000,
      timezone: 'UTC',
    });
    expect(p.columns.map((c) => c.name)).toEqual(['__timestamp', 'SUM(clicks)']);
  });

  it('Metabase nested question: filter and limit over an aggregated subquery', () => {
    const p = plan(
      'SELECT "source"."channel" AS "channel", "source"."c" AS "c" FROM (SELECT channel, SUM(clicks) AS c FROM ad_performance GROUP BY channel) AS "source" WHERE "source"."c" > 10 LIMIT 5',
    );
    expect(p.query).toMatchObject({
      measures: ['ad_performance.clicks'],
      dimensions: ['ad_performance.channel'],
      filters: [{ member: 'ad_performance.clicks', operator: 'gt', values: [10] }],
      limit: 5,
    });
  });
});

describe('refusals carry a SQLSTATE and the position', () => {
  const cases: [string, string, string, string][] = [
    ['unknown table', 'SELECT x FROM ad_perfomance', '42P01', 'ad_perfomance'],
    ['unknown column', 'SELECT channel, clickz FROM ad_performance', '42703', 'clickz'],
    ['aggregate mismatch', 'SELECT SUM(ctr) FROM ad_performance', '0A000', 'SUM'],
    ['aggregate of a dimension', 'SELECT SUM(campaign_id) FROM ad_performance', '0A000', 'campaign_id'],
    ['ungrouped dimension', 'SELECT channel, SUM(clicks) FROM ad_performance', '42803', 'channel'],
    ['arithmetic over columns', 'SELECT clicks * 2 FROM ad_performance', '0A000', '*'],
    ['raw ClickHouse function', 'SELECT toStartOfMonth(date), SUM(clicks) FROM ad_performance GROUP BY 1', '0A000', 'toStartOfMonth'],
    [
      'ClickHouse function in WHERE',
      "SELECT SUM(clicks) FROM ad_performance WHERE positionCaseInsensitive(channel, 'a') > 0",
      '0A000',
      'positionCaseInsensitive',
    ],
    ['explicit join condition', 'SELECT a.channel FROM ad_performance a JOIN campaigns c ON a.campaign_id = c.id', '0A000', '= c.id'],
    ['aggregate in WHERE', 'SELECT channel FROM ad_performance WHERE SUM(clicks) > 3', '42803', 'SUM'],
    ['negated segment', 'SELECT channel FROM ad_performance WHERE NOT paid_search', '0A000', 'NOT'],
    ['segment in OR', "SELECT channel FROM ad_performance WHERE paid_search OR channel = 'x'", '0A000', 'paid_search OR'],
    ['column vs column', 'SELECT channel FROM ad_performance WHERE campaign_id = clicks', '0A000', '= clicks'],
    ['LIKE pattern checked over rows, in a subquery', "SELECT * FROM (SELECT channel FROM ad_performance WHERE channel LIKE 'a%b') t", '0A000', "'a%b'"],
    ['UNION', 'SELECT channel FROM ad_performance UNION SELECT name FROM campaigns', '0A000', 'channel'],
    ['subquery in WHERE', 'SELECT channel FROM ad_performance WHERE channel IN (SELECT name FROM campaigns)', '0A000', 'IN'],
    ['bad number literal', "SELECT channel FROM ad_performance WHERE campaign_id = 'abc'", '22P02', "'abc'"],
    ['window function', 'SELECT channel, rank() OVER (ORDER BY SUM(clicks)) FROM ad_performance GROUP BY 1', '0A000', 'rank'],
  ];
  for (const [name, sql, code, needle] of cases) {
    it(name, () => {
      const e = fails(sql);
      expect(e.code, e.message).toBe(code);
      expect(e.position, e.message).toBe(at(sql, needle));
    });
  }

  it('unknown columns name the member so the door can check scopes, and suggest a name', () => {
    const e = fails('SELECT clickz FROM ad_performance') as UnknownColumnError;
    expect(e).toBeInstanceOf(UnknownColumnError);
    expect(e.memberPath).toBe('ad_performance.clickz');
    expect(e.message).toBe('column "clickz" does not exist');
    expect(e.hint).toBe('Perhaps you meant to reference the column "clicks".');
  });

  it('syntax errors come from the Postgres parser with a position', () => {
    try {
      parseQuery('SELECT channel FROM WHERE');
      throw new Error('no error');
    } catch (e) {
      expect(e).toMatchObject({ code: '42601', position: 21, message: 'syntax error at or near "WHERE"' });
    }
  });

  it('positions count characters, not bytes', () => {
    const sql = "SELECT SUM(clicks) FROM ad_performance WHERE channel = 'é' AND nope = 1";
    expect(fails(sql).position).toBe(at(sql, 'nope'));
  });
});

describe('routing', () => {
  const r = (sql: string) => {
    const p = parseQuery(sql);
    return route(p.statements[0], fixtureCatalog(), positionMapper(sql));
  };
  it('cube tables go to the semantic path, catalog queries to the catalog engine', () => {
    expect(r('SELECT channel FROM ad_performance').kind).toBe('semantic');
    expect(r("SELECT relname FROM pg_catalog.pg_class WHERE relname = 'x'").kind).toBe('catalog');
    expect(r('SELECT current_setting($1)').kind).toBe('catalog');
    expect(r('SET search_path = public').kind).toBe('local');
  });
  it('refuses writes, mixed queries and dangerous functions', () => {
    expect(r('INSERT INTO ad_performance VALUES (1)')).toMatchObject({ kind: 'refused', error: { code: '25006' } });
    expect(r('DROP TABLE ad_performance')).toMatchObject({ kind: 'refused', error: { code: '25006' } });
    expect(r('SELECT a.channel FROM ad_performance a, pg_class c')).toMatchObject({ kind: 'refused', error: { code: '0A000' } });
    const sleep = 'SELECT 1, pg_sleep(100)';
    expect(r(sleep)).toMatchObject({ kind: 'refused', error: { code: '42501', position: at(sleep, 'pg_sleep') } });
    expect(r("SELECT pg_read_file('/etc/passwd')")).toMatchObject({ kind: 'refused', error: { code: '42501' } });
    expect(r('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t')).toMatchObject({ kind: 'refused', error: { code: '0A000' } });
  });
});

describe('expressions finished over the loaded rows (translate/post.ts)', () => {
  it('Sunday weeks, epoch buckets and ratios ask for the members underneath', () => {
    const p = plan(
      "SELECT date_trunc('week', date + INTERVAL '1 day') - INTERVAL '1 day' AS w, SUM(clicks) / NULLIF(SUM(impressions), 0) AS r FROM ad_performance GROUP BY 1 ORDER BY 1 LIMIT 3",
    );
    expect(p.query.dimensions).toEqual(['ad_performance.date']);
    expect(p.query.measures).toEqual(['ad_performance.clicks', 'ad_performance.impressions']);
    expect(p.query.limit).toBeUndefined();
    expect(p.post?.limit).toBe(3);
    expect(p.columns.map((c) => [c.name, c.oid])).toEqual([
      ['w', OID.timestamp],
      ['r', OID.numeric],
    ]);
  });

  it('refuses functions it does not evaluate, at translation', () => {
    expect(fails('SELECT toStartOfMonth(date) + 1, SUM(clicks) FROM ad_performance GROUP BY 1').code).toBe('0A000');
    expect(
      fails('SELECT floor(extract(epoch from date) / 60) * 60, SUM(clicks) FROM ad_performance WHERE channel IN (SELECT name FROM campaigns) GROUP BY 1').code,
    ).toBe('0A000');
  });
});
