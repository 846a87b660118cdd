/**
 * Query results in Cube's REST shapes, as @cubejs-client/core's ResultSet reads them:
 * `results[i].query` (normalized query, Cube flavour), `data`, `annotation`, `pivotQuery`.
 */
import { UserError } from '../errors.js';
import type { Annotation, CellValue, MemberAnnotation, QueryResult } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import type { NormalizedFilter, NormalizedQuery } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import type { CubeQueryType, ResponseFormat } from './query-plan.js';

type Json = Record<string, unknown>;

/** The normalized query as Cube echoes it back (order as {id, desc}, rowLimit, string filter values). */
export function toCubeQuery(q: NormalizedQuery, queryType: CubeQueryType, responseFormat: ResponseFormat = 'default'): Json {
  const out: Json = {
    measures: [...q.measures],
    dimensions: [...q.dimensions],
    segments: [...q.segments],
    timeDimensions: q.timeDimensions.map((td) => {
      const t: Json = { dimension: td.dimension };
      if (td.granularity) t.granularity = td.granularity;
      if (td.dateRange) t.dateRange = [...td.dateRange];
      return t;
    }),
    filters: q.filters.map(toCubeFilter),
    order: q.order.map(([id, dir]) => ({ id, desc: dir === 'desc' })),
    limit: q.limit,
    rowLimit: q.limit,
    timezone: q.timezone,
  };
  if (q.offset) out.offset = q.offset;
  if (q.total) out.total = true;
  if (q.ungrouped) out.ungrouped = true;
  if (responseFormat !== 'default') out.responseFormat = responseFormat;
  out.queryType = queryType;
  return out;
}

function toCubeFilter(f: NormalizedFilter): Json {
  switch (f.kind) {
    case 'and':
      return { and: f.filters.map(toCubeFilter) };
    case 'or':
      return { or: f.filters.map(toCubeFilter) };
    case 'member': {
      const out: Json = { member: f.member, operator: f.operator };
      if (f.values.length) out.values = f.values.map((v) => (v === null ? null : String(v)));
      return out;
    }
  }
}

/** Cube's `{id: dir}` order map of a query (dry-run's queryOrder, /sql's order). */
export function orderMap(q: NormalizedQuery): Record<string, 'asc' | 'desc'> {
  return Object.fromEntries(q.order.map(([id, dir]) => [id, dir]));
}

/**
 * Rows as Cube sends them: keyed by member; a time dimension with a granularity also under its
 * bare name (unless that name is a selected dimension); plus `compareDateRange` or
 * `time.<granularity>` for the multi-query types the client pivots on.
 */
export function formatRows(result: QueryResult, queryType: CubeQueryType): Record<string, CellValue>[] {
  const q = result.query;
  const aliases: [string, string][] = [];
  for (const c of result.columns) {
    if (c.kind === 'timeDimension' && c.granularity && !q.dimensions.includes(c.member)) aliases.push([c.member, c.key]);
  }
  let extra: [string, CellValue | ((r: Readonly<Record<string, CellValue>>) => CellValue)] | undefined;
  if (queryType === 'compareDateRangeQuery') {
    const td = q.timeDimensions.find((t) => t.dateRange);
    extra = ['compareDateRange', td?.dateRange ? td.dateRange.join(' - ') : null];
  } else if (queryType === 'blendingQuery') {
    const td = q.timeDimensions.find((t) => t.granularity);
    if (td) {
      const key = `${td.dimension}.${td.granularity}`;
      extra = [`time.${td.granularity}`, (r) => r[key] ?? null];
    }
  }
  return result.rows.map((r) => {
    const out: Record<string, CellValue> = {};
    for (const c of result.columns) out[c.key] = r[c.key] ?? null;
    for (const [bare, key] of aliases) out[bare] = out[key];
    if (extra) out[extra[0]] = typeof extra[1] === 'function' ? extra[1](r) : extra[1];
    return out;
  });
}

/** compact: {members, dataset: rows as arrays}; columnar: {members, columns}; default: the rows. */
export function packData(rows: Record<string, CellValue>[], members: readonly string[], format: ResponseFormat): unknown {
  if (format === 'default') return rows;
  if (format === 'compact') return { members, dataset: rows.map((r) => members.map((m) => r[m] ?? null)) };
  return { members, columns: members.map((m) => rows.map((r) => r[m] ?? null)) };
}

function memberKeys(result: QueryResult, rows: Record<string, CellValue>[]): string[] {
  if (rows.length) return Object.keys(rows[0]);
  return result.columns.map((c) => c.key);
}

/** Cube's annotation: ours plus drill members, currency and the granularity's interval. */
export function cubeAnnotation(model: Model, a: Annotation): Json {
  const one = (path: string, m: MemberAnnotation, kind: 'measure' | 'other'): Json => {
    const out: Json = { title: m.title, shortTitle: m.shortTitle, description: m.description, type: m.type, format: m.format, meta: m.meta };
    const member = lookup(model, path);
    if (member?.kind === 'measure' && member.currency) out.currency = member.currency;
    if (kind === 'measure') {
      const drill = member?.kind === 'measure' ? member.drillMembers : [];
      out.drillMembers = [...drill];
      out.drillMembersGrouped = groupDrillMembers(model, drill);
    }
    if (m.granularity) {
      out.granularity = { name: m.granularity.name, title: m.granularity.title, interval: `1 ${m.granularity.name}`, type: 'built-in' };
    }
    return out;
  };
  const map = (rec: Readonly<Record<string, MemberAnnotation>>, kind: 'measure' | 'other') =>
    Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, one(stripGranularity(k, v), v, kind)]));
  return {
    measures: map(a.measures, 'measure'),
    dimensions: map(a.dimensions, 'other'),
    segments: map(a.segments, 'other'),
    timeDimensions: map(a.timeDimensions, 'other'),
  };
}

function stripGranularity(key: string, m: MemberAnnotation): string {
  return m.granularity && key.endsWith(`.${m.granularity.name}`) ? key.slice(0, -(m.granularity.name.length + 1)) : key;
}

function lookup(model: Model, path: string) {
  try {
    return resolveMember(model, path).member;
  } catch {
    return undefined;
  }
}

export function groupDrillMembers(model: Model, drill: readonly string[]): { measures: string[]; dimensions: string[] } {
  const measures: string[] = [];
  const dimensions: string[] = [];
  for (const p of drill) (lookup(model, p)?.kind === 'measure' ? measures : dimensions).push(p);
  return { measures, dimensions };
}

/** One entry of `results[]`. */
export function formatResult(model: Model, result: QueryResult, queryType: CubeQueryType, responseFormat: ResponseFormat): Json {
  const rows = formatRows(result, queryType);
  return {
    query: toCubeQuery(result.query, queryType === 'blendingQuery' ? 'regularQuery' : queryType, responseFormat),
    lastRefreshTime: result.lastRefreshTime,
    // Cube's shape: the pre-aggregations used, keyed by name (here "cube.name" -> its table).
    usedPreAggregations: result.rollup ? { [result.rollup.name]: { targetTableName: result.rollup.table } } : {},
    annotation: cubeAnnotation(model, result.annotation),
    dataSource: 'default',
    dbType: 'clickhouse',
    external: false,
    slowQuery: false,
    total: result.query.total ? (result.total ?? null) : null,
    data: packData(rows, memberKeys(result, rows), responseFormat),
  };
}

/** The query the client pivots with (Cube's getPivotQuery). */
export function pivotQuery(queryType: CubeQueryType, queries: readonly NormalizedQuery[], responseFormat: ResponseFormat = 'default'): Json {
  if (queryType === 'blendingQuery') {
    const granularity = blendingGranularity(queries);
    const uniq = (xs: string[]) => [...new Set(xs)];
    const out: Json = {
      measures: uniq(queries.flatMap((q) => q.measures)),
      dimensions: uniq(queries.flatMap((q) => q.dimensions)),
      queryType,
    };
    if (granularity) out.timeDimensions = [{ dimension: 'time', granularity }];
    return out;
  }
  const base = toCubeQuery(queries[0], queryType, responseFormat);
  if (queryType === 'compareDateRangeQuery') base.dimensions = ['compareDateRange', ...(base.dimensions as string[])];
  return base;
}

/** Blended queries share one time axis, so their granularities must agree. */
export function blendingGranularity(queries: readonly NormalizedQuery[]): string | undefined {
  const gs = [...new Set(queries.map((q) => q.timeDimensions.find((t) => t.granularity)?.granularity).filter((g): g is NonNullable<typeof g> => !!g))];
  if (gs.length > 1) throw new UserError('BAD_USER_INPUT', `Data blending query granularities must match (got ${gs.join(', ')})`);
  return gs[0];
}
