/**
 * One typed root field per public cube and view: `adPerformance(where, orderBy, segments, limit,
 * offset, timezone): [AdPerformanceRow!]`. The row fields selected decide the semantic query; the
 * resolver makes one `query.load` call (the query service batches concurrent root fields).
 */
import type { GraphQLResolveInfo } from 'graphql';
import { SCOPES } from '../auth/principal.js';
import { ForbiddenError } from '../errors.js';
import type { CellValue } from '../query/types.js';
import type { Granularity } from '../semantic/query.js';
import type { StrataBuilder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { memberFieldExtensions } from './field-meta.js';
import { memberDescription, sourceDescription, type ExposedMember, type ExposedSource } from './members.js';
import { rowKey, selectedMembers } from './selection.js';
import type { SharedTypes } from './shared-types.js';
import { checkPaging, type OrderByInput, type WhereInput } from './translate.js';
import { rootFieldQuery, type RootArgs } from './root-query.js';

type Row = Readonly<Record<string, CellValue>>;

export const DATA_FIELD_COST = 10;

export function addCubeFields(builder: StrataBuilder, shared: SharedTypes, sources: readonly ExposedSource[]): void {
  for (const source of sources) addSource(builder, shared, source);
}

function addSource(builder: StrataBuilder, shared: SharedTypes, s: ExposedSource): void {
  const byField = new Map(s.fields.map((m) => [m.fieldName, m]));

  const rowRef = builder.objectRef<Row>(`${s.typeStem}Row`).implement({
    description: `One result row of ${s.kind} \`${s.name}\`: one field per member. Time values are local date-times "YYYY-MM-DDTHH:mm:ss.SSS" in the query time zone.`,
    fields: (t) => Object.fromEntries(s.fields.map((m) => [m.fieldName, memberField(t, shared, m)])),
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
      },
      resolve: (_root, args, ctx, info) => resolveRows(byField, args as RootArgs, ctx, info),
    }),
  );
}

// Pothos' field builder type for a row object; loosely typed because fields are generated.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function memberField(t: any, shared: SharedTypes, m: ExposedMember) {
  const scoped = m.scopes.length > 0;
  const isTime = m.type === 'time' && m.kind === 'dimension';
  return t.field({
    type: m.type === 'number' ? 'Float' : m.type === 'boolean' ? 'Boolean' : 'String',
    nullable: true,
    description: memberDescription(m),
    args: isTime ? { granularity: t.arg({ type: shared.granularity, description: 'Truncate to this unit; omit for the raw value.' }) } : {},
    extensions: memberFieldExtensions(m),
    ...(scoped ? { authScopes: { allOf: m.scopes }, unauthorizedResolver: reportOncePerField } : {}),
    resolve: (row: Row, args: { granularity?: Granularity | null }) => row[rowKey(m.path, isTime ? args.granularity : undefined)] ?? null,
  });
}

const REPORTED = 'graphql:forbidden-reported';

/**
 * A forbidden member field errors once (on the first row) rather than once per row: the answer
 * carries one FORBIDDEN error per field path and nulls elsewhere.
 */
function reportOncePerField(_row: Row, _args: unknown, ctx: GraphQLContext, info: GraphQLResolveInfo, error: Error): null {
  let reported = ctx.strata.memo.get(REPORTED) as Set<string> | undefined;
  if (!reported) ctx.strata.memo.set(REPORTED, (reported = new Set()));
  const key: string[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) if (typeof p.key === 'string') key.unshift(p.key);
  const k = key.join('.');
  if (reported.has(k)) return null;
  reported.add(k);
  throw error;
}

async function resolveRows(byField: ReadonlyMap<string, ExposedMember>, args: RootArgs, ctx: GraphQLContext, info: GraphQLResolveInfo): Promise<readonly Row[]> {
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
  return result.rows;
}
