/**
 * Rolling windows (Cube semantics). For a time series with buckets [date_from, date_to], a row
 * at time t counts towards a bucket when (offset "end", the default)
 *     date_to - trailing < t <= date_to + leading
 * and (offset "start")
 *     date_from - trailing <= t < date_from + leading
 * with an unbounded side dropping that condition, and an absent trailing/leading meaning 0.
 * Without a granularity the whole dateRange is one bucket (date_from = its start, date_to = its end).
 *
 * Bucket bounds are computed here (luxon, in the query zone) and travel as array parameters;
 * each row is mapped to the buckets whose window holds it with arrayFilter + arrayJoin, so every
 * aggregate (including count_distinct) sees exactly the rows of each window.
 */
import type { DateTime } from 'luxon';
import type { Interval, RollingWindow } from '../semantic/model.js';
import type { Granularity, LocalDateTime } from '../semantic/query.js';
import { fromLocal, shift, timeBuckets, toLocal } from './dates.js';
import { and, binary, call, ident, type Expr, type ParamBag } from './plan-tree.js';

export interface WindowBound {
  readonly values: readonly LocalDateTime[];
  readonly inclusive: boolean;
}

export interface WindowSeries {
  /** Bucket starts (the time dimension's value for each bucket). */
  readonly starts: readonly LocalDateTime[];
  readonly lower?: WindowBound;
  readonly upper?: WindowBound;
}

export function windowSeries(
  window: RollingWindow,
  range: readonly [LocalDateTime, LocalDateTime],
  granularity: Granularity | undefined,
  tz: string,
): WindowSeries {
  const buckets: { start: DateTime; end: DateTime }[] = granularity
    ? timeBuckets(range[0], range[1], granularity, tz)
    : [{ start: fromLocal(range[0], tz), end: fromLocal(range[1], tz) }];
  const offsetEnd = window.offset !== 'start';
  const lower =
    window.trailing === 'unbounded'
      ? undefined
      : {
          inclusive: !offsetEnd,
          values: buckets.map((b) => {
            const anchor = offsetEnd && granularity ? b.end : b.start;
            const trailing = window.trailing as Interval | undefined;
            return toLocal(trailing ? shift(anchor, trailing, -1) : anchor);
          }),
        };
  const upper =
    window.leading === 'unbounded'
      ? undefined
      : {
          inclusive: offsetEnd,
          values: buckets.map((b) => {
            const anchor = offsetEnd || !granularity ? b.end : b.start;
            const leading = window.leading as Interval | undefined;
            return toLocal(leading ? shift(anchor, leading, 1) : anchor);
          }),
        };
  return { starts: buckets.map((b) => toLocal(b.start)), lower, upper };
}

const gt = (inclusive: boolean) => (inclusive ? '>=' : '>');
const lt = (inclusive: boolean) => (inclusive ? '<=' : '<');

/** A series bound to parameters once, so every branch of a statement shares them. */
export interface BoundSeries {
  readonly series: WindowSeries;
  /** Array(DateTime64(3, tz)) expressions. */
  readonly starts: Expr;
  readonly lower?: Expr;
  readonly upper?: Expr;
  readonly tz: Expr;
  readonly params: ParamBag;
}

function localArray(params: ParamBag, values: readonly LocalDateTime[], tz: Expr): Expr {
  const x: Expr = ident('__x');
  return call('arrayMap', { kind: 'lambda', params: ['__x'], body: { kind: 'inZone', arg: x, tz } }, params.add([...values], 'Array(String)'));
}

export function bindSeries(series: WindowSeries, params: ParamBag, tz: Expr): BoundSeries {
  return {
    series,
    tz,
    params,
    starts: localArray(params, series.starts, tz),
    lower: series.lower && localArray(params, series.lower.values, tz),
    upper: series.upper && localArray(params, series.upper.values, tz),
  };
}

/** The bucket start(s) a row at time `t` belongs to: arrayJoin over the windows holding it. */
export function bucketOf(b: BoundSeries, t: Expr): Expr {
  const lambdaParams = ['__bucket'];
  const arrays = [b.starts];
  const conds: Expr[] = [];
  if (b.series.lower && b.lower) {
    lambdaParams.push('__lower');
    arrays.push(b.lower);
    conds.push(binary(gt(b.series.lower.inclusive), t, ident('__lower')));
  }
  if (b.series.upper && b.upper) {
    lambdaParams.push('__upper');
    arrays.push(b.upper);
    conds.push(binary(lt(b.series.upper.inclusive), t, ident('__upper')));
  }
  const body = and(...conds) ?? binary('=', ident('__bucket'), ident('__bucket'));
  return call('arrayJoin', call('arrayFilter', { kind: 'lambda', params: lambdaParams, body }, ...arrays));
}

/** t within the outermost window edges: the whole condition for one bucket, a prefilter for many. */
export function windowRange(b: BoundSeries, t: Expr): Expr | undefined {
  const { lower, upper } = b.series;
  const at = (v: LocalDateTime): Expr => ({ kind: 'inZone', arg: b.params.add(v, 'String'), tz: b.tz });
  return and(lower && binary(gt(lower.inclusive), t, at(lower.values[0])), upper && binary(lt(upper.inclusive), t, at(upper.values[upper.values.length - 1])));
}

/** The series of bucket starts, one row each (fills buckets no row falls in). */
export function bucketSeries(b: BoundSeries): Expr {
  return call('arrayJoin', b.starts);
}
