/**
 * `query(query: JSON!): QueryResult`: the Cube query shape for dynamic UIs and agents. Rows come
 * back keyed like Cube ("cube.member", "cube.date.day") with an annotation per column.
 */
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { ResultNote } from '../query/result-notes.js';
import type { MemberAnnotation, QueryResult } from '../query/types.js';
import type { SemanticQuery } from '../semantic/query.js';
import { suggest } from '../semantic/suggest.js';
import type { StrataBuilder } from './builder.js';
import type { SharedTypes } from './shared-types.js';
import { DATA_FIELD_COST } from './cube-fields.js';
import { checkPaging } from './args-to-query.js';
import { type ComparisonInputValue, comparisonOf } from './comparison.js';

const QUERY_KEYS = [
  'measures',
  'dimensions',
  'segments',
  'timeDimensions',
  'filters',
  'order',
  'limit',
  'offset',
  'timezone',
  'total',
  'ungrouped',
  'compareTo',
  'fill',
] as const;

export interface AnnotationEntry extends MemberAnnotation {
  readonly member: string;
  readonly kind: 'measure' | 'dimension' | 'segment' | 'timeDimension';
}

/** Only Cube query keys pass; anything else is a typo worth reporting (there is no tenant key). */
export function parseGenericQuery(input: unknown, maxRowLimit: number): SemanticQuery {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new UserError('BAD_USER_INPUT', 'query must be a JSON object in Cube query format ({"measures": [...], "dimensions": [...], ...})');
  }
  for (const key of Object.keys(input)) {
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      const suggestion = suggest(key, QUERY_KEYS);
      throw new UserError('BAD_USER_INPUT', `unknown query key "${key}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`, { key, suggestion });
    }
  }
  const q = input as SemanticQuery;
  const num = (v: unknown, name: string) => {
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v))) throw new UserError('BAD_USER_INPUT', `${name} must be an integer`);
    return v as number | null | undefined;
  };
  checkPaging(num(q.limit, 'limit'), num(q.offset, 'offset'), maxRowLimit);
  return q;
}

/** The `compareTo` argument wins over none; giving it in both the JSON and the argument is refused. */
export function withComparison(query: SemanticQuery, input: ComparisonInputValue | null | undefined): SemanticQuery {
  const compareTo = comparisonOf(input);
  if (!compareTo) return query;
  if (query.compareTo !== undefined) throw new UserError('BAD_USER_INPUT', 'give compareTo either in the query JSON or as the argument, not both');
  return { ...query, compareTo };
}

export function annotationEntries(result: QueryResult): AnnotationEntry[] {
  const a = result.annotation;
  const entries = (kind: AnnotationEntry['kind'], rec: Readonly<Record<string, MemberAnnotation>>) =>
    Object.entries(rec).map(([member, ann]) => ({ ...ann, member, kind }));
  return [
    ...entries('measure', a.measures),
    ...entries('dimension', a.dimensions),
    ...entries('timeDimension', a.timeDimensions),
    ...entries('segment', a.segments),
  ];
}

/** Notes computed while resolving `query` (the result it returns is already in the empty shape). */
const notedResults = new WeakMap<QueryResult, readonly ResultNote[]>();

export function addGenericQuery(builder: StrataBuilder, shared: SharedTypes): void {
  const noteRef = builder.objectRef<ResultNote>('QueryNote').implement({
    description: 'Why an answer is empty or cut: RANGE_OUTSIDE_DATA, RANGE_PARTLY_OUTSIDE, VALUE_NOT_PRESENT, ROW_LIMIT_REACHED.',
    fields: (t) => ({
      code: t.exposeString('code'),
      message: t.exposeString('message'),
      member: t.exposeString('member', { nullable: true }),
      firstDate: t.exposeString('firstDate', { nullable: true, description: "First date of the cube's data for the tenant." }),
      lastDate: t.exposeString('lastDate', { nullable: true, description: "Last date of the cube's data for the tenant." }),
      values: t.stringList({ nullable: true, description: 'VALUE_NOT_PRESENT: the values the tenant has.', resolve: (n) => (n.values ? [...n.values] : null) }),
    }),
  });

  const annotationRef = builder.objectRef<AnnotationEntry>('QueryAnnotation').implement({
    description: 'How to display one result column.',
    fields: (t) => ({
      member: t.exposeString('member', { description: 'Row key: "cube.member", or "cube.date.day" for a time dimension at a granularity.' }),
      kind: t.exposeString('kind', { description: 'measure, dimension, timeDimension or segment.' }),
      type: t.exposeString('type', { description: 'number, string, time or boolean.' }),
      format: t.exposeString('format', { nullable: true, description: 'percent, currency, number, integer, id, imageUrl or link.' }),
      title: t.exposeString('title'),
      shortTitle: t.exposeString('shortTitle'),
      description: t.exposeString('description', { nullable: true }),
      granularity: t.string({ nullable: true, description: 'Granularity of a time dimension column.', resolve: (a) => a.granularity?.name ?? null }),
    }),
  });

  const resultRef = shared.queryResult.implement({
    description: 'Result of a Cube-shaped query.',
    fields: (t) => ({
      data: t.field({
        type: ['JSON'],
        description: 'Rows keyed like Cube: "cube.member", "cube.date.day". Times are local "YYYY-MM-DDTHH:mm:ss.SSS" in the query time zone.',
        resolve: (r) => r.rows as unknown[],
      }),
      annotation: t.field({ type: [annotationRef], description: 'One entry per column.', resolve: annotationEntries }),
      total: t.float({ nullable: true, description: 'Row count without limit/offset (when the query asked for total).', resolve: (r) => r.total ?? null }),
      lastRefreshTime: t.exposeString('lastRefreshTime', { description: 'ISO instant the data was read from the engine.' }),
      fromCache: t.exposeBoolean('fromCache', { description: 'Served from the result cache.' }),
      rollup: t.string({
        nullable: true,
        description: 'The rollup pre-aggregation that answered, "cube.name" (null: the cube\'s own rows were read).',
        resolve: (r) => r.rollup?.name ?? null,
      }),
      query: t.field({
        type: 'JSON',
        description: 'The query as normalized by the server (defaults applied, relative ranges resolved).',
        resolve: (r) => r.query,
      }),
      notes: t.field({
        type: [noteRef],
        description:
          'Why the answer is empty or cut (empty answers have no rows: never a row of zeros or nulls). Checked only when the result looks empty or hits its limit.',
        resolve: async (r, _a, ctx) => notedResults.get(r) ?? (ctx.query.noteResult ? (await ctx.query.noteResult(ctx.strata, r)).notes : []),
      }),
      comparison: t.field({
        type: shared.queryComparison,
        nullable: true,
        description: 'Per row and measure: current, previous, change, % change. Set when the query asked for a comparison (compareTo).',
        resolve: (r) => r.comparison ?? null,
      }),
    }),
  });

  builder.queryField('query', (t) =>
    t.field({
      type: resultRef,
      nullable: true,
      description:
        'Run a query in Cube REST format: {measures, dimensions, segments, timeDimensions: [{dimension, granularity, dateRange}], filters: [{member, operator, values}], order, limit, offset, timezone, total, compareTo, fill}. Members are "cube.member" paths from `catalog`. A comparison: `compareTo` (argument or key), or compareDateRange with two ranges [current, comparison]. `fill: "zero"`: a row for every bucket of the granular, ranged time dimension (additive measures 0, others null).',
      authScopes: { allOf: [SCOPES.METRICS_READ] },
      extensions: { requiresScopes: [SCOPES.METRICS_READ], cost: DATA_FIELD_COST },
      args: {
        query: t.arg({ type: 'JSON', required: true, description: 'A Cube query object.' }),
        compareTo: t.arg({ type: shared.comparisonInput, description: 'Compare with another period (see `comparison` in the result).' }),
      },
      resolve: async (_root, args, ctx) => {
        const result = await ctx.query.load(ctx.strata, withComparison(parseGenericQuery(args.query, ctx.limits.maxRowLimit), args.compareTo));
        if (!ctx.query.noteResult) return result;
        // One shape for empty answers (result-notes.ts): no rows, plus notes.
        const noted = await ctx.query.noteResult(ctx.strata, result);
        notedResults.set(noted.result, noted.notes);
        return noted.result;
      },
    }),
  );
}
