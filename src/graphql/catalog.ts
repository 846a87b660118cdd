/**
 * `catalog`: what the caller may query, with enough words for an agent to pick members for a
 * question (titles, descriptions, types, formats, scopes), the join graph, a runnable example per
 * cube, and the GraphQL names of the typed fields.
 */
import { SCOPES } from '../auth/principal.js';
import type { CatalogCube, CatalogMember } from '../query/types.js';
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

export function addCatalog(builder: StrataBuilder, sources: readonly ExposedSource[]): void {
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
      meta: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.meta }),
    }),
  });

  const catalogRef = builder.objectRef<Catalog>('Catalog').implement({
    description: 'Everything the caller may query.',
    fields: (t) => ({
      cubes: t.field({ type: [cubeRef], description: 'Cubes and views.', resolve: (c) => c.cubes }),
      joins: t.field({ type: [joinRef], description: 'The directed join graph between visible cubes.', resolve: (c) => c.joins }),
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
