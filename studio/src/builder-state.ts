/** The builder's state, and the edits the controls make to it (pure). */
import type { ChartKind } from './chart-options.js';
import type { CatalogCube, CatalogMember, ComparisonPeriod, CubeQuery, Filter, Granularity } from './types.js';

export interface BuilderState {
  readonly cube: string;
  readonly query: CubeQuery;
  readonly compare: ComparisonPeriod | null;
  readonly chart: ChartKind | null;
}

export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week', 'month', 'quarter', 'year'];
export const DATE_RANGES: readonly string[] = [
  'today',
  'yesterday',
  'last 7 days',
  'last 30 days',
  'last 90 days',
  'this week',
  'last week',
  'this month',
  'last month',
  'this quarter',
  'last quarter',
  'this year',
  'last year',
];
export const DEFAULT_LIMIT = 100;

export function emptyQuery(): CubeQuery {
  return { measures: [], dimensions: [], timeDimensions: [], filters: [], segments: [], order: [], limit: DEFAULT_LIMIT };
}

/** A fresh state on a cube, with one member already picked (from the explorer) when given. */
export function startOn(cube: CatalogCube, member: CatalogMember | null): BuilderState {
  const q = emptyQuery();
  if (!member) return { cube: cube.name, query: { ...q, measures: cube.measures.slice(0, 1).map((m) => m.path) }, compare: null, chart: null };
  if (member.kind === 'measure') return { cube: cube.name, query: { ...q, measures: [member.path] }, compare: null, chart: null };
  if (member.kind === 'segment')
    return { cube: cube.name, query: { ...q, measures: cube.measures.slice(0, 1).map((m) => m.path), segments: [member.path] }, compare: null, chart: null };
  if (member.type === 'time') {
    return {
      cube: cube.name,
      query: {
        ...q,
        measures: cube.measures.slice(0, 1).map((m) => m.path),
        timeDimensions: [{ dimension: member.path, granularity: 'day', dateRange: 'last 30 days' }],
      },
      compare: null,
      chart: null,
    };
  }
  return { cube: cube.name, query: { ...q, measures: cube.measures.slice(0, 1).map((m) => m.path), dimensions: [member.path] }, compare: null, chart: null };
}

export function toggle(list: readonly string[], item: string, on: boolean): string[] {
  return on ? (list.includes(item) ? [...list] : [...list, item]) : list.filter((x) => x !== item);
}

/** Drops what no longer applies after members were removed (order and filters on a dropped member). */
export function tidy(q: CubeQuery): CubeQuery {
  const selected = new Set([...q.measures, ...q.dimensions, ...q.timeDimensions.filter((t) => t.granularity).map((t) => `${t.dimension}.${t.granularity}`)]);
  return { ...q, order: q.order.filter(([m]) => selected.has(m) || q.measures.includes(m) || q.dimensions.includes(m)) };
}

export function setFilter(q: CubeQuery, i: number, f: Filter | null): CubeQuery {
  const filters = [...q.filters];
  if (f) filters[i] = f;
  else filters.splice(i, 1);
  return { ...q, filters };
}

/** The state in the URL hash (#/build?q=...), so a question can be bookmarked or sent to a colleague. */
export function encodeState(s: BuilderState): string {
  return encodeURIComponent(JSON.stringify(s));
}

export function decodeState(raw: string | null): BuilderState | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(decodeURIComponent(raw)) as BuilderState;
    if (typeof s.cube !== 'string' || !s.query || !Array.isArray(s.query.measures)) return null;
    return { ...s, query: { ...emptyQuery(), ...s.query } };
  } catch {
    return null;
  }
}

/** The JSON the API runs: Cube's query without empty parts. */
export function apiQuery(q: CubeQuery): Record<string, unknown> {
  const out: Record<string, unknown> = { measures: q.measures };
  if (q.dimensions.length) out.dimensions = q.dimensions;
  if (q.timeDimensions.length) out.timeDimensions = q.timeDimensions;
  if (q.filters.length) out.filters = q.filters;
  if (q.segments.length) out.segments = q.segments;
  if (q.order.length) out.order = q.order;
  if (q.limit !== undefined) out.limit = q.limit;
  return out;
}
