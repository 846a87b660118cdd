/** Planner stage 5: measure leaves and the groups they are computed in. */
import { describe, expect, it } from 'vitest';
import { groupMeasures } from '../../../src/compiler/planner/groups.js';
import { joinSource } from '../../../src/compiler/planner/joins.js';
import { resolveQueryMembers } from '../../../src/compiler/planner/resolve.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf, model } from './fixture.js';
import { normalized } from './planner-helpers.js';

function groupsOf(query: SemanticQuery) {
  const q = normalized(query);
  const members = resolveQueryMembers(model, q);
  const g = groupMeasures(model, members, joinSource(model, members).tree, q.ungrouped);
  return {
    leaves: g.leaves.map((m) => m.path),
    groups: g.groups.map((x) => ({ cube: x.multipliedCube, rolling: x.rolling !== undefined, leaves: x.leaves.map((m) => m.path) })),
    multiStage: g.multiStage,
  };
}

describe('groupMeasures', () => {
  it('one group over the join tree when nothing is repeated or rolling', () => {
    expect(groupsOf({ measures: ['orders.count', 'invoices.total'], dimensions: ['customers.name'] })).toEqual({
      leaves: ['orders.count', 'invoices.total'],
      groups: [{ cube: undefined, rolling: false, leaves: ['orders.count', 'invoices.total'] }],
      multiStage: false,
    });
  });

  it('expands number measures into their leaves and adds the leaves HAVING compares', () => {
    const g = groupsOf({ measures: ['orders.paid_ratio'], filters: [{ member: 'orders.revenue', operator: 'gt', values: ['1'] }] });
    expect(g.leaves).toEqual(['orders.paid_count', 'orders.count', 'orders.revenue']);
  });

  it('puts the duplicate-sensitive leaves of a cube the tree multiplies in a group of their own', () => {
    expect(groupsOf({ measures: ['orders.revenue', 'orders.customers_count', 'line_items.quantity'], dimensions: ['line_items.product'] })).toEqual({
      leaves: ['orders.revenue', 'orders.customers_count', 'line_items.quantity'],
      groups: [
        { cube: 'orders', rolling: false, leaves: ['orders.revenue'] },
        // count_distinct is duplicate-insensitive: it stays over the join tree.
        { cube: undefined, rolling: false, leaves: ['orders.customers_count', 'line_items.quantity'] },
      ],
      multiStage: true,
    });
  });

  it('groups rolling leaves by window', () => {
    const g = groupsOf({
      measures: ['orders.revenue_7d', 'orders.rolling_share', 'orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-10'] }],
    });
    expect(g.groups).toEqual([
      { cube: undefined, rolling: true, leaves: ['orders.revenue_7d'] },
      { cube: undefined, rolling: true, leaves: ['orders.revenue_running'] },
      { cube: undefined, rolling: false, leaves: ['orders.count'] },
    ]);
    expect(g.multiStage).toBe(true);
  });

  it('ungrouped: refuses leaves the joins would repeat, and rolling leaves', () => {
    expect(errorOf(() => groupsOf({ measures: ['orders.count'], dimensions: ['line_items.product'], ungrouped: true }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'an ungrouped query lists rows of one cube family: measure "orders.count" would be repeated by the join to its cube orders',
    });
    expect(errorOf(() => groupsOf({ measures: ['orders.revenue_7d'], dimensions: ['orders.status'], ungrouped: true }))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'an ungrouped query lists rows of one cube family: measure "orders.revenue_7d" has a rolling window',
    });
  });
});
