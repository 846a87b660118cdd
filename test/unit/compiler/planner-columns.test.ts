/** Planner stage 3: output columns, their aliases, and ORDER BY over them. */
import { describe, expect, it } from 'vitest';
import { outputColumns, orderItems } from '../../../src/compiler/planner/columns.js';
import { joinSource } from '../../../src/compiler/planner/joins.js';
import { resolveQueryMembers, type QueryMembers } from '../../../src/compiler/planner/resolve.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf, model } from './fixture.js';
import { exprSql, normalized, zoneOf } from './planner-helpers.js';

function columnsOf(query: SemanticQuery, edit: (m: QueryMembers) => QueryMembers = (m) => m) {
  const q = normalized(query);
  const members = edit(resolveQueryMembers(model, q));
  return outputColumns(members, joinSource(model, members).scope, zoneOf(q));
}

describe('outputColumns', () => {
  it('dimensions, then time dimensions with a granularity, then measures', () => {
    const c = columnsOf({
      measures: ['orders.count', 'sales.revenue'],
      dimensions: ['orders.status'],
      timeDimensions: [{ dimension: 'customers.signed_up_at' }, { dimension: 'orders.created_at', granularity: 'month' }],
    });
    expect(c.all).toEqual([
      { alias: 'orders__status', key: 'orders.status', member: 'orders.status', kind: 'dimension', type: 'string' },
      {
        alias: 'orders__created_at_month',
        key: 'orders.created_at.month',
        member: 'orders.created_at',
        kind: 'timeDimension',
        type: 'time',
        granularity: 'month',
      },
      { alias: 'orders__count', key: 'orders.count', member: 'orders.count', kind: 'measure', type: 'number' },
      { alias: 'sales__revenue', key: 'sales.revenue', member: 'sales.revenue', kind: 'measure', type: 'number' },
    ]);
    expect(c.measures.map((m) => m.alias)).toEqual(['orders__count', 'sales__revenue']);
    // A time column knows which time dimension it truncates (the one without granularity has none).
    expect(c.dimensions.map((d) => d.td)).toEqual([undefined, 1]);
  });

  it('truncates time dimensions in the query zone', () => {
    const [day] = columnsOf({ timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }], timezone: 'Europe/Paris' }).dimensions;
    expect(exprSql(day.expr)).toMatchInlineSnapshot(`"toDateTime64(toStartOfDay(toDateTime64(\`orders\`.created_at, 3, {tz:String})), 3, {tz:String})"`);
  });

  it('keeps aliases unique', () => {
    const c = columnsOf({ dimensions: ['orders.status'] }, (m) => ({ ...m, dimensions: [m.dimensions[0], m.dimensions[0]] }));
    expect(c.all.map((x) => x.alias)).toEqual(['orders__status', 'orders__status_2']);
  });
});

describe('orderItems', () => {
  const columns = columnsOf({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }] }).all;

  it('orders by a column key, or by a member path when no key matches', () => {
    const items = orderItems(
      [
        ['orders.count', 'desc'],
        ['orders.created_at', 'asc'],
      ],
      columns,
    );
    expect(items.map((i) => [exprSql(i.expr), i.direction])).toEqual([
      ['`orders__count`', 'desc'],
      ['`orders__created_at_day`', 'asc'],
    ]);
  });

  it('refuses a member that is not in the query', () => {
    expect(errorOf(() => orderItems([['orders.status', 'asc']], columns))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'cannot order by "orders.status": it is not in the query',
    });
  });
});
