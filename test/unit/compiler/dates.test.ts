import { describe, expect, it } from 'vitest';
import { resolveDateRange, timeBuckets } from '../../../src/compiler/dates.js';
import { errorOf } from './fixture.js';

// 2024-03-01T02:00Z: Friday March 1 in UTC, still Thursday Feb 29 in Los Angeles.
const NOW = new Date('2024-03-01T02:00:00Z');
const LA = 'America/Los_Angeles';
const r = (range: string | [string, string], tz = 'UTC') => resolveDateRange(range, tz, NOW);

describe('relative date ranges', () => {
  it('"last month" depends on the time zone', () => {
    expect(r('last month', LA)).toEqual(['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999']);
    expect(r('last month')).toEqual(['2024-02-01T00:00:00.000', '2024-02-29T23:59:59.999']);
  });

  it('today / yesterday / tomorrow', () => {
    expect(r('today', LA)).toEqual(['2024-02-29T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(r('yesterday')).toEqual(['2024-02-29T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(r('tomorrow', 'Asia/Tokyo')).toEqual(['2024-03-02T00:00:00.000', '2024-03-02T23:59:59.999']);
  });

  it('"last N days" is the N complete days ending yesterday', () => {
    expect(r('last 7 days')).toEqual(['2024-02-23T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(r('Last 1 day', LA)).toEqual(['2024-02-28T00:00:00.000', '2024-02-28T23:59:59.999']);
  });

  it('last N weeks / months / quarters / years are complete periods (weeks start on Monday)', () => {
    expect(r('last 2 weeks')).toEqual(['2024-02-12T00:00:00.000', '2024-02-25T23:59:59.999']);
    expect(r('last 3 months')).toEqual(['2023-12-01T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(r('last 2 quarters')).toEqual(['2023-07-01T00:00:00.000', '2023-12-31T23:59:59.999']);
    expect(r('last 1 year')).toEqual(['2023-01-01T00:00:00.000', '2023-12-31T23:59:59.999']);
  });

  it('this / last / next period', () => {
    expect(r('this week')).toEqual(['2024-02-26T00:00:00.000', '2024-03-03T23:59:59.999']);
    expect(r('this month', LA)).toEqual(['2024-02-01T00:00:00.000', '2024-02-29T23:59:59.999']);
    expect(r('this quarter')).toEqual(['2024-01-01T00:00:00.000', '2024-03-31T23:59:59.999']);
    expect(r('this year')).toEqual(['2024-01-01T00:00:00.000', '2024-12-31T23:59:59.999']);
    expect(r('last week')).toEqual(['2024-02-19T00:00:00.000', '2024-02-25T23:59:59.999']);
    expect(r('last quarter')).toEqual(['2023-10-01T00:00:00.000', '2023-12-31T23:59:59.999']);
    expect(r('last year')).toEqual(['2023-01-01T00:00:00.000', '2023-12-31T23:59:59.999']);
    expect(r('next month')).toEqual(['2024-04-01T00:00:00.000', '2024-04-30T23:59:59.999']);
    expect(r('next week')).toEqual(['2024-03-04T00:00:00.000', '2024-03-10T23:59:59.999']);
    expect(r('next 2 days')).toEqual(['2024-03-02T00:00:00.000', '2024-03-03T23:59:59.999']);
  });

  it('"from X to Y" with absolute dates, "N days ago" and "now"', () => {
    expect(r('from 2024-01-01 to 2024-01-31')).toEqual(['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999']);
    expect(r('from 7 days ago to now')).toEqual(['2024-02-23T02:00:00.000', '2024-03-01T02:00:00.000']);
    expect(r('from 2 days ago to now', LA)).toEqual(['2024-02-27T18:00:00.000', '2024-02-29T18:00:00.000']);
    expect(r('from 2024-02-01 10:30:00 to today')).toEqual(['2024-02-01T10:30:00.000', '2024-03-01T23:59:59.999']);
  });

  it('absolute ranges: end date inclusive to the last millisecond; explicit offsets are converted', () => {
    expect(r(['2024-01-01', '2024-01-31'])).toEqual(['2024-01-01T00:00:00.000', '2024-01-31T23:59:59.999']);
    expect(r(['2024-01-01T10:00:00', '2024-01-01T11:00:00.5'])).toEqual(['2024-01-01T10:00:00.000', '2024-01-01T11:00:00.500']);
    expect(r(['2024-01-01T00:00:00Z', '2024-01-02'], LA)).toEqual(['2023-12-31T16:00:00.000', '2024-01-02T23:59:59.999']);
    expect(r('2024-02-10')).toEqual(['2024-02-10T00:00:00.000', '2024-02-10T23:59:59.999']);
  });

  it('rejects text it cannot read, and ranges that end before they start', () => {
    expect(errorOf(() => r('the other day'))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'invalid dateRange "the other day": use e.g. "last 7 days", "this month", "from 2024-01-01 to now" or ["2024-01-01", "2024-01-31"]',
    });
    expect(errorOf(() => r(['2024-02-30', '2024-03-01']))).toEqual({ code: 'BAD_USER_INPUT', message: 'invalid date "2024-02-30": is not a date' });
    expect(errorOf(() => r(['2024-03-01', '2024-01-01']))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'invalid dateRange: start 2024-03-01T00:00:00.000 is after end 2024-01-01T23:59:59.999',
    });
    expect(errorOf(() => r(['2024-01-01'] as unknown as [string, string]))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'invalid dateRange: expected [from, to] with two date strings',
    });
    expect(errorOf(() => r('last 0 days'))).toEqual({ code: 'BAD_USER_INPUT', message: 'invalid dateRange "last 0 days": the count must be at least 1' });
  });
});

describe('time buckets', () => {
  it('covers the range with whole periods, inclusive ends', () => {
    const weeks = timeBuckets('2024-02-07T00:00:00.000', '2024-02-20T23:59:59.999', 'week', 'UTC').map((b) => [b.start.toISO(), b.end.toISO()]);
    expect(weeks).toEqual([
      ['2024-02-05T00:00:00.000Z', '2024-02-11T23:59:59.999Z'],
      ['2024-02-12T00:00:00.000Z', '2024-02-18T23:59:59.999Z'],
      ['2024-02-19T00:00:00.000Z', '2024-02-25T23:59:59.999Z'],
    ]);
  });

  it('keeps local midnight across a DST change', () => {
    const days = timeBuckets('2024-03-09T00:00:00.000', '2024-03-11T00:00:00.000', 'day', LA).map((b) => b.start.toISO());
    expect(days).toEqual(['2024-03-09T00:00:00.000-08:00', '2024-03-10T00:00:00.000-08:00', '2024-03-11T00:00:00.000-07:00']);
  });

  it('refuses series that are too long', () => {
    expect(errorOf(() => timeBuckets('2000-01-01T00:00:00.000', '2024-01-01T00:00:00.000', 'hour', 'UTC'))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'the dateRange has more than 10000 hour periods; use a coarser granularity',
    });
  });
});
