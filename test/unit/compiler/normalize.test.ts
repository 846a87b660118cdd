import { describe, expect, it } from 'vitest';
import { expandCompareDateRange, normalizeQuery } from '../../../src/compiler/normalize.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { errorOf, model, options } from './fixture.js';

const norm = (q: SemanticQuery) => normalizeQuery(model, q, options);
const fail = (q: unknown) => errorOf(() => normalizeQuery(model, q as SemanticQuery, options));

describe('normalizeQuery', () => {
  it('fills defaults and resolves relative ranges in the query time zone', () => {
    expect(
      norm({
        measures: ['orders.count'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'last month' }],
        timezone: 'America/Los_Angeles',
      }),
    ).toEqual({
      measures: ['orders.count'],
      dimensions: [],
      segments: [],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999'] }],
      filters: [],
      order: [['orders.created_at.day', 'asc']],
      limit: 10_000,
      offset: 0,
      total: false,
      timezone: 'America/Los_Angeles',
      ungrouped: false,
    });
  });

  it('default order: time dimension with granularity, else first measure desc, else first dimension asc', () => {
    expect(norm({ measures: ['orders.count', 'orders.revenue'], dimensions: ['orders.status'] }).order).toEqual([['orders.count', 'desc']]);
    expect(norm({ dimensions: ['orders.status'] }).order).toEqual([['orders.status', 'asc']]);
    expect(norm({ measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at' }] }).order).toEqual([['orders.count', 'desc']]);
    expect(norm({ measures: ['orders.count'], order: {} }).order).toEqual([]);
  });

  it('order: object and array forms; a time dimension by path or path.granularity', () => {
    const q = { measures: ['orders.count'], dimensions: ['orders.status'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'week' as const }] };
    expect(norm({ ...q, order: { 'orders.status': 'asc', 'orders.count': 'desc' } }).order).toEqual([
      ['orders.status', 'asc'],
      ['orders.count', 'desc'],
    ]);
    expect(norm({ ...q, order: [['orders.created_at', 'desc']] }).order).toEqual([['orders.created_at.week', 'desc']]);
    expect(norm({ ...q, order: [['orders.created_at.week', 'asc']] }).order).toEqual([['orders.created_at.week', 'asc']]);
  });

  it('accepts the legacy filter key "dimension" and canonicalizes values', () => {
    const q = norm({
      measures: ['orders.count'],
      filters: [
        { dimension: 'orders.amount', operator: 'gt', values: ['10.5'] } as never,
        { member: 'orders.is_paid', operator: 'equals', values: ['true'] },
        { member: 'orders.status', operator: 'equals', values: [42] },
        { member: 'orders.created_at', operator: 'inDateRange', values: ['last 7 days'] },
        { member: 'orders.created_at', operator: 'afterDate', values: ['2024-01-31'] },
        { or: [{ member: 'orders.status', operator: 'set' }, { and: [{ member: 'orders.amount', operator: 'lt', values: [5] }] }] },
      ],
    });
    expect(q.filters).toEqual([
      { kind: 'member', member: 'orders.amount', operator: 'gt', values: [10.5] },
      { kind: 'member', member: 'orders.is_paid', operator: 'equals', values: [true] },
      { kind: 'member', member: 'orders.status', operator: 'equals', values: ['42'] },
      { kind: 'member', member: 'orders.created_at', operator: 'inDateRange', values: ['2024-02-23T00:00:00.000', '2024-02-29T23:59:59.999'] },
      { kind: 'member', member: 'orders.created_at', operator: 'afterDate', values: ['2024-01-31T23:59:59.999'] },
      {
        kind: 'or',
        filters: [
          { kind: 'member', member: 'orders.status', operator: 'set', values: [] },
          { kind: 'and', filters: [{ kind: 'member', member: 'orders.amount', operator: 'lt', values: [5] }] },
        ],
      },
    ]);
  });

  it('dedupes members and keeps view paths', () => {
    expect(norm({ measures: ['sales.count', 'sales.count'], dimensions: ['sales.customers_name'] })).toMatchObject({
      measures: ['sales.count'],
      dimensions: ['sales.customers_name'],
    });
  });
});

describe('normalizeQuery rejects bad input with BAD_USER_INPUT', () => {
  const cases: [string, unknown, string][] = [
    ['unknown member, with suggestion', { measures: ['orders.revnue'] }, 'unknown member "orders.revnue" — did you mean "orders.revenue"?'],
    ['unknown cube', { dimensions: ['nope.x'] }, 'unknown member "nope.x"'],
    ['measure as dimension', { dimensions: ['orders.count'] }, '"orders.count" is a measure and cannot be used in dimensions; put it in measures'],
    ['dimension as measure', { measures: ['orders.status'] }, '"orders.status" is a dimension and cannot be used in measures; put it in dimensions'],
    ['segment as measure', { measures: ['orders.completed'] }, '"orders.completed" is a segment and cannot be used in measures; put it in segments'],
    ['dimension as segment', { measures: ['orders.count'], segments: ['orders.status'] }, '"orders.status" is a dimension and cannot be used in segments'],
    [
      'segment as filter',
      { measures: ['orders.count'], filters: [{ member: 'orders.completed', operator: 'set' }] },
      '"orders.completed" is a segment and cannot be used in filters; put it in segments',
    ],
    [
      'non-time dimension in timeDimensions',
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.status', granularity: 'day' }] },
      '"orders.status" is a string dimension, not a time dimension; put it in dimensions',
    ],
    ['non-public measure', { measures: ['orders.internal_cost'] }, 'member "orders.internal_cost" is not public'],
    [
      'non-public dimension in a filter',
      { measures: ['orders.count'], filters: [{ member: 'orders.secret_note', operator: 'set' }] },
      'member "orders.secret_note" is not public',
    ],
    [
      'unknown operator',
      { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equal', values: ['a'] }] },
      'unknown filter operator "equal" on "orders.status" — did you mean "equals"?',
    ],
    [
      'equals without values',
      { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equals', values: [] }] },
      'operator "equals" on "orders.status" expects at least 1 value, got 0 values',
    ],
    [
      'gt with two values',
      { measures: ['orders.count'], filters: [{ member: 'orders.amount', operator: 'gt', values: [1, 2] }] },
      'operator "gt" on "orders.amount" expects exactly 1 value, got 2 values',
    ],
    [
      'set with a value',
      { measures: ['orders.count'], filters: [{ member: 'orders.amount', operator: 'set', values: [1] }] },
      'operator "set" on "orders.amount" expects no values, got 1 value',
    ],
    [
      'number filter with text',
      { measures: ['orders.count'], filters: [{ member: 'orders.amount', operator: 'gt', values: ['ten'] }] },
      'invalid number "ten" for "orders.amount"',
    ],
    [
      'contains on a number',
      { measures: ['orders.count'], filters: [{ member: 'orders.amount', operator: 'contains', values: ['1'] }] },
      'operator "contains" does not apply to "orders.amount" of type number (expects string)',
    ],
    [
      'date operator on a string',
      { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'beforeDate', values: ['2024-01-01'] }] },
      'operator "beforeDate" does not apply to "orders.status" of type string (expects time)',
    ],
    [
      'bad date value',
      { measures: ['orders.count'], filters: [{ member: 'orders.created_at', operator: 'afterDate', values: ['soon'] }] },
      'invalid date "soon": is not a date',
    ],
    [
      'null value',
      { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'equals', values: [null] }] },
      'filter values for "orders.status" must not be null (use the set / notSet operators)',
    ],
    [
      'bad boolean',
      { measures: ['orders.count'], filters: [{ member: 'orders.is_paid', operator: 'equals', values: ['yes'] }] },
      'invalid boolean "yes" for "orders.is_paid" (use true or false)',
    ],
    [
      'measureFilter on a dimension',
      { measures: ['orders.count'], filters: [{ member: 'orders.status', operator: 'measureFilter' }] },
      'operator "measureFilter" needs a measure; "orders.status" is a dimension',
    ],
    [
      'mixed and/or',
      {
        measures: ['orders.count'],
        filters: [
          {
            or: [
              { member: 'orders.count', operator: 'gt', values: [1] },
              { member: 'orders.status', operator: 'set' },
            ],
          },
        ],
      },
      '"or" cannot mix measure and dimension filters',
    ],
    [
      'bad granularity',
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'dya' }] },
      'unknown granularity "dya" for "orders.created_at" — did you mean "day"? (one of second, minute, hour, day, week, month, quarter, year)',
    ],
    [
      'unknown time zone',
      { measures: ['orders.count'], timezone: 'Mars/Olympus' },
      'unknown time zone "Mars/Olympus": use an IANA name such as "Europe/Paris" or "UTC"',
    ],
    [
      'offset-style time zone',
      { measures: ['orders.count'], timezone: "UTC'; DROP TABLE x" },
      'unknown time zone "UTC\'; DROP TABLE x": use an IANA name such as "Europe/Paris" or "UTC"',
    ],
    [
      'bad dateRange',
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', dateRange: 'last fortnight' }] },
      'invalid dateRange "last fortnight": use e.g. "last 7 days", "this month", "from 2024-01-01 to now" or ["2024-01-01", "2024-01-31"]',
    ],
    ['negative limit', { measures: ['orders.count'], limit: -1 }, 'limit must be a non-negative integer, got -1'],
    ['fractional offset', { measures: ['orders.count'], offset: 1.5 }, 'offset must be a non-negative integer, got 1.5'],
    ['limit above the maximum', { measures: ['orders.count'], limit: 50_001 }, 'limit 50001 exceeds the maximum of 50000'],
    [
      'order on a member not in the query',
      { measures: ['orders.count'], order: { 'orders.revenue': 'desc' } },
      'cannot order by "orders.revenue": it is not in the query\'s measures, dimensions or time dimensions',
    ],
    ['order direction', { measures: ['orders.count'], order: { 'orders.count': 'up' } }, 'order direction for "orders.count" must be "asc" or "desc"'],
    ['measures not an array', { measures: 'orders.count' }, 'measures must be an array'],
    ['member name not a string', { measures: [42] }, 'measures must contain member names ("cube.member")'],
    ['total not boolean', { measures: ['orders.count'], total: 'yes' }, 'total must be true or false'],
    [
      'compareDateRange not expanded',
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', compareDateRange: ['this week', 'last week'] }] },
      'compareDateRange on "orders.created_at" is not supported here: use compareTo, or the REST API with queryType=multi',
    ],
  ];
  it.each(cases)('%s', (_name, query, message) => {
    expect(fail(query)).toEqual({ code: 'BAD_USER_INPUT', message });
  });

  it('carries the member and suggestion in details', () => {
    try {
      norm({ measures: ['orders.revnue'] });
    } catch (e) {
      expect((e as { details: unknown }).details).toEqual({ member: 'orders.revnue', suggestion: 'orders.revenue' });
    }
    expect.assertions(1);
  });
});

describe('expandCompareDateRange', () => {
  it('returns one query per range, with the range as dateRange', () => {
    const q: SemanticQuery = {
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', compareDateRange: ['this week', ['2024-01-01', '2024-01-07']] }],
    };
    expect(expandCompareDateRange(q)).toEqual([
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: 'this week' }] },
      { measures: ['orders.count'], timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-07'] }] },
    ]);
    expect(expandCompareDateRange({ measures: ['orders.count'] })).toEqual([{ measures: ['orders.count'] }]);
  });
});
