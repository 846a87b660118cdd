/**
 * `fill: "zero"`: a chart's time series with a row for every bucket of its range. After execution
 * (the statement, its batching and its cache do not change), each series — one per combination of the
 * other dimensions — gets the buckets it lacks, with additive measures 0 and the others (ratios,
 * averages) null: a missing bucket has no rows, so a sum is 0 but an average is unknown.
 */
import { timeBuckets, toLocal } from '../compiler/dates.js';
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import { isZeroWhenEmpty } from './compare.js';
import type { CellValue, QueryResult } from './types.js';

export const FILL_MODES = ['zero'] as const;
export type FillMode = (typeof FILL_MODES)[number];

export function checkFill(fill: unknown): FillMode | undefined {
  if (fill === undefined || fill === null) return undefined;
  if (fill === 'zero') return fill;
  throw new UserError('BAD_USER_INPUT', `fill must be "zero" (got ${JSON.stringify(fill)})`, { key: 'fill' });
}

/** Refuses a query fill cannot serve: it needs one time dimension with both a granularity and a dateRange. */
export function checkFillable(query: NormalizedQuery): void {
  const granular = query.timeDimensions.filter((t) => t.granularity);
  if (granular.length !== 1 || !granular[0].dateRange) {
    throw new UserError('BAD_USER_INPUT', 'fill "zero" needs exactly one time dimension with a granularity and a dateRange (the series to fill)', {
      key: 'fill',
    });
  }
  if (query.ungrouped) throw new UserError('BAD_USER_INPUT', 'fill "zero" cannot be combined with ungrouped', { key: 'fill' });
}

type Row = Readonly<Record<string, CellValue>>;

export function zeroFill(model: Model, result: QueryResult): QueryResult {
  const q = result.query;
  const td = q.timeDimensions.find((t) => t.granularity)!;
  const timeKey = `${td.dimension}.${td.granularity}`;
  const buckets = timeBuckets(td.dateRange![0], td.dateRange![1], td.granularity!, q.timezone).map((b) => toLocal(b.start));
  const inRange = new Set(buckets);
  const groupKeys = result.columns.filter((c) => c.kind !== 'measure' && c.key !== timeKey).map((c) => c.key);
  const empty = Object.fromEntries(q.measures.map((m) => [m, isZeroWhenEmpty(model, m) ? 0 : null]));
  // Series in the order they first appear; with no rows and no other dimension, one empty series.
  const series = new Map<string, { keys: Row; byBucket: Map<string, Row> }>();
  if (result.rows.length === 0 && groupKeys.length === 0) series.set('[]', { keys: {}, byBucket: new Map() });
  const outside: Row[] = [];
  for (const row of result.rows) {
    const bucket = String(row[timeKey]);
    if (!inRange.has(bucket)) {
      outside.push(row); // a value the bucket list does not name (should not happen): kept, never dropped
      continue;
    }
    const keys = Object.fromEntries(groupKeys.map((k) => [k, row[k] ?? null]));
    const id = JSON.stringify(groupKeys.map((k) => keys[k]));
    let s = series.get(id);
    if (!s) series.set(id, (s = { keys, byBucket: new Map() }));
    s.byBucket.set(bucket, row);
  }
  const rows: Row[] = [];
  for (const s of series.values()) {
    for (const b of buckets) rows.push(s.byBucket.get(b) ?? { ...s.keys, [timeKey]: b, ...empty });
  }
  return { ...result, rows: [...rows, ...outside] };
}
