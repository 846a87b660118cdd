/**
 * The semantic query: Cube's REST query shape, spoken by every door. Doors parse their own
 * protocol into this; the query service validates and normalizes it; the compiler turns the
 * normalized form into SQL.
 */

export const GRANULARITIES = ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Absolute ["2024-01-01", "2024-01-31"] or relative text ("last 7 days", "this month", "from X to Y"). */
export type DateRange = string | readonly [string, string];

export interface TimeDimensionQuery {
  readonly dimension: string;
  readonly granularity?: Granularity;
  readonly dateRange?: DateRange;
  readonly compareDateRange?: readonly DateRange[];
}

export const FILTER_OPERATORS = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'startsWith',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'gt',
  'gte',
  'lt',
  'lte',
  'set',
  'notSet',
  'inDateRange',
  'notInDateRange',
  'beforeDate',
  'beforeOrOnDate',
  'afterDate',
  'afterOrOnDate',
  'measureFilter',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export type FilterValue = string | number | boolean | null;

export interface MemberFilter {
  /** Cube also accepts the legacy key `dimension`; normalization maps it to `member`. */
  readonly member: string;
  readonly operator: FilterOperator;
  readonly values?: readonly FilterValue[];
}

export type Filter = MemberFilter | { readonly and: readonly Filter[] } | { readonly or: readonly Filter[] };

export type OrderDirection = 'asc' | 'desc';

export interface SemanticQuery {
  readonly measures?: readonly string[];
  readonly dimensions?: readonly string[];
  readonly segments?: readonly string[];
  readonly timeDimensions?: readonly TimeDimensionQuery[];
  readonly filters?: readonly Filter[];
  /** Object form {member: dir} (insertion order) or array form [[member, dir], ...]. */
  readonly order?: Readonly<Record<string, OrderDirection>> | readonly (readonly [string, OrderDirection])[];
  readonly limit?: number;
  readonly offset?: number;
  readonly total?: boolean;
  /** IANA time zone for time truncation and relative ranges; default UTC. */
  readonly timezone?: string;
  readonly ungrouped?: boolean;
  /** Compare with another period: the ranged time dimension's range shifted, or an explicit range. */
  readonly compareTo?: Comparison;
  /** "zero": every bucket of the (one) granular, ranged time dimension gets a row (query/zero-fill.ts). */
  readonly fill?: 'zero';
}

export const COMPARISON_PERIODS = ['previousPeriod', 'samePeriodLastYear'] as const;
export type ComparisonPeriod = (typeof COMPARISON_PERIODS)[number];

/** Exactly one of `period` (relative to the query's own date range) or `dateRange` (explicit). */
export interface Comparison {
  readonly period?: ComparisonPeriod;
  readonly dateRange?: DateRange;
}

// ---- Normalized form (after validation, relative ranges resolved) ----

/** A local date-time "YYYY-MM-DDTHH:mm:ss.SSS" in the query's time zone. */
export type LocalDateTime = string;

export interface NormalizedTimeDimension {
  readonly dimension: string;
  readonly granularity?: Granularity;
  /** Inclusive bounds, local to the query time zone. */
  readonly dateRange?: readonly [LocalDateTime, LocalDateTime];
}

export type NormalizedFilter =
  | { readonly kind: 'member'; readonly member: string; readonly operator: FilterOperator; readonly values: readonly FilterValue[] }
  | { readonly kind: 'and'; readonly filters: readonly NormalizedFilter[] }
  | { readonly kind: 'or'; readonly filters: readonly NormalizedFilter[] };

export interface NormalizedQuery {
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly segments: readonly string[];
  readonly timeDimensions: readonly NormalizedTimeDimension[];
  readonly filters: readonly NormalizedFilter[];
  readonly order: readonly (readonly [string, OrderDirection])[];
  readonly limit: number;
  readonly offset: number;
  readonly total: boolean;
  readonly timezone: string;
  readonly ungrouped: boolean;
}
