/**
 * One typed root field per public cube and view: `adPerformance(where, orderBy, segments, limit,
 * offset, timezone): [AdPerformanceRow!]`. The row fields selected decide the semantic query; the
 * resolver makes one `query.load` call (the query service batches concurrent root fields).
 */
import { createContextCache } from '@pothos/core';
import type { GraphQLResolveInfo } from 'graphql';
import { SCOPES } from '../auth/principal.js';
import { ForbiddenError } from '../errors.js';
import type { StrataBuilder, StrataTypes } from './builder.js';
import type { GraphQLContext } from './context.js';
import { memberFieldExtensions } from './field-meta.js';
import { memberDescription, sourceDescription, type ExposedMember, type ExposedSource } from './members.js';
import { rowKey, selectedMembers } from './selection.js';
import type { Row, SharedTypes } from './shared-types.js';
import type { ComparisonResult, ComparisonRow } from '../query/types.js';
import { checkPaging, type OrderByInput, type WhereInput } from './args-to-query.js';
import { rootFieldQuery, type RootArgs } from './root-query.js';

export const DATA_FIELD_COST = 10;

export function addCubeFields(builder: StrataBuilder, shared: SharedTypes, sources: readonly ExposedSource[]): void {
  for (const source of sources) addSource(builder, shared, source);
}

const fillEnums = new WeakMap<StrataBuilder, ReturnType<typeof makeFillEnum>>();
const makeFillEnum = (builder: StrataBuilder) =>
  builder.enumType('FillMode', {
    description: 'How empty buckets of a time series are answered.',
    values: { ZERO: { value: 'zero', description: 'A row for every bucket of the date range: additive measures 0, others (ratios, averages) null.' } } as const,
  });
/** One FillMode enum per schema (every source's field takes it). */
function fillEnum(builder: StrataBuilder) {
  if (!fillEnums.has(builder)) fillEnums.set(builder, makeFillEnum(builder));
  return fillEnums.get(builder)!;
}

function addSource(builder: StrataBuilder, shared: SharedTypes, s: ExposedSource): void {
  const byField = new Map(s.fields.map((m) => [m.fieldName, m]));

  const measures = s.fields.filter((m) => m.kind === 'measure');
  const compareRef =
    measures.length > 0
      ? builder.objectRef<ComparisonRow>(`${s.typeStem}Comparison`).implement({
          description: `The measures of a \`${s.name}\` row in both periods (when the field was given \`compareTo\`).`,
          fields: (t) =>
            Object.fromEntries(
              measures.map((m) => [
                m.fieldName,
                t.field({
                  type: shared.measureComparison,
                  nullable: true,
                  description: memberDescription(m),
                  extensions: memberFieldExtensions(m),
                  ...(m.scopes.length > 0 ? { authScopes: { allOf: m.scopes } } : {}),
                  resolve: (c) => {
                    const v = c.measures[m.path];
                    return v ? { member: m.path, ...v } : null;
                  },
                }),
              ]),
            ),
        })
      : undefined;

  const rowRef = builder.objectRef<Row>(`${s.typeStem}Row`).implement({
    description: `One result row of ${s.kind} \`${s.name}\`: one field per member. Time values are local date-times "YYYY-MM-DDTHH:mm:ss.SSS" in the query time zone.`,
    fields: (t) => ({
      ...Object.fromEntries(s.fields.map((m) => [m.fieldName, memberField(t, shared, m)])),
      ...(compareRef
        ? {
            compare: t.field({
              type: compareRef,
              nullable: true,
              description: 'Each measure in the current and the comparison period; null unless the field was given `compareTo`.',
              extensions: { strataNested: true },
              resolve: (row) => comparisonOfRow.get(row) ?? null,
            }),
          }
        : {}),
    }),
  });

  const whereRef = builder.inputRef<WhereInput, false>(`${s.typeStem}WhereInput`);
  whereRef.implement({
    description: `Conditions on \`${s.name}\` rows; fields are ANDed. Conditions on measures filter aggregated values (HAVING).`,
    fields: (t) => ({
      ...Object.fromEntries(s.fields.map((m) => [m.fieldName, t.field({ type: shared.filterFor(m.type), description: `Condition on \`${m.path}\`.` })])),
      AND: t.field({ type: [whereRef], description: 'All of these must hold.' }),
      OR: t.field({ type: [whereRef], description: 'At least one of these must hold.' }),
    }),
  });

  const orderRef = builder.inputRef<OrderByInput, false>(`${s.typeStem}OrderByInput`).implement({
    description: `Sort key for \`${s.name}\`. Give one field per list element: the list order is the sort order.`,
    fields: (t) => Object.fromEntries(s.fields.map((m) => [m.fieldName, t.field({ type: shared.orderDirection, description: `Sort by \`${m.path}\`.` })])),
  });

  const segmentRef =
    s.segments.length > 0
      ? builder.enumType(`${s.typeStem}Segment`, {
          description: `Predefined filters of \`${s.name}\`.`,
          values: Object.fromEntries(s.segments.map((m) => [m.enumValue as string, { value: m.path, description: memberDescription(m) }])),
        })
      : undefined;
  shared.sources.set(s.fieldName, { row: rowRef, where: whereRef, orderBy: orderRef, segment: segmentRef });

  builder.queryField(s.fieldName, (t) =>
    t.field({
      type: [rowRef],
      nullable: { list: true, items: false },
      description: sourceDescription(s),
      authScopes: { allOf: [SCOPES.METRICS_READ] },
      extensions: { requiresScopes: [SCOPES.METRICS_READ], cost: DATA_FIELD_COST },
      args: {
        where: t.arg({ type: whereRef, description: 'Filter rows.' }),
        orderBy: t.arg({ type: [orderRef], description: 'Sort keys, most significant first.' }),
        ...(segmentRef ? { segments: t.arg({ type: [segmentRef], description: 'Apply predefined filters (ANDed).' }) } : {}),
        limit: t.arg.int({ description: 'Maximum number of rows (capped by the server maximum).' }),
        offset: t.arg.int({ description: 'Rows to skip.' }),
        timezone: t.arg.string({ description: 'IANA time zone for time truncation and relative date ranges; default UTC.' }),
        ...(compareRef
          ? {
              compareTo: t.arg({
                type: shared.comparisonInput,
                description: "Compare with another period (read it in each row's `compare`); needs a date range (where: {date: {inDateRange: ...}}).",
              }),
              fill: t.arg({
                type: fillEnum(builder),
                description: 'ZERO: a row for every bucket of the selected time granularity over its date range (charts without gaps).',
              }),
            }
          : {}),
      },
      resolve: (_root, args, ctx, info) => resolveRows(byField, args as RootArgs, ctx, info),
    }),
  );
}

/** One member field of a row type; its GraphQL type follows the member's value type. */
function memberField(t: PothosSchemaTypes.ObjectFieldBuilder<StrataTypes, Row>, shared: SharedTypes, m: ExposedMember) {
  const common = {
    nullable: true,
    description: memberDescription(m),
    extensions: memberFieldExtensions(m),
    ...(m.scopes.length > 0 ? { authScopes: { allOf: m.scopes }, unauthorizedResolver: reportOncePerField } : {}),
  } as const;
  if (m.type === 'time' && m.kind === 'dimension') {
    return t.string({
      ...common,
      args: { granularity: t.arg({ type: shared.granularity, description: 'Truncate to this unit; omit for the raw value.' }) },
      resolve: (row, args) => cell(row, rowKey(m.path, args.granularity), 'string'),
    });
  }
  const key = rowKey(m.path, undefined);
  if (m.type === 'number') return t.float({ ...common, resolve: (row) => cell(row, key, 'number') });
  if (m.type === 'boolean') return t.boolean({ ...common, resolve: (row) => cell(row, key, 'boolean') });
  return t.string({ ...common, resolve: (row) => cell(row, key, 'string') });
}

/** A row value as its field's type: the engine hands back what the member's type says, or null. */
function cell<K extends 'string' | 'number' | 'boolean'>(
  row: Row,
  key: string,
  _kind: K,
): (K extends 'string' ? string : K extends 'number' ? number : boolean) | null {
  return (row[key] ?? null) as (K extends 'string' ? string : K extends 'number' ? number : boolean) | null;
}

/** Field paths of this operation whose FORBIDDEN error was already reported. */
const reportedPaths = createContextCache((_ctx: GraphQLContext) => new Set<string>());

/**
 * A forbidden member field errors once (on the first row) rather than once per row: the answer
 * carries one FORBIDDEN error per field path and nulls elsewhere.
 */
function reportOncePerField(_row: Row, _args: unknown, ctx: GraphQLContext, info: GraphQLResolveInfo, error: Error): null {
  const reported = reportedPaths(ctx);
  const key: string[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) if (typeof p.key === 'string') key.unshift(p.key);
  const k = key.join('.');
  if (reported.has(k)) return null;
  reported.add(k);
  throw error;
}

async function resolveRows(
  byField: ReadonlyMap<string, ExposedMember>,
  args: RootArgs,
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
): Promise<readonly Row[]> {
  checkPaging(args.limit, args.offset, ctx.limits.maxRowLimit);
  const scopes = ctx.strata.principal.scopes;
  const selected = selectedMembers(info);
  // Build the query from what the caller may read; forbidden fields answer FORBIDDEN on their own.
  const allowed = selected.filter((s) => s.member.scopes.every((sc) => scopes.has(sc)));
  if (allowed.length === 0) {
    const denied = selected[0];
    if (!denied) return []; // only __typename selected
    const missing = denied.member.scopes.filter((sc) => !scopes.has(sc));
    throw new ForbiddenError(`member "${denied.member.path}" requires scope ${missing.map((sc) => `"${sc}"`).join(', ')}`, {
      member: denied.member.path,
      scopes: missing,
    });
  }

  const query = rootFieldQuery(byField, args, allowed);
  const result = await ctx.query.load(ctx.strata, query);
  return result.comparison ? comparedRows(result.comparison) : result.rows;
}

/** Rows of both periods on the current axis; each row's comparison is found through `compare`. */
const comparisonOfRow = new WeakMap<Row, ComparisonRow>();

export function comparedRows(comparison: ComparisonResult): Row[] {
  return comparison.rows.map((c) => {
    const row: Row = { ...c.dimensions, ...Object.fromEntries(Object.entries(c.measures).map(([m, v]) => [m, v.current])) };
    comparisonOfRow.set(row, c);
    return row;
  });
}
