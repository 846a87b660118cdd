/** Rolling windows: bucket bounds (computed in TS) and the SQL that maps rows to buckets. */
import { describe, expect, it } from 'vitest';
import { windowSeries } from '../../../src/compiler/rolling.js';
import { compile, errorOf } from './fixture.js';

const range = ['2024-01-01T00:00:00.000', '2024-01-03T23:59:59.999'] as const;

describe('window bounds', () => {
  it('trailing 7 day, offset end: (bucket_end - 7 days, bucket_end]', () => {
    expect(windowSeries({ trailing: { amount: 7, unit: 'day' }, offset: 'end' }, range, 'day', 'UTC')).toEqual({
      starts: ['2024-01-01T00:00:00.000', '2024-01-02T00:00:00.000', '2024-01-03T00:00:00.000'],
      lower: { inclusive: false, values: ['2023-12-25T23:59:59.999', '2023-12-26T23:59:59.999', '2023-12-27T23:59:59.999'] },
      upper: { inclusive: true, values: ['2024-01-01T23:59:59.999', '2024-01-02T23:59:59.999', '2024-01-03T23:59:59.999'] },
    });
  });

  it('unbounded trailing: everything up to the bucket end', () => {
    const s = windowSeries({ trailing: 'unbounded', offset: 'end' }, range, 'day', 'UTC');
    expect(s.lower).toBeUndefined();
    expect(s.upper?.values).toEqual(['2024-01-01T23:59:59.999', '2024-01-02T23:59:59.999', '2024-01-03T23:59:59.999']);
  });

  it('trailing 1 month over monthly buckets (calendar months, in the zone)', () => {
    const s = windowSeries(
      { trailing: { amount: 1, unit: 'month' }, offset: 'end' },
      ['2024-01-15T00:00:00.000', '2024-03-10T00:00:00.000'],
      'month',
      'Europe/Paris',
    );
    expect(s.starts).toEqual(['2024-01-01T00:00:00.000', '2024-02-01T00:00:00.000', '2024-03-01T00:00:00.000']);
    expect(s.lower?.values).toEqual(['2023-12-31T23:59:59.999', '2024-01-29T23:59:59.999', '2024-02-29T23:59:59.999']);
  });

  it('offset start with a leading window: [bucket_start - trailing, bucket_start + leading)', () => {
    const s = windowSeries({ trailing: { amount: 1, unit: 'week' }, leading: { amount: 2, unit: 'day' }, offset: 'start' }, range, 'day', 'UTC');
    expect(s.lower).toEqual({ inclusive: true, values: ['2023-12-25T00:00:00.000', '2023-12-26T00:00:00.000', '2023-12-27T00:00:00.000'] });
    expect(s.upper).toEqual({ inclusive: false, values: ['2024-01-03T00:00:00.000', '2024-01-04T00:00:00.000', '2024-01-05T00:00:00.000'] });
  });

  it('without granularity the whole range is one window', () => {
    expect(windowSeries({ trailing: { amount: 7, unit: 'day' }, offset: 'end' }, range, undefined, 'UTC')).toEqual({
      starts: ['2024-01-01T00:00:00.000'],
      lower: { inclusive: false, values: ['2023-12-25T00:00:00.000'] },
      upper: { inclusive: true, values: ['2024-01-03T23:59:59.999'] },
    });
  });
});

describe('rolling window SQL', () => {
  it('maps each row to the buckets whose window holds it, fills empty buckets, combines with plain measures', () => {
    const c = compile({
      measures: ['orders.revenue_7d', 'orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-03'] }],
    });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT \`__q\`.\`__d0\` AS \`orders__created_at_day\`, max(\`__q\`.\`__m0\`) AS \`orders__revenue_7d\`, max(\`__q\`.\`__m1\`) AS \`orders__count\`
      FROM (
        SELECT arrayJoin(arrayFilter((\`__bucket\`, \`__lower\`, \`__upper\`) -> \`orders\`.created_at > \`__lower\` AND \`orders\`.created_at <= \`__upper\`, arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p2:Array(String)}), arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p3:Array(String)}), arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p4:Array(String)}))) AS \`__d0\`, sum(\`orders\`.amount) AS \`__m0\`, NULL AS \`__m1\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.created_at > toDateTime64({p5:String}, 3, {tz:String}) AND \`orders\`.created_at <= toDateTime64({p6:String}, 3, {tz:String})
        GROUP BY \`__d0\`
        UNION ALL
        SELECT toDateTime64(toStartOfDay(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`__d0\`, NULL AS \`__m0\`, count(\`orders\`.id) AS \`__m1\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})
        GROUP BY \`__d0\`
        UNION ALL
        SELECT arrayJoin(arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p2:Array(String)})) AS \`__d0\`, NULL AS \`__m0\`, NULL AS \`__m1\`
      ) AS \`__q\`
      GROUP BY \`orders__created_at_day\`
      ORDER BY \`orders__created_at_day\` ASC
      LIMIT 10000"
    `);
    expect(c.params).toMatchInlineSnapshot(`
      {
        "p0": "2024-01-01 00:00:00",
        "p1": "2024-01-04 00:00:00",
        "p2": [
          "2024-01-01T00:00:00.000",
          "2024-01-02T00:00:00.000",
          "2024-01-03T00:00:00.000",
        ],
        "p3": [
          "2023-12-25T23:59:59.999",
          "2023-12-26T23:59:59.999",
          "2023-12-27T23:59:59.999",
        ],
        "p4": [
          "2024-01-01T23:59:59.999",
          "2024-01-02T23:59:59.999",
          "2024-01-03T23:59:59.999",
        ],
        "p5": "2023-12-25T23:59:59.999",
        "p6": "2024-01-03T23:59:59.999",
        "tenant": "acme",
        "tz": "UTC",
      }
    `);
  });

  it('unbounded (running total) has no lower bound', () => {
    const c = compile({
      measures: ['orders.revenue_running'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: ['2024-01-01', '2024-02-29'] }],
    });
    expect(c.sql.split('\n')[2]).toMatchInlineSnapshot(
      `"  SELECT arrayJoin(arrayFilter((\`__bucket\`, \`__upper\`) -> \`orders\`.created_at <= \`__upper\`, arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p2:Array(String)}), arrayMap((\`__x\`) -> toDateTime64(\`__x\`, 3, {tz:String}), {p3:Array(String)}))) AS \`__d0\`, sum(\`orders\`.amount) AS \`__m0\`"`,
    );
    expect(c.sql.split('\n')[4]).toMatchInlineSnapshot(`"  WHERE \`orders\`.created_at <= toDateTime64({p4:String}, 3, {tz:String})"`);
  });

  it('with other dimensions: no series fill (buckets come from the rows)', () => {
    const sql = compile({
      measures: ['orders.customers_30d'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week', dateRange: 'last month' }],
    }).sql;
    expect(sql).not.toContain('UNION ALL');
    expect(sql).toContain('uniqExact(`orders`.customer_id) AS `__m0`');
  });

  it('without granularity: one window over the date range, the range filter replaced', () => {
    expect(
      compile({ measures: ['orders.revenue_7d'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-03'] }] }).sql,
    ).toMatchInlineSnapshot(`
      "SELECT max(\`__q\`.\`__m0\`) AS \`orders__revenue_7d\`
      FROM (
        SELECT sum(\`orders\`.amount) AS \`__m0\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        WHERE \`orders\`.created_at > toDateTime64({p5:String}, 3, {tz:String}) AND \`orders\`.created_at <= toDateTime64({p6:String}, 3, {tz:String})
      ) AS \`__q\`
      ORDER BY \`orders__revenue_7d\` DESC
      LIMIT 10000"
    `);
  });

  it('a number measure over rolling measures is computed in the outer stage', () => {
    const c = compile({
      measures: ['orders.rolling_share'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-02'] }],
    });
    expect(c.sql.split('\n')[0]).toMatchInlineSnapshot(
      `"SELECT \`__q\`.\`__d0\` AS \`orders__created_at_day\`, (max(\`__q\`.\`__m0\`) / nullIf(max(\`__q\`.\`__m1\`), 0)) AS \`orders__rolling_share\`"`,
    );
    expect(c.sql.match(/arrayFilter/g)).toHaveLength(2);
  });

  it('needs a dateRange when a granularity is set', () => {
    expect(errorOf(() => compile({ measures: ['orders.revenue_7d'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }] }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'rolling window measures need a dateRange on "orders.created_at" when it has a granularity',
    });
  });
});
