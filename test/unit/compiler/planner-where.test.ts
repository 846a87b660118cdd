/** Planner stage 4: WHERE (filters, segments, date ranges) and HAVING. */
import { describe, expect, it } from 'vitest';
import { aggregateOf } from '../../../src/compiler/measures.js';
import { ParamBag, ident } from '../../../src/compiler/plan-tree.js';
import { joinSource } from '../../../src/compiler/planner/joins.js';
import { resolveQueryMembers } from '../../../src/compiler/planner/resolve.js';
import { havingClause, inDateRange, whereClause } from '../../../src/compiler/planner/where.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { model } from './fixture.js';
import { exprSql, normalized, zoneOf } from './planner-helpers.js';

function whereOf(query: SemanticQuery) {
  const q = normalized(query);
  const members = resolveQueryMembers(model, q);
  const source = joinSource(model, members);
  const params = new ParamBag();
  return { members, source, where: whereClause(model, members, source.scope, params, zoneOf(q)), params };
}

const TWO_RANGES: SemanticQuery = {
  measures: ['orders.count'],
  filters: [{ member: 'orders.status', operator: 'equals', values: ['paid'] }],
  segments: ['orders.completed'],
  timeDimensions: [
    { dimension: 'orders.created_at', dateRange: ['2024-01-01', '2024-01-31'] },
    { dimension: 'customers.signed_up_at', dateRange: ['2023-01-01', '2023-12-31'] },
  ],
};

describe('whereClause', () => {
  it('ANDs the dimension filters, the segments and every date range, binding values in that order', () => {
    const { where } = whereOf(TWO_RANGES);
    expect(exprSql(where.except())).toMatchInlineSnapshot(
      `"\`orders\`.status = {p0:String} AND (\`orders\`.status = 'completed') AND \`orders\`.created_at >= toDateTime({p1:String}, {tz:String}) AND \`orders\`.created_at < toDateTime({p2:String}, {tz:String}) AND \`customers\`.signed_up_at >= toDateTime({p3:String}, {tz:String}) AND \`customers\`.signed_up_at < toDateTime({p4:String}, {tz:String})"`,
    );
  });

  it('builds once: every call shares the same parameters', () => {
    const { where, params } = whereOf(TWO_RANGES);
    where.except();
    where.except(0);
    expect(params.add('next', 'String')).toMatchObject({ name: 'p5' });
  });

  it('except(i) leaves out the date range of time dimension i only', () => {
    const { where } = whereOf(TWO_RANGES);
    expect(exprSql(where.except(0))).toMatchInlineSnapshot(
      `"\`orders\`.status = {p0:String} AND (\`orders\`.status = 'completed') AND \`customers\`.signed_up_at >= toDateTime({p3:String}, {tz:String}) AND \`customers\`.signed_up_at < toDateTime({p4:String}, {tz:String})"`,
    );
  });

  it('is undefined without filters, segments or ranges', () => {
    expect(whereOf({ measures: ['orders.count'] }).where.except()).toBeUndefined();
  });

  it('leaves measure filters to HAVING', () => {
    const { where } = whereOf({ measures: ['orders.count'], filters: [{ member: 'orders.revenue', operator: 'gt', values: ['10'] }] });
    expect(where.except()).toBeUndefined();
  });
});

describe('inDateRange', () => {
  it('binds from, then to, as times in the query zone', () => {
    const params = new ParamBag();
    const e = inDateRange({ params, tz: ident('tz') }, 'orders.created_at', ident('t'), ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999']);
    expect(exprSql(e)).toMatchInlineSnapshot(`"\`t\` >= toDateTime({p0:String}, \`tz\`) AND \`t\` <= toDateTime64({p1:String}, 3, \`tz\`)"`);
  });
});

describe('havingClause', () => {
  it('renders the compared measures with the leaf function given', () => {
    const { members, source, where } = whereOf({
      measures: ['orders.count'],
      filters: [
        {
          or: [
            { member: 'orders.revenue', operator: 'gt', values: ['10'] },
            { member: 'orders.paid_ratio', operator: 'lt', values: ['0.5'] },
          ],
        },
      ],
    });
    const having = havingClause(model, members.havingFilters, where.ctx, (m) => aggregateOf(m, source.scope), source.scope);
    expect(exprSql(having)).toMatchInlineSnapshot(
      `"sum(\`orders\`.amount) > {p0:Float64} OR (countIf(\`orders\`.id, \`orders\`.paid = 1) / nullIf(count(\`orders\`.id), 0)) < {p1:Float64}"`,
    );
  });

  it('is undefined without measure filters', () => {
    const { members, source, where } = whereOf({ measures: ['orders.count'] });
    expect(havingClause(model, members.havingFilters, where.ctx, (m) => aggregateOf(m, source.scope), source.scope)).toBeUndefined();
  });
});
