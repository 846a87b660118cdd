/**
 * Period comparison in the query service: the comparison query (the same query over the other
 * range) and the matching of the two results. Rows meet on their dimensions and, for the compared
 * time dimension at a granularity, on the bucket's position in its range (day 1 meets day 1).
 * Both queries are loaded in the same tick, so the batcher answers them with one range-split statement.
 */
import { bucketAt, bucketPosition, comparisonRange } from '../compiler/compare.js';
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import type { Comparison, NormalizedQuery } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import type { CellValue, ComparisonResult, ComparisonRow, MeasureChange, QueryResult } from './types.js';

/** Aggregations whose value over no rows is 0 (a row missing in one period counts as 0 there). */
const ZERO_WHEN_EMPTY = new Set(['count', 'count_distinct', 'count_distinct_approx', 'sum']);

export interface ComparisonPlan {
  readonly td: number;
  readonly compareQuery: NormalizedQuery;
}

/** The comparison query, or a coded error naming why the query cannot be compared. */
export function planComparison(query: NormalizedQuery, compareTo: Comparison, now: Date): ComparisonPlan {
  const ranged = query.timeDimensions.flatMap((t, i) => (t.dateRange ? [i] : []));
  if (ranged.length === 0) {
    throw new UserError('BAD_USER_INPUT', 'a comparison needs a time dimension with a dateRange (the period to compare)', { reason: 'no_date_range' });
  }
  if (ranged.length > 1)
    throw new UserError('BAD_USER_INPUT', 'a comparison needs exactly one time dimension with a dateRange', { reason: 'several_date_ranges' });
  if (query.ungrouped || query.total) throw new UserError('BAD_USER_INPUT', 'a comparison cannot be combined with ungrouped or total');
  if (query.measures.length === 0) throw new UserError('BAD_USER_INPUT', 'a comparison needs at least one measure');
  const td = ranged[0];
  const range = query.timeDimensions[td].dateRange!;
  const other = comparisonRange(range, compareTo, query.timezone, now);
  return { td, compareQuery: { ...query, timeDimensions: query.timeDimensions.map((t, i) => (i === td ? { ...t, dateRange: other } : t)) } };
}

export function matchComparison(
  model: Model,
  compareTo: Comparison,
  plan: ComparisonPlan,
  current: QueryResult,
  previous: QueryResult,
): Omit<ComparisonResult, 'previous'> {
  const q = current.query;
  const td = q.timeDimensions[plan.td];
  const otherTd = plan.compareQuery.timeDimensions[plan.td];
  const tz = q.timezone;
  // Keys of every time column of the compared dimension (several granularities may be asked).
  const timeKeys = q.timeDimensions
    .filter((t) => t.dimension === td.dimension && t.granularity)
    .map((t) => ({ key: `${t.dimension}.${t.granularity}`, g: t.granularity! }));
  const timeKeySet = new Set(timeKeys.map((t) => t.key));
  const dimKeys = [
    ...q.dimensions,
    ...q.timeDimensions.filter((t) => t.granularity && !timeKeySet.has(`${t.dimension}.${t.granularity}`)).map((t) => `${t.dimension}.${t.granularity}`),
  ];
  const keyOf = (row: Readonly<Record<string, CellValue>>, start: string) =>
    JSON.stringify([
      ...dimKeys.map((k) => row[k] ?? null),
      ...timeKeys.map(({ key, g }) => (row[key] == null ? null : bucketPosition(String(row[key]), start, g, tz))),
    ]);

  const prevByKey = new Map<string, Readonly<Record<string, CellValue>>>();
  for (const r of previous.rows) prevByKey.set(keyOf(r, otherTd.dateRange![0]), r);
  const additive = new Map(q.measures.map((m) => [m, isZeroWhenEmpty(model, m)]));

  const rows: ComparisonRow[] = [];
  const seen = new Set<string>();
  const pick = (row: Readonly<Record<string, CellValue>>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, row[k] ?? null]));
  for (const cur of current.rows) {
    const k = keyOf(cur, td.dateRange![0]);
    seen.add(k);
    const prev = prevByKey.get(k);
    rows.push({
      dimensions: pick(cur, [...dimKeys, ...timeKeys.map((t) => t.key)]),
      compareDimensions: prev
        ? pick(
            prev,
            timeKeys.map((t) => t.key),
          )
        : null,
      measures: changes(q.measures, additive, cur, prev),
    });
  }
  for (const prev of previous.rows) {
    const k = keyOf(prev, otherTd.dateRange![0]);
    if (seen.has(k)) continue;
    seen.add(k);
    // Put the row on the current period's axis: the bucket at the same position. A bucket past the
    // current range's end (day 31 of a 31-day month against a 30-day one) has no place on it.
    const shifted = Object.fromEntries(
      timeKeys.map(({ key, g }) => [
        key,
        prev[key] == null ? null : bucketAt(td.dateRange![0], bucketPosition(String(prev[key]), otherTd.dateRange![0], g, tz), g, tz),
      ]),
    );
    if (Object.values(shifted).some((v) => v !== null && v > td.dateRange![1])) continue;
    rows.push({
      dimensions: { ...pick(prev, dimKeys), ...shifted },
      compareDimensions: pick(
        prev,
        timeKeys.map((t) => t.key),
      ),
      measures: changes(q.measures, additive, undefined, prev),
    });
  }
  return { compareTo, timeDimension: td.dimension, dateRange: td.dateRange!, compareDateRange: otherTd.dateRange!, rows };
}

export function isZeroWhenEmpty(model: Model, path: string): boolean {
  const m = resolveMember(model, path).member;
  return m.kind === 'measure' && ZERO_WHEN_EMPTY.has(m.type) && !m.rollingWindow;
}

export function changes(
  measures: readonly string[],
  additive: ReadonlyMap<string, boolean>,
  cur: Readonly<Record<string, CellValue>> | undefined,
  prev: Readonly<Record<string, CellValue>> | undefined,
): Record<string, MeasureChange> {
  const value = (row: Readonly<Record<string, CellValue>> | undefined, m: string): number | null => {
    if (!row) return additive.get(m) ? 0 : null;
    const v = row[m];
    if (v === null || v === undefined) return null;
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isFinite(n) ? n : null;
  };
  return Object.fromEntries(measures.map((m) => [m, measureChange(value(cur, m), value(prev, m))]));
}

export function measureChange(current: number | null, previous: number | null): MeasureChange {
  if (current === null || previous === null) return { current, previous, change: null, percentChange: null, direction: null };
  const change = current - previous;
  return {
    current,
    previous,
    change,
    percentChange: previous === 0 ? null : (change / Math.abs(previous)) * 100,
    direction: change > 0 ? 'up' : change < 0 ? 'down' : 'flat',
  };
}
