/** Types every generated cube type uses: JSON, enums, and the per-value-type filter inputs. */
import { Kind, type ValueNode, valueFromASTUntyped } from 'graphql';
import type { EnumRef, InputObjectRef, ObjectRef } from '@pothos/core';
import type { CellValue, QueryResult } from '../query/types.js';
import { GRANULARITIES, type Granularity, type OrderDirection } from '../semantic/query.js';
import type { StrataBuilder, StrataTypes } from './builder.js';
import type { ValueType } from './members.js';
import type { OrderByInput, WhereInput } from './args-to-query.js';
import { addComparisonTypes } from './comparison.js';

/** One result row of a cube or view field, keyed "cube.member" / "cube.date.day". */
export type Row = Readonly<Record<string, CellValue>>;

/** The types of one cube/view root field, shared by its query field and its subscription. */
export interface SourceRefs {
  readonly row: ObjectRef<StrataTypes, Row>;
  readonly where: InputObjectRef<StrataTypes, WhereInput>;
  readonly orderBy: InputObjectRef<StrataTypes, OrderByInput>;
  readonly segment?: EnumRef<StrataTypes, string>;
}

export interface StringFilterInput {
  equals?: string | null;
  notEquals?: string | null;
  in?: string[] | null;
  notIn?: string[] | null;
  contains?: string | null;
  notContains?: string | null;
  startsWith?: string | null;
  notStartsWith?: string | null;
  endsWith?: string | null;
  notEndsWith?: string | null;
  set?: boolean | null;
}

export interface FloatFilterInput {
  equals?: number | null;
  notEquals?: number | null;
  in?: number[] | null;
  notIn?: number[] | null;
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
  set?: boolean | null;
}

export interface DateTimeFilterInput {
  inDateRange?: string[] | null;
  notInDateRange?: string[] | null;
  beforeDate?: string | null;
  beforeOrOnDate?: string | null;
  afterDate?: string | null;
  afterOrOnDate?: string | null;
  set?: boolean | null;
}

export interface BooleanFilterInput {
  equals?: boolean | null;
  notEquals?: boolean | null;
  set?: boolean | null;
}

export type AnyFilterInput = StringFilterInput | FloatFilterInput | DateTimeFilterInput | BooleanFilterInput;

export function addSharedTypes(builder: StrataBuilder) {
  builder.scalarType('JSON', {
    description: 'Any JSON value (the Cube query shape, result rows keyed "cube.member").',
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) =>
      ast.kind === Kind.NULL ? null : valueFromASTUntyped(ast, variables ?? undefined),
  });

  const orderDirection = builder.enumType('OrderDirection', {
    description: 'Sort direction.',
    values: {
      ASC: { value: 'asc' as OrderDirection, description: 'Ascending (smallest, earliest, A first).' },
      DESC: { value: 'desc' as OrderDirection, description: 'Descending (largest, latest, Z first).' },
    },
  });

  const granularity = builder.enumType('TimeGranularity', {
    description: 'Truncation unit of a time dimension (in the query time zone).',
    values: Object.fromEntries(GRANULARITIES.map((g) => [g.toUpperCase(), { value: g as Granularity, description: `Truncate to the ${g}.` }])) as Record<
      string,
      { value: Granularity; description: string }
    >,
  });

  const stringFilter = builder.inputRef<StringFilterInput, false>('StringFilter').implement({
    description: 'Conditions on a string member; all given conditions must hold.',
    fields: (t) => ({
      equals: t.string({ description: 'Equal to the value.' }),
      notEquals: t.string({ description: 'Not equal to the value.' }),
      in: t.stringList({ description: 'Equal to one of the values.' }),
      notIn: t.stringList({ description: 'Equal to none of the values.' }),
      contains: t.string({ description: 'Contains the text (case-insensitive).' }),
      notContains: t.string({ description: 'Does not contain the text (case-insensitive).' }),
      startsWith: t.string({ description: 'Starts with the text.' }),
      notStartsWith: t.string({ description: 'Does not start with the text.' }),
      endsWith: t.string({ description: 'Ends with the text.' }),
      notEndsWith: t.string({ description: 'Does not end with the text.' }),
      set: t.boolean({ description: 'true: is not null; false: is null.' }),
    }),
  });

  const floatFilter = builder.inputRef<FloatFilterInput, false>('FloatFilter').implement({
    description: 'Conditions on a numeric member; all given conditions must hold. On a measure they filter aggregated values (HAVING).',
    fields: (t) => ({
      equals: t.float({ description: 'Equal to the value.' }),
      notEquals: t.float({ description: 'Not equal to the value.' }),
      in: t.floatList({ description: 'Equal to one of the values.' }),
      notIn: t.floatList({ description: 'Equal to none of the values.' }),
      gt: t.float({ description: 'Greater than.' }),
      gte: t.float({ description: 'Greater than or equal to.' }),
      lt: t.float({ description: 'Less than.' }),
      lte: t.float({ description: 'Less than or equal to.' }),
      set: t.boolean({ description: 'true: is not null; false: is null.' }),
    }),
  });

  const dateTimeFilter = builder.inputRef<DateTimeFilterInput, false>('DateTimeFilter').implement({
    description:
      'Conditions on a time member, in the query time zone. Ranges are inclusive: ["2024-01-01", "2024-01-31"], or one relative phrase ("last 7 days", "this month", "from 2024-01-01 to 2024-02-01").',
    fields: (t) => ({
      inDateRange: t.stringList({ description: 'Within the range: [from, to] or a single relative phrase.' }),
      notInDateRange: t.stringList({ description: 'Outside the range: [from, to] or a single relative phrase.' }),
      beforeDate: t.string({ description: 'Strictly before the date-time.' }),
      beforeOrOnDate: t.string({ description: 'Before or on the date-time.' }),
      afterDate: t.string({ description: 'Strictly after the date-time.' }),
      afterOrOnDate: t.string({ description: 'After or on the date-time.' }),
      set: t.boolean({ description: 'true: is not null; false: is null.' }),
    }),
  });

  const booleanFilter = builder.inputRef<BooleanFilterInput, false>('BooleanFilter').implement({
    description: 'Conditions on a boolean member.',
    fields: (t) => ({
      equals: t.boolean({ description: 'Equal to the value.' }),
      notEquals: t.boolean({ description: 'Not equal to the value.' }),
      set: t.boolean({ description: 'true: is not null; false: is null.' }),
    }),
  });

  const filterFor = (type: ValueType) =>
    type === 'number' ? floatFilter : type === 'time' ? dateTimeFilter : type === 'boolean' ? booleanFilter : stringFilter;

  /** `QueryResult`, implemented by the generic query (generic-query.ts); used by widgets, saved queries, `live`. */
  const queryResult = builder.objectRef<QueryResult>('QueryResult');
  return {
    orderDirection,
    granularity,
    filterFor,
    queryResult,
    /** compareTo input and the comparison answer types (comparison.ts). */
    ...addComparisonTypes(builder, queryResult),
    /** Root field name -> its types (filled by cube-fields.ts). */
    sources: new Map<string, SourceRefs>(),
  };
}

export type SharedTypes = ReturnType<typeof addSharedTypes>;
