/** Every filter operator: the condition it produces and the parameters it binds. */
import { describe, expect, it } from 'vitest';
import type { Filter } from '../../../src/semantic/query.js';
import { compile } from './fixture.js';

/** WHERE / HAVING lines and the user parameters of a one-stage query over orders. */
function filtered(filters: Filter[], tz?: string) {
  const c = compile({ measures: ['orders.count'], filters, timezone: tz });
  const lines = c.sql.split('\n').filter((l) => /^(WHERE|HAVING)/.test(l));
  const { tenant: _t, ...params } = c.params;
  return { sql: lines.join('\n'), params };
}

describe('filter operators', () => {
  it('equals: one value, several values', () => {
    expect(filtered([{ member: 'orders.status', operator: 'equals', values: ['completed'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "completed",
        },
        "sql": "WHERE \`orders\`.status = {p0:String}",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'equals', values: ['a', 'b'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "a",
          "p1": "b",
        },
        "sql": "WHERE \`orders\`.status IN ({p0:String}, {p1:String})",
      }
    `);
  });

  it('notEquals keeps NULLs, like Cube', () => {
    expect(filtered([{ member: 'orders.amount', operator: 'notEquals', values: [5] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": 5,
        },
        "sql": "WHERE \`orders\`.amount != {p0:Float64} OR \`orders\`.amount IS NULL",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'notEquals', values: ['a', 'b'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "a",
          "p1": "b",
        },
        "sql": "WHERE \`orders\`.status NOT IN ({p0:String}, {p1:String}) OR \`orders\`.status IS NULL",
      }
    `);
  });

  it('contains / startsWith / endsWith: case-insensitive, wildcards escaped, several values ORed', () => {
    expect(filtered([{ member: 'orders.status', operator: 'contains', values: ['50%_off\\', 'x'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "%50\\%\\_off\\\\%",
          "p1": "%x%",
        },
        "sql": "WHERE \`orders\`.status ILIKE {p0:String} OR \`orders\`.status ILIKE {p1:String}",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'startsWith', values: ['comp'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "comp%",
        },
        "sql": "WHERE \`orders\`.status ILIKE {p0:String}",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'endsWith', values: ['ed'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "%ed",
        },
        "sql": "WHERE \`orders\`.status ILIKE {p0:String}",
      }
    `);
  });

  it('notContains / notStartsWith / notEndsWith: all must hold, NULLs kept', () => {
    expect(filtered([{ member: 'orders.status', operator: 'notContains', values: ['a', 'b'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "%a%",
          "p1": "%b%",
        },
        "sql": "WHERE (\`orders\`.status NOT ILIKE {p0:String} AND \`orders\`.status NOT ILIKE {p1:String}) OR \`orders\`.status IS NULL",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'notStartsWith', values: ['a'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "a%",
        },
        "sql": "WHERE \`orders\`.status NOT ILIKE {p0:String} OR \`orders\`.status IS NULL",
      }
    `);
    expect(filtered([{ member: 'orders.status', operator: 'notEndsWith', values: ['a'] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "%a",
        },
        "sql": "WHERE \`orders\`.status NOT ILIKE {p0:String} OR \`orders\`.status IS NULL",
      }
    `);
  });

  it('gt / gte / lt / lte on numbers (Float64) and times', () => {
    expect(
      filtered([
        { member: 'orders.amount', operator: 'gt', values: [1] },
        { member: 'orders.amount', operator: 'gte', values: ['2.5'] },
        { member: 'orders.amount', operator: 'lt', values: [3] },
        { member: 'orders.created_at', operator: 'lte', values: ['2024-01-01T12:00:00'] },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": 1,
          "p1": 2.5,
          "p2": 3,
          "p3": "2024-01-01 12:00:00",
          "tz": "UTC",
        },
        "sql": "WHERE \`orders\`.amount > {p0:Float64} AND \`orders\`.amount >= {p1:Float64} AND \`orders\`.amount < {p2:Float64} AND \`orders\`.created_at <= toDateTime({p3:String}, {tz:String})",
      }
    `);
  });

  it('set / notSet', () => {
    expect(
      filtered([
        { member: 'orders.status', operator: 'set' },
        { member: 'orders.amount', operator: 'notSet' },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "params": {},
        "sql": "WHERE \`orders\`.status IS NOT NULL AND \`orders\`.amount IS NULL",
      }
    `);
  });

  it('boolean equals binds a Bool parameter', () => {
    expect(filtered([{ member: 'orders.is_paid', operator: 'equals', values: [false] }])).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": false,
        },
        "sql": "WHERE (\`orders\`.paid = 1) = {p0:Bool}",
      }
    `);
  });

  it('inDateRange / notInDateRange with absolute and relative ranges, in the query zone', () => {
    expect(filtered([{ member: 'orders.created_at', operator: 'inDateRange', values: ['2024-01-01', '2024-01-31'] }], 'Asia/Tokyo')).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "2024-01-01 00:00:00",
          "p1": "2024-02-01 00:00:00",
          "tz": "Asia/Tokyo",
        },
        "sql": "WHERE \`orders\`.created_at >= toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String})",
      }
    `);
    expect(filtered([{ member: 'orders.created_at', operator: 'notInDateRange', values: ['last month'] }], 'America/Los_Angeles')).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "2024-01-01 00:00:00",
          "p1": "2024-02-01 00:00:00",
          "tz": "America/Los_Angeles",
        },
        "sql": "WHERE \`orders\`.created_at < toDateTime({p0:String}, {tz:String}) OR (NOT (\`orders\`.created_at < toDateTime({p1:String}, {tz:String})))",
      }
    `);
  });

  it('beforeDate / beforeOrOnDate / afterDate / afterOrOnDate: a bare day means its start or its end', () => {
    expect(
      filtered([
        { member: 'orders.created_at', operator: 'beforeDate', values: ['2024-01-10'] },
        { member: 'orders.created_at', operator: 'beforeOrOnDate', values: ['2024-01-10'] },
        { member: 'orders.created_at', operator: 'afterDate', values: ['2024-01-01'] },
        { member: 'orders.created_at', operator: 'afterOrOnDate', values: ['2024-01-01T06:00:00'] },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "2024-01-10 00:00:00",
          "p1": "2024-01-11 00:00:00",
          "p2": "2024-01-01T23:59:59.999",
          "p3": "2024-01-01 06:00:00",
          "tz": "UTC",
        },
        "sql": "WHERE \`orders\`.created_at < toDateTime({p0:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p1:String}, {tz:String}) AND \`orders\`.created_at > toDateTime64({p2:String}, 3, {tz:String}) AND \`orders\`.created_at >= toDateTime({p3:String}, {tz:String})",
      }
    `);
  });

  it("measureFilter applies the measure's own filters as a WHERE condition", () => {
    expect(filtered([{ member: 'orders.paid_revenue', operator: 'measureFilter' }])).toMatchInlineSnapshot(`
      {
        "params": {},
        "sql": "WHERE (\`orders\`.paid = 1) AND (\`orders\`.status != 'refunded')",
      }
    `);
    expect(filtered([{ member: 'orders.revenue', operator: 'measureFilter' }])).toMatchInlineSnapshot(`
      {
        "params": {},
        "sql": "WHERE 1",
      }
    `);
  });

  it('nested and / or', () => {
    expect(
      filtered([
        {
          or: [
            { member: 'orders.status', operator: 'equals', values: ['a'] },
            {
              and: [
                { member: 'orders.amount', operator: 'gt', values: [10] },
                { member: 'orders.is_paid', operator: 'equals', values: [true] },
              ],
            },
          ],
        },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "a",
          "p1": 10,
          "p2": true,
        },
        "sql": "WHERE \`orders\`.status = {p0:String} OR (\`orders\`.amount > {p1:Float64} AND (\`orders\`.paid = 1) = {p2:Bool})",
      }
    `);
  });

  it('filters on measures go to HAVING (selected or not), on dimensions to WHERE', () => {
    expect(
      filtered([
        { member: 'orders.revenue', operator: 'gt', values: [100] },
        {
          or: [
            { member: 'orders.count', operator: 'lt', values: [5] },
            { member: 'orders.paid_ratio', operator: 'gte', values: [0.5] },
          ],
        },
        { member: 'orders.status', operator: 'equals', values: ['x'] },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "params": {
          "p0": "x",
          "p1": 100,
          "p2": 5,
          "p3": 0.5,
        },
        "sql": "WHERE \`orders\`.status = {p0:String}
      HAVING sum(\`orders\`.amount) > {p1:Float64} AND (count(\`orders\`.id) < {p2:Float64} OR (countIf(\`orders\`.id, \`orders\`.paid = 1) / nullIf(count(\`orders\`.id), 0)) >= {p3:Float64})",
      }
    `);
  });

  it('a filter member need not be selected and can come from a joined cube', () => {
    const c = compile({ measures: ['orders.count'], filters: [{ member: 'customers.name', operator: 'equals', values: ['Ann'] }] });
    expect(c.sql).toMatchInlineSnapshot(`
      "SELECT sum(\`orders\`.\`__e0\`) AS \`orders__count\`
      FROM (
        SELECT \`orders\`.\`customer_id\` AS \`customer_id\`, count(\`orders\`.id) AS \`__e0\`
        FROM (SELECT * FROM strata.orders WHERE \`tenant_id\` = {tenant:String}) AS \`orders\`
        GROUP BY \`customer_id\`
      ) AS \`orders\`
      LEFT JOIN (SELECT * FROM strata.customers WHERE \`tenant_id\` = {tenant:String}) AS \`customers\` ON \`orders\`.customer_id = \`customers\`.id
      WHERE \`customers\`.name = {p0:String}
      ORDER BY \`orders__count\` DESC
      LIMIT 10000
      SETTINGS join_use_nulls = 1"
    `);
  });
});
