/**
 * `catalog`: what the caller may query, with enough words for an agent to pick members for a
 * question (titles, descriptions, types, formats, scopes), the join graph, a runnable example per
 * cube, and the GraphQL names of the typed fields.
 */
import { SCOPES } from '../auth/principal.js';
import { compactCatalog, exampleQueries, FILTER_OPERATORS_BY_TYPE, memberExtras, OPERATOR_MEANINGS, QUERY_GRAMMAR } from '../query/agent-catalog.js';
import { type CubeCoverage, SAMPLE_VALUE_CAP } from '../query/catalog-facts.js';
import type { CatalogCube, CatalogMember, CatalogRollup } from '../query/types.js';
import type { Model } from '../semantic/model.js';
import type { StrataBuilder } from './builder.js';
import type { ExposedSource } from './members.js';

interface CatalogJoin {
  readonly from: string;
  readonly to: string;
  readonly relationship: string;
}

interface Catalog {
  readonly cubes: readonly CatalogCube[];
  readonly joins: readonly CatalogJoin[];
}

export function addCatalog(builder: StrataBuilder, sources: readonly ExposedSource[], model: Model): void {
  const coverageRef = builder.objectRef<CubeCoverage>('CatalogCoverage').implement({
    description: "The tenant's data in a cube (cached; refreshed by ingestion).",
    fields: (t) => ({
      timeDimension: t.exposeString('timeDimension', { nullable: true, description: 'The time dimension the dates are of.' }),
      firstDate: t.exposeString('firstDate', { nullable: true }),
      lastDate: t.exposeString('lastDate', { nullable: true, description: 'Ranges after it return no rows (and a RANGE_OUTSIDE_DATA note).' }),
      approxRows: t.exposeFloat('approxRows'),
      lastIngestedAt: t.exposeString('lastIngestedAt', { nullable: true }),
      computedAt: t.exposeString('computedAt'),
    }),
  });

  const rootFieldOf = new Map(sources.map((s) => [s.name, s.fieldName]));
  const memberFieldOf = new Map(
    sources.flatMap((s) => [...s.fields, ...s.segments].map((m) => [m.path, m.kind === 'segment' ? (m.enumValue as string) : m.fieldName])),
  );

  const memberRef = builder.objectRef<CatalogMember>('CatalogMember').implement({
    description: 'A measure, dimension or segment the caller may query.',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'Name inside its cube or view.' }),
      path: t.exposeString('path', { description: 'Full name used in queries: "cube.member".' }),
      graphqlName: t.string({
        nullable: true,
        description: 'Row field name in the typed root field (segments: the segment enum value).',
        resolve: (m) => memberFieldOf.get(m.path) ?? null,
      }),
      kind: t.exposeString('kind', { description: 'measure, dimension or segment.' }),
      type: t.exposeString('type', { description: 'number, string, time or boolean.' }),
      aggType: t.exposeString('aggType', {
        nullable: true,
        description: 'Measures: sum, count, count_distinct, avg, min, max, number (a formula over other measures)...',
      }),
      title: t.exposeString('title'),
      shortTitle: t.exposeString('shortTitle'),
      description: t.exposeString('description', { nullable: true }),
      format: t.exposeString('format', { nullable: true, description: 'percent, currency, number, integer, id, imageUrl or link.' }),
      requiredScopes: t.stringList({ description: 'Scopes needed to read it.', resolve: (m) => [...m.scopes] }),
      primaryKey: t.boolean({ description: 'Dimensions: part of the primary key.', resolve: (m) => m.primaryKey ?? false }),
      meta: t.field({ type: 'JSON', nullable: true, description: 'Free-form metadata from the model.', resolve: (m) => m.meta }),
      synonyms: t.stringList({ description: 'Words people use for it (model meta.synonyms).', resolve: (m) => [...memberExtras(model, m).synonyms] }),
      seeAlso: t.field({
        type: 'JSON',
        description: 'Look-alike members and how they differ: [{member, note}] (model meta.see_also).',
        resolve: (m) => memberExtras(model, m).seeAlso,
      }),
      currency: t.string({ nullable: true, description: 'ISO currency code of currency measures.', resolve: (m) => memberExtras(model, m).currency ?? null }),
      rollingWindow: t.string({
        nullable: true,
        description: 'Rolling measures: "trailing 7 day", or "unbounded" (cumulative, from the start of the data).',
        resolve: (m) => memberExtras(model, m).rollingWindow ?? null,
      }),
      filterOperators: t.stringList({ description: 'Filter operators it takes.', resolve: (m) => [...memberExtras(model, m).filterOperators] }),
      values: t.stringList({
        nullable: true,
        description: `String dimensions: the values this tenant has (at most ${SAMPLE_VALUE_CAP}; null when it has more). Cached per tenant.`,
        resolve: async (m, _a, ctx) => {
          if (m.kind !== 'dimension' || m.type !== 'string' || m.primaryKey || !ctx.query.facts) return null;
          // A member the values query cannot read is left without values; the catalog still answers.
          const s = await ctx.query.facts.sampleValues(ctx.strata, m.path).catch(() => undefined);
          return s?.complete ? [...s.values] : null;
        },
      }),
    }),
  });

  const joinRef = builder.objectRef<CatalogJoin>('CatalogJoin').implement({
    description: 'A directed join: queries may combine members of `from` with members of `to`.',
    fields: (t) => ({
      from: t.exposeString('from'),
      to: t.exposeString('to'),
      relationship: t.exposeString('relationship', { description: 'many_to_one, one_to_many or one_to_one (seen from `from`).' }),
    }),
  });

  const rollupRef = builder.objectRef<CatalogRollup>('CatalogRollup').implement({
    description: 'A rollup: the cube aggregated per tenant by a few dimensions and a time bucket, kept up to date on every insert.',
    fields: (t) => ({
      name: t.exposeString('name', { description: '"cube.name".' }),
      measures: t.exposeStringList('measures', { description: 'Measures it answers exactly (ratios from their parts included).' }),
      dimensions: t.exposeStringList('dimensions'),
      segments: t.exposeStringList('segments'),
      timeDimension: t.exposeString('timeDimension', { nullable: true }),
      granularity: t.exposeString('granularity', { nullable: true, description: 'Bucket size; coarser granularities add up from it.' }),
    }),
  });

  const cubeRef = builder.objectRef<CatalogCube>('CatalogCube').implement({
    description: 'A cube or view the caller may query, with only the members the caller may read.',
    fields: (t) => ({
      name: t.exposeString('name'),
      kind: t.exposeString('kind', { description: 'cube or view.' }),
      graphqlField: t.string({
        nullable: true,
        description: 'Typed root query field for it, e.g. adPerformance.',
        resolve: (c) => rootFieldOf.get(c.name) ?? null,
      }),
      title: t.exposeString('title'),
      description: t.exposeString('description', { nullable: true }),
      measures: t.field({ type: [memberRef], resolve: (c) => c.measures }),
      dimensions: t.field({ type: [memberRef], resolve: (c) => c.dimensions }),
      segments: t.field({ type: [memberRef], resolve: (c) => c.segments }),
      joins: t.field({
        type: [joinRef],
        description: 'Outgoing joins.',
        resolve: (c) => c.joins.map((j) => ({ from: c.name, to: j.target, relationship: j.relationship })),
      }),
      exampleQuery: t.field({ type: 'JSON', description: 'A runnable example for `query(query:)`.', resolve: (c) => c.exampleQuery }),
      rollups: t.field({
        type: [rollupRef],
        description: 'Rollup pre-aggregations of the cube: a query within one of them is answered from it (QueryResult.rollup says which).',
        resolve: (c) => c.rollups ?? [],
      }),
      meta: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.meta }),
      coverage: t.field({
        type: coverageRef,
        nullable: true,
        description: "Which dates this tenant's data covers, its size and last ingestion (cached).",
        resolve: async (c, _a, ctx) => (ctx.query.facts ? ((await ctx.query.facts.coverage(ctx.strata, c.name)) ?? null) : null),
      }),
    }),
  });

  const catalogRef = builder.objectRef<Catalog>('Catalog').implement({
    description: 'Everything the caller may query.',
    fields: (t) => ({
      cubes: t.field({ type: [cubeRef], description: 'Cubes and views.', resolve: (c) => c.cubes }),
      joins: t.field({ type: [joinRef], description: 'The directed join graph between visible cubes.', resolve: (c) => c.joins }),
      grammar: t.field({
        type: 'JSON',
        description: 'Query grammar: time zone, week start, granularities, relative date ranges, comparisons, the empty-answer shape, units.',
        resolve: () => QUERY_GRAMMAR,
      }),
      filterOperators: t.field({
        type: 'JSON',
        description: 'Filter operators by member type, and what each means.',
        resolve: () => ({ byType: FILTER_OPERATORS_BY_TYPE, meanings: OPERATOR_MEANINGS }),
      }),
      examples: t.field({
        type: 'JSON',
        description: 'Example queries by pattern (top-n, trend, segment, filter, rolling-window, join, comparison): [{pattern, question, query}].',
        resolve: (c) => exampleQueries(model, c.cubes),
      }),
      compact: t.string({
        description: 'The whole catalog in a compact text form (names, types, one-line descriptions), under 8k tokens.',
        resolve: (c) => compactCatalog(model, c.cubes),
      }),
    }),
  });

  builder.queryField('catalog', (t) =>
    t.field({
      type: catalogRef,
      nullable: true,
      description: 'Cubes and views the caller may query, their members, the join graph and example queries. Start here.',
      authScopes: { allOf: [SCOPES.METRICS_READ] },
      extensions: { requiresScopes: [SCOPES.METRICS_READ] },
      resolve: (_root, _args, ctx) => {
        const cubes = ctx.query.catalog(ctx.strata.principal);
        const visible = new Set(cubes.map((c) => c.name));
        // Hide joins to cubes the caller cannot see at all: they are not queryable for them.
        const scoped = cubes.map((c) => (c.joins.every((j) => visible.has(j.target)) ? c : { ...c, joins: c.joins.filter((j) => visible.has(j.target)) }));
        const joins = scoped.flatMap((c) => c.joins.map((j) => ({ from: c.name, to: j.target, relationship: j.relationship })));
        return { cubes: scoped, joins };
      },
    }),
  );
}
