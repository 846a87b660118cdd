/**
 * Period comparison in GraphQL: the `compareTo: ComparisonInput` argument (generic `query`, typed
 * root fields, dashboards, saved queries) and the types of its answer. The numbers come from the
 * query service (QueryResult.comparison); this file only names them.
 */
import type { InputObjectRef, ObjectRef } from '@pothos/core';
import { UserError } from '../errors.js';
import type { ComparisonResult, ComparisonRow, MeasureChange, QueryResult } from '../query/types.js';
import type { Comparison, ComparisonPeriod } from '../semantic/query.js';
import type { StrataBuilder, StrataTypes } from './builder.js';

export interface ComparisonInputValue {
  period?: ComparisonPeriod | null;
  dateRange?: string[] | null;
}

/** A measure's values in both periods, named for GraphQL. */
export interface MeasureComparisonValue extends MeasureChange {
  readonly member: string;
}

export interface ComparisonTypes {
  readonly comparisonInput: InputObjectRef<StrataTypes, ComparisonInputValue>;
  readonly measureComparison: ObjectRef<StrataTypes, MeasureComparisonValue>;
  readonly queryComparison: ObjectRef<StrataTypes, ComparisonResult>;
}

/** The argument -> the semantic query's `compareTo` (one relative phrase or [from, to]). */
export function comparisonOf(input: ComparisonInputValue | null | undefined): Comparison | undefined {
  if (!input) return undefined;
  const hasPeriod = input.period != null;
  const hasRange = input.dateRange != null;
  if (hasPeriod === hasRange) throw new UserError('BAD_USER_INPUT', 'compareTo needs exactly one of period or dateRange');
  if (hasPeriod) return { period: input.period! };
  const r = input.dateRange!;
  if (r.length < 1 || r.length > 2)
    throw new UserError('BAD_USER_INPUT', `compareTo.dateRange takes [from, to] or one relative phrase, got ${r.length} values`);
  return { dateRange: r.length === 1 ? r[0] : [r[0], r[1]] };
}

export function addComparisonTypes(builder: StrataBuilder, queryResult: ObjectRef<StrataTypes, QueryResult>): ComparisonTypes {
  const period = builder.enumType('ComparisonPeriod', {
    description: 'A comparison period relative to the query date range.',
    values: {
      PREVIOUS_PERIOD: {
        value: 'previousPeriod' as ComparisonPeriod,
        description: 'The same length right before (whole months shift by months: "this month" vs all of last month).',
      },
      SAME_PERIOD_LAST_YEAR: { value: 'samePeriodLastYear' as ComparisonPeriod, description: 'The same dates one year earlier.' },
    },
  });
  const comparisonInput = builder.inputRef<ComparisonInputValue, false>('ComparisonInput').implement({
    description: 'What to compare the date range of the query with: give `period` or `dateRange`. The query needs one time dimension with a date range.',
    fields: (t) => ({
      period: t.field({ type: period, description: 'Relative to the query date range.' }),
      dateRange: t.stringList({ description: 'An explicit range: [from, to] or one relative phrase ("last month").' }),
    }),
  });
  const direction = builder.enumType('ChangeDirection', {
    values: { UP: { value: 'up' as const }, DOWN: { value: 'down' as const }, FLAT: { value: 'flat' as const } },
  });
  const measureComparison = builder.objectRef<MeasureComparisonValue>('MeasureComparison').implement({
    description: 'A measure in the current and the comparison period. A row missing in one period counts as 0 there for counts and sums, else null.',
    fields: (t) => ({
      member: t.exposeString('member', { description: '"cube.measure".' }),
      current: t.float({ nullable: true, resolve: (m) => m.current }),
      previous: t.float({ nullable: true, description: 'The value in the comparison period.', resolve: (m) => m.previous }),
      change: t.float({ nullable: true, description: 'current - previous.', resolve: (m) => m.change }),
      percentChange: t.float({
        nullable: true,
        description: 'Change in percent of the previous value (12.5 = +12.5 %); null when the previous value is 0 or unknown.',
        resolve: (m) => m.percentChange,
      }),
      direction: t.field({ type: direction, nullable: true, resolve: (m) => m.direction }),
    }),
  });
  const row = builder.objectRef<ComparisonRow>('ComparisonRow').implement({
    description: 'A row matched across both periods on its dimensions and its time bucket position (day 1 vs day 1).',
    fields: (t) => ({
      dimensions: t.field({
        type: 'JSON',
        description: 'Dimension values keyed like `data`, time buckets on the current period axis.',
        resolve: (r) => r.dimensions,
      }),
      compareDimensions: t.field({
        type: 'JSON',
        nullable: true,
        description: 'The time buckets of the comparison period (null when the row exists in the current period only).',
        resolve: (r) => r.compareDimensions,
      }),
      measures: t.field({
        type: [measureComparison],
        resolve: (r) => Object.entries(r.measures).map(([member, m]) => ({ member, ...m })),
      }),
    }),
  });
  const queryComparison = builder.objectRef<ComparisonResult>('QueryComparison').implement({
    description: 'The query compared with another period.',
    fields: (t) => ({
      timeDimension: t.exposeString('timeDimension', { description: 'The time dimension whose range is compared.' }),
      dateRange: t.stringList({ description: 'The current range (local, inclusive).', resolve: (c) => [...c.dateRange] }),
      compareDateRange: t.stringList({ description: 'The comparison range (local, inclusive).', resolve: (c) => [...c.compareDateRange] }),
      previous: t.field({ type: queryResult, description: 'The comparison period result on its own.', resolve: (c) => c.previous }),
      rows: t.field({ type: [row], description: 'Current rows in their order, then rows only the comparison period has.', resolve: (c) => [...c.rows] }),
    }),
  });
  return { comparisonInput, measureComparison, queryComparison };
}
