/**
 * SemanticQuery -> NormalizedQuery: every name checked against the model, every value checked
 * against its operator, relative date ranges resolved against `options.now` in the query's time
 * zone, defaults applied (order, limit). Pure: the clock comes from options.
 */
import { checkQueryBounds } from './bounds.js';
import { UserError } from '../errors.js';
import type { Model } from '../semantic/model.js';
import {
  FILTER_OPERATORS,
  GRANULARITIES,
  type FilterOperator,
  type Granularity,
  type NormalizedFilter,
  type NormalizedQuery,
  type NormalizedTimeDimension,
  type OrderDirection,
  type SemanticQuery,
  type TimeDimensionQuery,
} from '../semantic/query.js';
import { suggest } from '../semantic/suggest.js';
import type { CompileOptions } from './compiled.js';
import { isValidTimeZone, resolveDateRange } from './dates.js';
import { resolveDimension, resolveFilterMember, resolveMeasure, resolveSegment, resolveTimeDimension } from './members.js';
import { normalizeFilterValues, shown } from './values.js';

function bad(message: string, details: Record<string, unknown> = {}): UserError {
  return new UserError('BAD_USER_INPUT', message, details);
}

function list(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`${field} must be an array`);
  return value;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

export function normalizeQuery(model: Model, query: SemanticQuery, options: CompileOptions): NormalizedQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) throw bad('a query must be an object');
  checkQueryBounds(query as unknown as Record<string, unknown>);
  const timezone = query.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) throw bad(`unknown time zone "${shown(timezone)}": use an IANA name such as "Europe/Paris" or "UTC"`);

  const measures = unique(list(query.measures, 'measures').map((m) => resolveMeasure(model, m).path));
  const dimensions = unique(list(query.dimensions, 'dimensions').map((d) => resolveDimension(model, d).path));
  const segments = unique(list(query.segments, 'segments').map((s) => resolveSegment(model, s).path));
  const timeDimensions = list(query.timeDimensions, 'timeDimensions').map((td) => normalizeTimeDimension(model, td, timezone, options.now));
  const filters = list(query.filters, 'filters').map((f) => normalizeFilter(model, f, timezone, options.now));

  const columnKeys = new Map<string, string>();
  for (const m of measures) columnKeys.set(m, m);
  for (const d of dimensions) columnKeys.set(d, d);
  for (const td of timeDimensions) {
    if (!td.granularity) continue;
    const key = `${td.dimension}.${td.granularity}`;
    columnKeys.set(key, key);
    if (!columnKeys.has(td.dimension)) columnKeys.set(td.dimension, key);
  }
  const order = query.order === undefined ? defaultOrder(measures, dimensions, timeDimensions) : normalizeOrder(query.order, columnKeys);

  return {
    measures,
    dimensions,
    segments,
    timeDimensions,
    filters,
    order,
    limit: normalizeCount(query.limit, 'limit', options.defaultLimit, options.maxLimit),
    offset: normalizeCount(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER),
    total: flag(query.total, 'total'),
    timezone,
    ungrouped: flag(query.ungrouped, 'ungrouped'),
  };
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw bad(`${field} must be true or false`);
  return value;
}

function normalizeCount(value: unknown, field: 'limit' | 'offset', fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw bad(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  if (value > max) throw bad(`${field} ${value} exceeds the maximum of ${max}`, { max });
  return value;
}

function normalizeTimeDimension(model: Model, td: unknown, tz: string, now: Date): NormalizedTimeDimension {
  if (typeof td !== 'object' || td === null) throw bad('timeDimensions entries must be objects {dimension, granularity?, dateRange?}');
  const q = td as TimeDimensionQuery;
  const dimension = resolveTimeDimension(model, q.dimension).path;
  if (q.compareDateRange !== undefined) {
    // The query service turns a two-range compareDateRange into a comparison (compare.ts) first.
    throw bad(`compareDateRange on "${dimension}" is not supported here: use compareTo, or the REST API with queryType=multi`, { member: dimension });
  }
  let granularity: Granularity | undefined;
  if (q.granularity !== undefined && q.granularity !== null) {
    if (!(GRANULARITIES as readonly string[]).includes(q.granularity)) {
      const suggestion = typeof q.granularity === 'string' ? suggest(q.granularity, GRANULARITIES) : undefined;
      throw bad(
        `unknown granularity "${shown(q.granularity)}" for "${dimension}"${suggestion ? ` — did you mean "${suggestion}"?` : ''} (one of ${GRANULARITIES.join(', ')})`,
        {
          member: dimension,
          suggestion,
        },
      );
    }
    granularity = q.granularity;
  }
  const dateRange = q.dateRange === undefined || q.dateRange === null ? undefined : resolveDateRange(q.dateRange, tz, now);
  return { dimension, ...(granularity ? { granularity } : {}), ...(dateRange ? { dateRange } : {}) };
}

function normalizeFilter(model: Model, filter: unknown, tz: string, now: Date): NormalizedFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw bad('filters entries must be objects');
  const f = filter as Record<string, unknown>;
  for (const op of ['and', 'or'] as const) {
    if (f[op] !== undefined) {
      const inner = list(f[op], op).map((x) => normalizeFilter(model, x, tz, now));
      if (inner.length === 0) throw bad(`"${op}" needs at least one filter`);
      const kinds = new Set(inner.flatMap(filterKinds(model)));
      if (kinds.size > 1) throw bad(`"${op}" cannot mix measure and dimension filters`);
      return { kind: op, filters: inner };
    }
  }
  const path = f.member ?? f.dimension;
  const resolved = resolveFilterMember(model, path);
  const operator = f.operator;
  if (typeof operator !== 'string' || !(FILTER_OPERATORS as readonly string[]).includes(operator)) {
    const suggestion = typeof operator === 'string' ? suggest(operator, FILTER_OPERATORS) : undefined;
    throw bad(`unknown filter operator ${JSON.stringify(operator)} on "${resolved.path}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`, {
      member: resolved.path,
      suggestion,
    });
  }
  const values = normalizeFilterValues(resolved.path, resolved.member, operator as FilterOperator, list(f.values, 'values'), { tz, now });
  return { kind: 'member', member: resolved.path, operator: operator as FilterOperator, values };
}

/** Whether a filter tree goes to WHERE ("dimension") or HAVING ("measure"). */
export function filterKinds(model: Model): (f: NormalizedFilter) => ('measure' | 'dimension')[] {
  const kinds = (f: NormalizedFilter): ('measure' | 'dimension')[] => {
    if (f.kind !== 'member') return f.filters.flatMap(kinds);
    if (f.operator === 'measureFilter') return ['dimension'];
    return [resolveFilterMember(model, f.member).member.kind === 'measure' ? 'measure' : 'dimension'];
  };
  return kinds;
}

function defaultOrder(measures: readonly string[], dimensions: readonly string[], tds: readonly NormalizedTimeDimension[]): [string, OrderDirection][] {
  const td = tds.find((t) => t.granularity);
  if (td) return [[`${td.dimension}.${td.granularity}`, 'asc']];
  if (measures.length) return [[measures[0], 'desc']];
  if (dimensions.length) return [[dimensions[0], 'asc']];
  return [];
}

function normalizeOrder(order: SemanticQuery['order'], columnKeys: ReadonlyMap<string, string>): [string, OrderDirection][] {
  const entries: unknown[] = Array.isArray(order)
    ? order
    : typeof order === 'object' && order !== null
      ? Object.entries(order)
      : (() => {
          throw bad('order must be an object {member: "asc" | "desc"} or an array of [member, direction]');
        })();
  const out: [string, OrderDirection][] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw bad('order entries must be [member, "asc" | "desc"]');
    const [member, direction] = entry as [string, unknown];
    if (direction !== 'asc' && direction !== 'desc') throw bad(`order direction for "${member}" must be "asc" or "desc"`, { member });
    const key = columnKeys.get(member);
    if (!key) {
      const suggestion = suggest(member, columnKeys.keys());
      throw bad(
        `cannot order by "${member}": it is not in the query's measures, dimensions or time dimensions${suggestion ? ` — did you mean "${suggestion}"?` : ''}`,
        {
          member,
          suggestion,
        },
      );
    }
    out.push([key, direction]);
  }
  return out;
}

/** One query per compareDateRange entry of the (single) time dimension that has one; else [query]. */
export function expandCompareDateRange(query: SemanticQuery): SemanticQuery[] {
  const tds = query.timeDimensions ?? [];
  const withCompare = tds.filter((td) => td.compareDateRange !== undefined);
  if (withCompare.length === 0) return [query];
  if (withCompare.length > 1) throw bad('only one time dimension may have compareDateRange');
  const ranges = withCompare[0].compareDateRange!;
  if (!Array.isArray(ranges) || ranges.length === 0) throw bad('compareDateRange must be a non-empty array of date ranges');
  return ranges.map((dateRange) => ({
    ...query,
    timeDimensions: tds.map((td) => {
      if (td !== withCompare[0]) return td;
      const { compareDateRange: _omit, ...rest } = td;
      return { ...rest, dateRange };
    }),
  }));
}
