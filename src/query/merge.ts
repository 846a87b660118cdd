/**
 * Merging of semantic queries that can share one SQL statement: same dimensions, time
 * dimensions, segments, filters, time zone and measure cubes — only measures (and order)
 * differ. Such queries group by the same keys over the same filtered rows, so one statement
 * with the union of measures answers all of them; each caller gets its own columns back.
 *
 * Queries that also differ in the date range of their one ranged time dimension (a dashboard
 * seen over "last 7 / 30 / 90 days", live queries with trailing windows) form a range split:
 * one statement over the covering range computes every measure per range (compileSplitQuery).
 * Such queries that also differ in their dimensions (the widgets of one dashboard over one cube) are
 * fused further: one statement with GROUP BY GROUPING SETS, one set per distinct dimension list.
 */
import type { Model } from '../semantic/model.js';
import type { LocalDateTime, NormalizedQuery, OrderDirection } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import { canonicalJson } from './canonical.js';
import type { CellValue } from './types.js';

export interface MergeGroup {
  /** Indexes into the input list. */
  readonly members: readonly number[];
  readonly merged: NormalizedQuery;
  /** True when members differ in order/limit/offset: rows are re-sorted and sliced per member. */
  readonly reorder: boolean;
  /** Members differ in the date range of time dimension `td`: `merged` covers `ranges`. */
  readonly split?: {
    readonly td: number;
    readonly ranges: readonly (readonly [LocalDateTime, LocalDateTime])[];
    /** Per member (same positions as `members`): index into `ranges`. */
    readonly rangeOf: readonly number[];
    /** Members also differ in dimensions: grouping sets (dimension keys of `merged`), one per distinct set. */
    readonly sets?: readonly (readonly string[])[];
    /** Per member: index into `sets`. */
    readonly setOf?: readonly number[];
  };
}

function measureCube(model: Model, path: string): string {
  const r = resolveMember(model, path);
  return r.member.cube;
}

function mergeable(model: Model, q: NormalizedQuery): boolean {
  if (q.ungrouped || q.total || q.measures.length === 0) return false;
  return q.measures.every((m) => {
    const r = resolveMember(model, m).member;
    return r.kind === 'measure' && !r.rollingWindow;
  });
}

/** The one time dimension with a date range, when there is exactly one (what a split varies). */
function rangedTd(q: NormalizedQuery): number | undefined {
  const ranged = q.timeDimensions.flatMap((td, i) => (td.dateRange ? [i] : []));
  return ranged.length === 1 ? ranged[0] : undefined;
}

/** The smallest range holding every range (local date-time strings compare in time order). */
function covering(ranges: readonly (readonly [LocalDateTime, LocalDateTime])[]): [LocalDateTime, LocalDateTime] {
  return [ranges.reduce((a, r) => (r[0] < a ? r[0] : a), ranges[0][0]), ranges.reduce((a, r) => (r[1] > a ? r[1] : a), ranges[0][1])];
}

/** Members of a group may differ only in measures, order, limit/offset and the ranged td's range. */
function groupKey(model: Model, q: NormalizedQuery): string {
  const cubes = [...new Set(q.measures.map((m) => measureCube(model, m)))].sort();
  const td = rangedTd(q);
  return canonicalJson({
    cubes,
    dimensions: q.dimensions,
    segments: [...q.segments].sort(),
    timeDimensions: q.timeDimensions.map((t, i) => (i === td ? { ...t, dateRange: 'split' } : t)),
    filters: q.filters,
    timezone: q.timezone,
  });
}

export interface PlanOptions {
  /** Fuse queries with different dimensions into one grouping-sets statement (default true). */
  readonly fuse?: boolean;
}

export function planMerges(model: Model, queries: readonly NormalizedQuery[], maxLimit: number, options: PlanOptions = {}): MergeGroup[] {
  const fused = options.fuse === false ? [] : planFusions(model, queries, maxLimit);
  const taken = new Set(fused.flatMap((g) => g.members));
  return [
    ...fused,
    ...planPlain(
      model,
      queries,
      queries.map((_, i) => i).filter((i) => !taken.has(i)),
      maxLimit,
    ),
  ];
}

/** The time dimension's key as a dimension column ("cube.date.day"), when it has a granularity. */
function dimensionKeys(q: NormalizedQuery): string[] {
  const td = q.timeDimensions[0];
  return [...q.dimensions, ...(td?.granularity ? [`${td.dimension}.${td.granularity}`] : [])];
}

/**
 * Queries over the same rows (segments, filters, time zone, one ranged time dimension) that differ in
 * their dimensions too: one statement with GROUP BY GROUPING SETS, ranges split inside it.
 */
function planFusions(model: Model, queries: readonly NormalizedQuery[], maxLimit: number): MergeGroup[] {
  const byKey = new Map<string, number[]>();
  queries.forEach((q, i) => {
    if (!mergeable(model, q) || q.timeDimensions.length !== 1 || !q.timeDimensions[0].dateRange) return;
    // A view's time dimension is its cube's: the widgets of a view and of its cube read the same rows.
    const td = resolveMember(model, q.timeDimensions[0].dimension).member;
    const key = canonicalJson({ segments: [...q.segments].sort(), filters: q.filters, timezone: q.timezone, td: `${td.cube}.${td.name}` });
    const list = byKey.get(key);
    if (list) list.push(i);
    else byKey.set(key, [i]);
  });
  const out: MergeGroup[] = [];
  for (const idx of byKey.values()) {
    const setKeys = idx.map((i) => canonicalJson(dimensionKeys(queries[i])));
    const distinctSets = [...new Set(setKeys)];
    if (distinctSets.length < 2) continue; // one dimension set: an ordinary merge or range split
    const first = queries[idx[0]];
    const td = first.timeDimensions[0];
    const rangeKeys = [...new Set(idx.map((i) => canonicalJson(queries[i].timeDimensions[0].dateRange)))];
    const ranges = rangeKeys.map((k) => JSON.parse(k) as [LocalDateTime, LocalDateTime]);
    const cover = covering(ranges);
    // One time column per (member path, granularity) asked: each member finds its own key among them.
    const grained = [
      ...new Set(
        idx.flatMap((i) => {
          const { dimension, granularity } = queries[i].timeDimensions[0];
          return granularity ? [canonicalJson({ dimension, granularity })] : [];
        }),
      ),
    ].map((k) => JSON.parse(k) as { dimension: string; granularity: NonNullable<NormalizedQuery['timeDimensions'][number]['granularity']> });
    out.push({
      members: idx,
      merged: {
        ...first,
        measures: [...new Set(idx.flatMap((i) => queries[i].measures))],
        dimensions: [...new Set(idx.flatMap((i) => queries[i].dimensions))],
        timeDimensions: [{ dimension: td.dimension, dateRange: cover }, ...grained.map(({ dimension, granularity }) => ({ dimension, granularity }))],
        order: [],
        limit: maxLimit,
        offset: 0,
      },
      reorder: true,
      split: {
        td: 0,
        ranges,
        rangeOf: idx.map((i) => rangeKeys.indexOf(canonicalJson(queries[i].timeDimensions[0].dateRange))),
        sets: distinctSets.map((k) => JSON.parse(k) as string[]),
        setOf: setKeys.map((k) => distinctSets.indexOf(k)),
      },
    });
  }
  return out;
}

function planPlain(model: Model, queries: readonly NormalizedQuery[], indices: readonly number[], maxLimit: number): MergeGroup[] {
  const groups = new Map<string, number[]>();
  const singles: MergeGroup[] = [];
  indices.forEach((i) => {
    const q = queries[i];
    if (!mergeable(model, q)) {
      singles.push({ members: [i], merged: q, reorder: false });
      return;
    }
    const key = groupKey(model, q);
    const list = groups.get(key);
    if (list) list.push(i);
    else groups.set(key, [i]);
  });
  const out: MergeGroup[] = [...singles];
  for (const idx of groups.values()) {
    const first = queries[idx[0]];
    if (idx.length === 1) {
      out.push({ members: idx, merged: first, reorder: false });
      continue;
    }
    const measures = [...new Set(idx.flatMap((i) => queries[i].measures))];
    const td = rangedTd(first);
    const rangeKeys = td === undefined ? [] : [...new Set(idx.map((i) => canonicalJson(queries[i].timeDimensions[td].dateRange)))];
    if (td !== undefined && rangeKeys.length > 1) {
      const ranges = rangeKeys.map((k) => JSON.parse(k) as [LocalDateTime, LocalDateTime]);
      const cover = covering(ranges);
      const timeDimensions = first.timeDimensions.map((t, i) => (i === td ? { ...t, dateRange: cover } : t));
      out.push({
        members: idx,
        merged: { ...first, measures, timeDimensions, order: [], limit: maxLimit, offset: 0 },
        reorder: true,
        split: { td, ranges, rangeOf: idx.map((i) => rangeKeys.indexOf(canonicalJson(queries[i].timeDimensions[td].dateRange))) },
      });
      continue;
    }
    const sameShape = idx.every((i) => {
      const q = queries[i];
      return canonicalJson(q.order) === canonicalJson(first.order) && q.limit === first.limit && q.offset === first.offset;
    });
    if (sameShape) {
      out.push({ members: idx, merged: { ...first, measures }, reorder: false });
    } else {
      // Fetch every group (up to the row cap); each member sorts and slices its own copy.
      out.push({ members: idx, merged: { ...first, measures, order: first.order, limit: maxLimit, offset: 0 }, reorder: true });
    }
  }
  return out;
}

/** Sort like ClickHouse (NULLs last) and slice, for a member of a re-ordered merge group. */
export function sortAndSlice(
  rows: readonly Record<string, CellValue>[],
  order: readonly (readonly [string, OrderDirection])[],
  limit: number,
  offset: number,
): Record<string, CellValue>[] {
  const sorted = [...rows];
  if (order.length > 0) {
    sorted.sort((a, b) => {
      for (const [key, dir] of order) {
        const x = a[key];
        const y = b[key];
        if (x === y) continue;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = x < y ? -1 : 1;
        return dir === 'desc' ? -c : c;
      }
      return 0;
    });
  }
  return sorted.slice(offset, offset + limit);
}
