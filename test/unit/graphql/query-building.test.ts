/** The selection set and arguments of a typed root field -> the semantic query the door asks for. */
import { describe, expect, it } from 'vitest';
import { createHarness } from './harness.js';

describe('typed root fields build the semantic query from the selection', () => {
  it('selected members, aliases, fragments, granularities, where, orderBy, segments and paging', async () => {
    const h = createHarness();
    const res = await h.gql(
      `query ByPlatform($video: Boolean!) {
        adPerformance(
          where: { platform: { in: ["google", "meta"] }, clicks: { gt: 100 }, isVideo: { equals: $video } }
          orderBy: [{ clicks: DESC }, { platform: ASC }]
          segments: [HIGH_SPEND]
          limit: 5, offset: 10, timezone: "Europe/Paris"
        ) {
          platform
          clicks
          day: date(granularity: DAY)
          month: date(granularity: MONTH)
          again: clicks
          ...Extra
          __typename
        }
      }
      fragment Extra on AdPerformanceRow { impressions ... on AdPerformanceRow { ctr } }`,
      { video: false },
    );
    expect(res.errors).toBeUndefined();
    expect(h.calls.map((c) => c.query)).toEqual([
      {
        measures: ['ad_performance.clicks', 'ad_performance.impressions', 'ad_performance.ctr'],
        dimensions: ['ad_performance.platform'],
        timeDimensions: [
          { dimension: 'ad_performance.date', granularity: 'day' },
          { dimension: 'ad_performance.date', granularity: 'month' },
        ],
        // ANDed conditions arrive in input-type field order (GraphQL coerces input objects so).
        filters: [
          { member: 'ad_performance.clicks', operator: 'gt', values: [100] },
          { member: 'ad_performance.platform', operator: 'equals', values: ['google', 'meta'] },
          { member: 'ad_performance.is_video', operator: 'equals', values: [false] },
        ],
        segments: ['ad_performance.high_spend'],
        order: [
          ['ad_performance.clicks', 'desc'],
          ['ad_performance.platform', 'asc'],
        ],
        limit: 5,
        offset: 10,
        timezone: 'Europe/Paris',
      },
    ]);
    // Row fields read the service's row keys; a granularity picks "cube.date.<granularity>".
    expect(res.data.adPerformance[1]).toEqual({
      platform: 'platform-1',
      clicks: 20,
      day: '2024-01-02T00:00:00.000',
      month: '2024-01-02T00:00:00.000',
      again: 20,
      impressions: 20,
      ctr: 20,
      __typename: 'AdPerformanceRow',
    });
  });

  it('@include/@skip and a raw time dimension (no granularity) as a plain dimension', async () => {
    const h = createHarness();
    const res = await h.gql(
      `query($withClicks: Boolean!) { campaigns { name count @skip(if: true) budget @include(if: $withClicks) } adPerformance { date } }`,
      { withClicks: false },
    );
    expect(res.errors).toBeUndefined();
    expect(h.calls.map((c) => c.query)).toEqual([{ dimensions: ['campaigns.name'] }, { dimensions: ['ad_performance.date'] }]);
  });

  it('AND / OR nest; set maps to set/notSet; string operators keep their Cube names', async () => {
    const h = createHarness();
    const res = await h.gql(`{
      adPerformance(where: {
        spend: { set: true }
        campaignId: { set: false, notIn: [1, 2] }
        OR: [
          { platform: { startsWith: "goo", notContains: "test" } },
          { AND: [{ clicks: { gte: 10 } }, { clicks: { lt: 20 } }] }
        ]
        AND: [{ platform: { notEquals: "x" } }]
      }) { clicks }
    }`);
    expect(res.errors).toBeUndefined();
    // Input objects are coerced in type field order: that is the order of the ANDed conditions.
    expect(h.calls[0].query.filters).toEqual([
      { member: 'ad_performance.spend', operator: 'set' },
      { member: 'ad_performance.campaign_id', operator: 'notEquals', values: [1, 2] },
      { member: 'ad_performance.campaign_id', operator: 'notSet' },
      { member: 'ad_performance.platform', operator: 'notEquals', values: ['x'] },
      {
        or: [
          {
            and: [
              { member: 'ad_performance.platform', operator: 'notContains', values: ['test'] },
              { member: 'ad_performance.platform', operator: 'startsWith', values: ['goo'] },
            ],
          },
          {
            and: [
              { member: 'ad_performance.clicks', operator: 'gte', values: [10] },
              { member: 'ad_performance.clicks', operator: 'lt', values: [20] },
            ],
          },
        ],
      },
    ]);
  });

  it('an inDateRange every row must match becomes the time dimension dateRange; under OR it stays a filter', async () => {
    const h = createHarness();
    await h.gql(`{ adPerformance(where: { date: { inDateRange: "last 7 days" } }) { clicks day: date(granularity: DAY) } }`);
    await h.gql(`{ adPerformance(where: { AND: [{ date: { inDateRange: ["2024-01-01", "2024-01-31"] } }] }) { clicks } }`);
    await h.gql(
      `{ adPerformance(where: { OR: [{ date: { inDateRange: ["2024-01-01", "2024-01-31"] } }, { date: { afterDate: "2024-06-01" } }] }) { clicks } }`,
    );
    expect(h.calls.map((c) => [c.query.timeDimensions, c.query.filters])).toEqual([
      [[{ dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last 7 days' }], undefined],
      [[{ dimension: 'ad_performance.date', dateRange: ['2024-01-01', '2024-01-31'] }], undefined],
      [
        undefined,
        [
          {
            or: [
              { member: 'ad_performance.date', operator: 'inDateRange', values: ['2024-01-01', '2024-01-31'] },
              { member: 'ad_performance.date', operator: 'afterDate', values: ['2024-06-01'] },
            ],
          },
        ],
      ],
    ]);
  });

  it('views are fields too, with view member paths', async () => {
    const h = createHarness();
    const res = await h.gql(`{ marketingOverview(orderBy: { clicks: DESC }) { campaignsName clicks } }`);
    expect(res.errors).toBeUndefined();
    expect(h.calls[0].query).toEqual({
      measures: ['marketing_overview.clicks'],
      dimensions: ['marketing_overview.campaigns_name'],
      order: [['marketing_overview.clicks', 'desc']],
    });
  });

  it('several root fields in one request each call load once, concurrently, on one request context', async () => {
    const h = createHarness();
    let inFlight = 0;
    let maxInFlight = 0;
    h.answer = async (q) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const { fakeResult } = await import('./harness.js');
      return fakeResult(q);
    };
    const res = await h.gql(`{ a: adPerformance { clicks } b: adPerformance { impressions } campaigns { name } }`);
    expect(res.errors).toBeUndefined();
    expect(h.calls).toHaveLength(3);
    expect(maxInFlight).toBe(3);
    expect(new Set(h.calls.map((c) => c.ctx)).size).toBe(1);
    expect(h.calls[0].ctx.door).toBe('graphql');
  });

  it('the generic query passes the Cube query through and returns rows keyed like Cube with annotations', async () => {
    const h = createHarness();
    const res = await h.gql(`query($q: JSON!) { query(query: $q) { data annotation { member kind type format granularity } total lastRefreshTime } }`, {
      q: {
        measures: ['ad_performance.clicks'],
        timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last 7 days' }],
        total: true,
      },
    });
    expect(res.errors).toBeUndefined();
    expect(h.calls[0].query).toEqual({
      measures: ['ad_performance.clicks'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: 'last 7 days' }],
      total: true,
    });
    expect(res.data.query).toEqual({
      data: [
        { 'ad_performance.clicks': 10, 'ad_performance.date.day': '2024-01-01T00:00:00.000' },
        { 'ad_performance.clicks': 20, 'ad_performance.date.day': '2024-01-02T00:00:00.000' },
      ],
      annotation: [
        { member: 'ad_performance.clicks', kind: 'measure', type: 'number', format: 'currency', granularity: null },
        { member: 'ad_performance.date.day', kind: 'timeDimension', type: 'time', format: null, granularity: 'day' },
      ],
      total: 42,
      lastRefreshTime: '2024-01-01T00:00:00.000Z',
    });
  });

  it('the generic query rejects unknown keys with a suggestion, and non-objects', async () => {
    const h = createHarness();
    const typo = await h.gql(`{ query(query: { measure: ["ad_performance.clicks"] }) { data } }`);
    expect(typo.errors?.[0]).toMatchObject({
      message: 'unknown query key "measure" — did you mean "measures"?',
      extensions: { code: 'BAD_USER_INPUT', suggestion: 'measures' },
    });
    const notObject = await h.gql(`{ query(query: [1]) { data } }`);
    expect(notObject.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(h.calls).toHaveLength(0);
  });
});
