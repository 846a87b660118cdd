/** Measures, dimensions, segments, time dimensions: the SQL each one produces. */
import { describe, expect, it } from 'vitest';
import { GRANULARITIES } from '../../../src/semantic/query.js';
import { compile, sqlOf } from './fixture.js';

/** The SELECT list of a one-stage query. */
const selectOf = (sql: string) => sql.split('\n')[0];

describe('measures', () => {
  it('every aggregate type in one statement', () => {
    expect(
      sqlOf({
        measures: [
          'orders.count',
          'orders.revenue',
          'orders.avg_amount',
          'orders.min_amount',
          'orders.max_amount',
          'orders.customers_count',
          'orders.approx_customers',
        ],
      }),
    ).toMatchInlineSnapshot(`
      "SELECT count(\`orders\`.id) AS \`orders__count\`, sum(\`orders\`.amount) AS \`orders__revenue\`, avg(\`orders\`.amount) AS \`orders__avg_amount\`, min(\`orders\`.amount) AS \`orders__min_amount\`, max(\`orders\`.amount) AS \`orders__max_amount\`, uniqExact(\`orders\`.customer_id) AS \`orders__customers_count\`, uniq(\`orders\`.customer_id) AS \`orders__approx_customers\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      ORDER BY \`orders__count\` DESC
      LIMIT 10000"
    `);
  });

  it('filtered measures use the -If combinator', () => {
    expect(selectOf(sqlOf({ measures: ['orders.paid_count', 'orders.paid_revenue'] }))).toMatchInlineSnapshot(
      `"SELECT countIf(\`orders\`.id, \`orders\`.paid = 1) AS \`orders__paid_count\`, sumIf(\`orders\`.amount, (\`orders\`.paid = 1) AND (\`orders\`.status != 'refunded')) AS \`orders__paid_revenue\`"`,
    );
  });

  it('number measures substitute the referenced measures recursively', () => {
    expect(selectOf(sqlOf({ measures: ['orders.paid_ratio', 'orders.revenue_per_customer'] }))).toMatchInlineSnapshot(
      `"SELECT (countIf(\`orders\`.id, \`orders\`.paid = 1) / nullIf(count(\`orders\`.id), 0)) AS \`orders__paid_ratio\`, (sum(\`orders\`.amount) / uniqExact(\`orders\`.customer_id)) AS \`orders__revenue_per_customer\`"`,
    );
  });

  it('number / time / string measures with their own aggregate SQL', () => {
    expect(selectOf(sqlOf({ measures: ['orders.raw_ratio', 'orders.last_order_at', 'orders.statuses'] }))).toMatchInlineSnapshot(
      `"SELECT (sum(\`orders\`.amount) / count()) AS \`orders__raw_ratio\`, (max(\`orders\`.created_at)) AS \`orders__last_order_at\`, (arrayStringConcat(groupUniqArray(\`orders\`.status), ',')) AS \`orders__statuses\`"`,
    );
  });

  it('count on a cube without a primary key counts rows', () => {
    expect(sqlOf({ measures: ['events.count'] })).toMatchInlineSnapshot(`
      "SELECT count() AS \`events__count\`
      FROM (SELECT * FROM (SELECT * FROM strata.raw_events WHERE kind != 'test') WHERE \`tenant_id\` = {tenant:String}) AS \`events\`
      ORDER BY \`events__count\` DESC
      LIMIT 10000"
    `);
  });
});

describe('dimensions', () => {
  it('string, number, boolean, cross-cube reference and case', () => {
    expect(
      sqlOf({ dimensions: ['orders.status', 'orders.amount', 'orders.is_paid', 'orders.size', 'orders.customer_name'], order: [] }),
    ).toMatchInlineSnapshot(`
      "SELECT \`orders\`.status AS \`orders__status\`, \`orders\`.amount AS \`orders__amount\`, (\`orders\`.paid = 1) AS \`orders__is_paid\`, multiIf(\`orders\`.amount > 100, 'large', \`orders\`.amount > 10, 'mid\\'size', 'small') AS \`orders__size\`, \`customers\`.name AS \`orders__customer_name\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      GROUP BY \`orders__status\`, \`orders__amount\`, \`orders__is_paid\`, \`orders__size\`, \`orders__customer_name\`
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });

  it('segments are ANDed into WHERE, each parenthesized', () => {
    expect(sqlOf({ measures: ['orders.count'], segments: ['orders.completed', 'orders.big_or_paid'] })).toMatchInlineSnapshot(`
      "SELECT count(\`orders\`.id) AS \`orders__count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE (\`orders\`.status = 'completed') AND (\`orders\`.amount > 100 OR \`orders\`.paid = 1)
      ORDER BY \`orders__count\` DESC
      LIMIT 10000"
    `);
  });
});

describe('time dimensions', () => {
  it.each(GRANULARITIES)('granularity %s truncates in the query time zone', (granularity) => {
    const c = compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity }], timezone: 'Europe/Paris' });
    expect(selectOf(c.sql)).toMatch(/^SELECT toDateTime64\(toStart|^SELECT toDateTime64\(toMonday/);
    expect(c.params).toEqual({ tenant: 'acme', tz: 'Europe/Paris' });
    expect(c.columns[0]).toEqual({
      alias: `orders__created_at_${granularity}`,
      key: `orders.created_at.${granularity}`,
      member: 'orders.created_at',
      kind: 'timeDimension',
      type: 'time',
      granularity,
    });
  });

  it('day / week / quarter SQL', () => {
    const q = (granularity: 'day' | 'week' | 'quarter') =>
      selectOf(sqlOf({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity }], timezone: 'America/New_York' }));
    expect(q('day')).toMatchInlineSnapshot(
      `"SELECT toDateTime64(toStartOfDay(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`orders__created_at_day\`, count(\`orders\`.id) AS \`orders__count\`"`,
    );
    expect(q('week')).toMatchInlineSnapshot(
      `"SELECT toDateTime64(toMonday(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`orders__created_at_week\`, count(\`orders\`.id) AS \`orders__count\`"`,
    );
    expect(q('quarter')).toMatchInlineSnapshot(
      `"SELECT toDateTime64(toStartOfQuarter(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`orders__created_at_quarter\`, count(\`orders\`.id) AS \`orders__count\`"`,
    );
  });

  it('a date range filters in the query time zone, inclusive; the zone is a parameter', () => {
    const c = compile({
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', dateRange: 'last month' }],
      timezone: 'America/Los_Angeles',
    });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT toDateTime64(toStartOfMonth(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String}) AS \`orders__created_at_month\`, count(\`orders\`.id) AS \`orders__count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})
      GROUP BY \`orders__created_at_month\`
      ORDER BY \`orders__created_at_month\` ASC
      LIMIT 10000"
    `);
    expect(c.params).toEqual({ tenant: 'acme', tz: 'America/Los_Angeles', p0: '2024-01-01 00:00:00', p1: '2024-02-01 00:00:00' });
  });

  it('without granularity a time dimension only filters', () => {
    const c = compile({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-02'] }] });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT count(\`orders\`.id) AS \`orders__count\`
      FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
      WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})
      ORDER BY \`orders__count\` DESC
      LIMIT 10000"
    `);
    expect(c.columns.map((x) => x.key)).toEqual(['orders.count']);
  });

  it('the same dimension at two granularities gives two columns', () => {
    const c = compile({
      measures: ['orders.count'],
      timeDimensions: [
        { dimension: 'orders.created_at', granularity: 'year' },
        { dimension: 'orders.created_at', granularity: 'month' },
      ],
    });
    expect(c.columns.map((x) => [x.alias, x.key])).toEqual([
      ['orders__created_at_year', 'orders.created_at.year'],
      ['orders__created_at_month', 'orders.created_at.month'],
      ['orders__count', 'orders.count'],
    ]);
  });
});

describe('columns', () => {
  it('describe every output column: alias, key, member, kind, type', () => {
    expect(
      compile({
        measures: ['orders.revenue', 'sales.count'],
        dimensions: ['orders.is_paid', 'sales.customers_name'],
        timeDimensions: [{ dimension: 'sales.created_at', granularity: 'day' }],
      }).columns,
    ).toEqual([
      { alias: 'orders__is_paid', key: 'orders.is_paid', member: 'orders.is_paid', kind: 'dimension', type: 'boolean' },
      { alias: 'sales__customers_name', key: 'sales.customers_name', member: 'sales.customers_name', kind: 'dimension', type: 'string' },
      { alias: 'sales__created_at_day', key: 'sales.created_at.day', member: 'sales.created_at', kind: 'timeDimension', type: 'time', granularity: 'day' },
      { alias: 'orders__revenue', key: 'orders.revenue', member: 'orders.revenue', kind: 'measure', type: 'number' },
      { alias: 'sales__count', key: 'sales.count', member: 'sales.count', kind: 'measure', type: 'number' },
    ]);
  });
});
