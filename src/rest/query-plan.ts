/**
 * What a Cube `query` parameter asks for: one query (regular), one query with a
 * compareDateRange (one query per range), or an array of queries (data blending).
 */
import { UserError } from '../errors.js';
import { expandCompareDateRange } from '../compiler/normalize.js';
import { GRANULARITIES, type Granularity, type SemanticQuery, type TimeDimensionQuery } from '../semantic/query.js';

export type CubeQueryType = 'regularQuery' | 'compareDateRangeQuery' | 'blendingQuery';
export type ResponseFormat = 'default' | 'compact' | 'columnar';

export interface LoadPlan {
  readonly queryType: CubeQueryType;
  readonly queries: readonly SemanticQuery[];
  readonly responseFormat: ResponseFormat;
}

/** Cube accepts these in a query object; they steer the REST layer, not the data. */
const TRANSPORT_KEYS = ['responseFormat', 'cache', 'cacheMode', 'renewQuery', 'queryType', 'rowLimit'] as const;
const RESPONSE_FORMATS: readonly ResponseFormat[] = ['default', 'compact', 'columnar'];

/** Blending and compare queries fan out into this many queries at most. */
export const MAX_QUERIES_PER_REQUEST = 50;

export function planQueries(input: unknown): LoadPlan {
  if (Array.isArray(input)) {
    if (input.length === 0) throw new UserError('BAD_USER_INPUT', 'query array must not be empty');
    if (input.length > MAX_QUERIES_PER_REQUEST) throw new UserError('BAD_USER_INPUT', `at most ${MAX_QUERIES_PER_REQUEST} queries per request`);
    const queries = input.map((q) => stripTransportKeys(requireObject(q)));
    if (queries.some((q) => Array.isArray(q.timeDimensions) && q.timeDimensions.some((td) => td?.compareDateRange !== undefined))) {
      throw new UserError('BAD_USER_INPUT', 'compareDateRange is not supported inside a data blending query (an array of queries)');
    }
    return { queryType: 'blendingQuery', queries, responseFormat: 'default' };
  }
  const raw = requireObject(input);
  const responseFormat = readResponseFormat(raw.responseFormat);
  const query = stripTransportKeys(raw);
  const expanded = splitCompareDateRange(query);
  if (expanded) return { queryType: 'compareDateRangeQuery', queries: expanded, responseFormat };
  return { queryType: 'regularQuery', queries: [query], responseFormat };
}

/**
 * One query per compared range (the compiler's expandCompareDateRange), or undefined when no
 * time dimension compares ranges. Adds the REST limits on fan-out.
 */
function splitCompareDateRange(query: SemanticQuery): SemanticQuery[] | undefined {
  const tds = Array.isArray(query.timeDimensions) ? query.timeDimensions : [];
  if (!tds.some((td) => td && typeof td === 'object' && td.compareDateRange !== undefined)) return undefined;
  for (const td of tds) {
    if (td?.compareDateRange === undefined) continue;
    if (td.dateRange !== undefined && td.dateRange !== null) {
      throw new UserError('BAD_USER_INPUT', `a time dimension cannot have both dateRange and compareDateRange ("${String(td.dimension)}")`, {
        member: td.dimension,
      });
    }
    if (Array.isArray(td.compareDateRange) && td.compareDateRange.length > MAX_QUERIES_PER_REQUEST) {
      throw new UserError('BAD_USER_INPUT', `at most ${MAX_QUERIES_PER_REQUEST} ranges in compareDateRange`);
    }
  }
  return expandCompareDateRange(query);
}

function requireObject(q: unknown): Record<string, unknown> {
  if (!q || typeof q !== 'object' || Array.isArray(q)) {
    throw new UserError('BAD_USER_INPUT', 'query must be a JSON object in Cube query format (or an array of them)');
  }
  return q as Record<string, unknown>;
}

function readResponseFormat(v: unknown): ResponseFormat {
  if (v === undefined || v === null) return 'default';
  if (typeof v === 'string' && (RESPONSE_FORMATS as readonly string[]).includes(v)) return v as ResponseFormat;
  throw new UserError('BAD_USER_INPUT', `responseFormat must be one of ${RESPONSE_FORMATS.join(', ')}`);
}

function stripTransportKeys(q: Record<string, unknown>): SemanticQuery {
  const out: Record<string, unknown> = { ...q };
  for (const k of TRANSPORT_KEYS) delete out[k];
  // Cube's older clients send rowLimit; it means limit when limit is absent.
  if (out.limit === undefined && typeof q.rowLimit === 'number') out.limit = q.rowLimit;
  if (out.limit === null) delete out.limit;
  liftGranularDimensions(out);
  return out as SemanticQuery;
}

/** Cube accepts "cube.time.granularity" in dimensions and reads it as a time dimension. */
function liftGranularDimensions(q: Record<string, unknown>): void {
  if (!Array.isArray(q.dimensions)) return;
  const lifted: TimeDimensionQuery[] = [];
  const kept = q.dimensions.filter((d) => {
    if (typeof d !== 'string') return true;
    const parts = d.split('.');
    if (parts.length !== 3 || !(GRANULARITIES as readonly string[]).includes(parts[2])) return true;
    lifted.push({ dimension: `${parts[0]}.${parts[1]}`, granularity: parts[2] as Granularity });
    return false;
  });
  if (!lifted.length) return;
  q.dimensions = kept;
  q.timeDimensions = [...(Array.isArray(q.timeDimensions) ? q.timeDimensions : []), ...lifted];
}
