/**
 * Period comparison, the pure part: which range a comparison reads, and where a time bucket sits
 * inside its range (so day 1 of this month meets day 1 of last month). Pure: the clock is passed in.
 */
import { UserError } from '../errors.js';
import { COMPARISON_PERIODS, type Comparison, type DateRange, type Granularity, type LocalDateTime, type SemanticQuery } from '../semantic/query.js';
import { fromLocal, resolveDateRange, toLocal } from './dates.js';

type Range = readonly [LocalDateTime, LocalDateTime];

function bad(message: string, details: Record<string, unknown> = {}): UserError {
  return new UserError('BAD_USER_INPUT', message, details);
}

/**
 * Splits a query asking for a comparison into the query itself and its comparison: `compareTo`, or
 * Cube's `compareDateRange` with exactly two ranges ([current, comparison]). undefined: no comparison.
 */
export function splitComparison(query: SemanticQuery): { readonly base: SemanticQuery; readonly compareTo?: Comparison } {
  const tds = Array.isArray(query.timeDimensions) ? query.timeDimensions : [];
  const withCompare = tds.filter((td) => td && typeof td === 'object' && td.compareDateRange !== undefined);
  const { compareTo: given, ...rest } = query;
  if (withCompare.length === 0) return given === undefined || given === null ? { base: rest } : { base: rest, compareTo: checkComparison(given) };
  if (given !== undefined && given !== null) throw bad('give either compareTo or compareDateRange, not both');
  if (withCompare.length > 1) throw bad('only one time dimension may have compareDateRange');
  const td = withCompare[0];
  const ranges = td.compareDateRange;
  if (!Array.isArray(ranges) || ranges.length !== 2) {
    throw bad(
      `compareDateRange on "${String(td.dimension)}" must hold exactly two ranges here: [current, comparison] (for more ranges use the REST API with queryType=multi)`,
      { member: td.dimension },
    );
  }
  if (td.dateRange !== undefined && td.dateRange !== null) {
    throw bad(`a time dimension cannot have both dateRange and compareDateRange ("${String(td.dimension)}")`, { member: td.dimension });
  }
  const { compareDateRange: _omit, ...plain } = td;
  return {
    base: { ...rest, timeDimensions: tds.map((t) => (t === td ? { ...plain, dateRange: ranges[0] } : t)) },
    compareTo: { dateRange: ranges[1] },
  };
}

export function checkComparison(c: unknown): Comparison {
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw bad('compareTo must be an object: {"period": "previousPeriod"} or {"dateRange": [from, to]}');
  const { period, dateRange, ...others } = c as Record<string, unknown>;
  const extra = Object.keys(others);
  if (extra.length) throw bad(`unknown compareTo key "${extra[0]}" (use "period" or "dateRange")`, { key: extra[0] });
  const hasPeriod = period !== undefined && period !== null;
  const hasRange = dateRange !== undefined && dateRange !== null;
  if (hasPeriod === hasRange) throw bad('compareTo needs exactly one of "period" or "dateRange"');
  if (hasPeriod) {
    if (!(COMPARISON_PERIODS as readonly unknown[]).includes(period)) {
      throw bad(`unknown comparison period ${JSON.stringify(period)} (one of ${COMPARISON_PERIODS.join(', ')})`, { value: String(period) });
    }
    return { period: period as Comparison['period'] };
  }
  return { dateRange: dateRange as DateRange };
}

/**
 * The range a comparison reads. previousPeriod: the same length right before (whole calendar months
 * shift by months, so "this month" meets all of last month); samePeriodLastYear: one year earlier.
 */
export function comparisonRange(range: Range, compareTo: Comparison, tz: string, now: Date): [LocalDateTime, LocalDateTime] {
  if (compareTo.dateRange !== undefined) return resolveDateRange(compareTo.dateRange, tz, now);
  const from = fromLocal(range[0], tz);
  const to = fromLocal(range[1], tz);
  if (compareTo.period === 'samePeriodLastYear') return [toLocal(from.minus({ years: 1 })), toLocal(to.minus({ years: 1 }))];
  const wholeMonths = from.equals(from.startOf('month')) && to.equals(to.endOf('month'));
  if (wholeMonths) {
    const months = Math.round(to.plus({ milliseconds: 1 }).diff(from, 'months').months);
    return [toLocal(from.minus({ months })), toLocal(from.minus({ milliseconds: 1 }))];
  }
  const wholeDays = from.equals(from.startOf('day')) && to.equals(to.endOf('day'));
  if (wholeDays) {
    const days = Math.round(to.plus({ milliseconds: 1 }).diff(from, 'days').days);
    return [toLocal(from.minus({ days })), toLocal(from.minus({ milliseconds: 1 }))];
  }
  const ms = to.toMillis() - from.toMillis() + 1;
  return [toLocal(from.minus({ milliseconds: ms })), toLocal(from.minus({ milliseconds: 1 }))];
}

/** Position of a bucket value ("YYYY-MM-DDTHH:mm:ss.SSS") counted in `granularity` units from its range's first bucket. */
export function bucketPosition(value: LocalDateTime, rangeStart: LocalDateTime, granularity: Granularity, tz: string): number {
  const unit = granularity === 'week' ? 'week' : granularity;
  const start = fromLocal(rangeStart, tz).startOf(unit);
  const at = fromLocal(value, tz);
  return Math.round(at.diff(start, `${unit}s`).as(`${unit}s`));
}

/** The bucket `position` units after the first bucket of a range (a comparison-only row on the current axis). */
export function bucketAt(rangeStart: LocalDateTime, position: number, granularity: Granularity, tz: string): LocalDateTime {
  const unit = granularity === 'week' ? 'week' : granularity;
  return toLocal(
    fromLocal(rangeStart, tz)
      .startOf(unit)
      .plus({ [`${unit}s`]: position }),
  );
}
