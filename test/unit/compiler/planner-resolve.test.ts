/** Planner stage 1: resolving the query's members and sorting its filters. */
import { describe, expect, it } from 'vitest';
import { resolveQueryMembers } from '../../../src/compiler/planner/resolve.js';
import { errorOf, model } from './fixture.js';
import { normalized } from './planner-helpers.js';

describe('resolveQueryMembers', () => {
  it('resolves every slot in query order; view members keep their view', () => {
    const m = resolveQueryMembers(
      model,
      normalized({
        measures: ['sales.revenue', 'orders.count'],
        dimensions: ['orders.status'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }, { dimension: 'customers.signed_up_at' }],
        segments: ['orders.completed'],
      }),
    );
    expect(m.measures.map((r) => [r.path, r.member.path, r.view?.view.name])).toEqual([
      ['sales.revenue', 'orders.revenue', 'sales'],
      ['orders.count', 'orders.count', undefined],
    ]);
    expect(m.dimensions.map((r) => r.member.path)).toEqual(['orders.status']);
    expect(m.timeDimensions.map(({ td, resolved }) => [td.granularity, resolved.member.path])).toEqual([
      ['day', 'orders.created_at'],
      [undefined, 'customers.signed_up_at'],
    ]);
    expect(m.segments.map((r) => r.member.path)).toEqual(['orders.completed']);
  });

  it('sorts filter groups into WHERE and HAVING and collects their members at any depth', () => {
    const m = resolveQueryMembers(
      model,
      normalized({
        measures: ['orders.count'],
        filters: [
          { member: 'orders.status', operator: 'equals', values: ['paid'] },
          { or: [{ member: 'orders.revenue', operator: 'gt', values: ['10'] }, { and: [{ member: 'orders.paid_ratio', operator: 'lt', values: ['1'] }] }] },
          { member: 'orders.paid_count', operator: 'measureFilter' },
        ],
      }),
    );
    expect(m.whereFilters.map((f) => f.kind === 'member' && f.member)).toEqual(['orders.status', 'orders.paid_count']);
    expect(m.havingFilters.map((f) => f.kind)).toEqual(['or']);
    // measureFilter applies a measure's own filters in WHERE: not a HAVING comparison.
    expect(m.havingMeasures.map((x) => x.path)).toEqual(['orders.revenue', 'orders.paid_ratio']);
    expect(m.filterMembers.map((r) => r.path)).toEqual(['orders.status', 'orders.revenue', 'orders.paid_ratio', 'orders.paid_count']);
  });

  it('refuses a query without measures, dimensions or time dimensions', () => {
    expect(errorOf(() => resolveQueryMembers(model, normalized({ segments: ['orders.completed'] })))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'a query needs at least one measure, dimension or time dimension',
    });
  });

  it('refuses an and-group mixing measure and dimension filters', () => {
    const q = normalized({ measures: ['orders.count'] });
    const mixed = {
      ...q,
      filters: [
        {
          kind: 'and' as const,
          filters: [
            { kind: 'member' as const, member: 'orders.count', operator: 'gt' as const, values: ['1'] },
            { kind: 'member' as const, member: 'orders.status', operator: 'set' as const, values: [] },
          ],
        },
      ],
    };
    expect(errorOf(() => resolveQueryMembers(model, mixed))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'a filter group cannot mix measure and dimension filters',
    });
  });

  it('refuses hidden members', () => {
    const q = { ...normalized({ measures: ['orders.count'] }), measures: ['orders.internal_cost'] };
    expect(errorOf(() => resolveQueryMembers(model, q))).toEqual({ code: 'BAD_USER_INPUT', message: 'member "orders.internal_cost" is not public' });
  });
});
