/** Which members a query reads (what the scope check sees), order keys included. */
import { describe, expect, it } from 'vitest';
import { referencedMembers } from '../../../src/query/authorize.js';
import type { NormalizedQuery } from '../../../src/semantic/query.js';

const query = (order: [string, 'asc' | 'desc'][]): NormalizedQuery =>
  ({
    measures: ['ad_performance.clicks'],
    dimensions: ['ad_performance.quarter'],
    segments: [],
    timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day' }],
    filters: [],
    order,
  }) as unknown as NormalizedQuery;

describe('referencedMembers', () => {
  it('reads a time column order key as its dimension, and a dimension named like a granularity as itself', () => {
    const members = referencedMembers(
      query([
        ['ad_performance.date.day', 'asc'],
        ['ad_performance.quarter', 'desc'],
      ]),
    );
    expect(members.sort()).toEqual(['ad_performance.clicks', 'ad_performance.date', 'ad_performance.quarter']);
  });
});
