/** The shapes Studio reads from the GraphQL API (a subset of schema/schema.graphql). */

export interface CatalogMember {
  readonly name: string;
  readonly path: string;
  readonly kind: 'measure' | 'dimension' | 'segment';
  readonly type: string;
  readonly aggType: string | null;
  readonly title: string;
  readonly shortTitle: string;
  readonly description: string | null;
  readonly format: string | null;
  readonly requiredScopes: readonly string[];
  readonly synonyms: readonly string[];
  readonly graphqlName: string | null;
  readonly currency: string | null;
}

export interface CatalogCube {
  readonly name: string;
  readonly kind: 'cube' | 'view';
  readonly graphqlField: string | null;
  readonly title: string;
  readonly description: string | null;
  readonly measures: readonly CatalogMember[];
  readonly dimensions: readonly CatalogMember[];
  readonly segments: readonly CatalogMember[];
  readonly coverage: {
    readonly timeDimension: string | null;
    readonly firstDate: string | null;
    readonly lastDate: string | null;
    readonly approxRows: number;
    readonly lastIngestedAt: string | null;
  } | null;
}

export interface Catalog {
  readonly cubes: readonly CatalogCube[];
}

export type Granularity = 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
export type Operator = 'equals' | 'notEquals' | 'contains' | 'notContains' | 'startsWith' | 'endsWith' | 'gt' | 'gte' | 'lt' | 'lte' | 'set' | 'notSet';
export type ComparisonPeriod = 'PREVIOUS_PERIOD' | 'SAME_PERIOD_LAST_YEAR';

export interface Filter {
  readonly member: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/** A query in Cube's REST format, as the builder edits it. */
export interface CubeQuery {
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly timeDimensions: readonly { readonly dimension: string; readonly granularity?: Granularity; readonly dateRange?: string | readonly string[] }[];
  readonly filters: readonly Filter[];
  readonly segments: readonly string[];
  readonly order: readonly (readonly [string, 'asc' | 'desc'])[];
  readonly limit?: number;
}

export interface Annotation {
  readonly member: string;
  readonly kind: string;
  readonly type: string;
  readonly format: string | null;
  readonly title: string;
  readonly shortTitle: string;
  readonly granularity: string | null;
}

export interface MeasureComparison {
  readonly member: string;
  readonly current: number | null;
  readonly previous: number | null;
  readonly change: number | null;
  readonly percentChange: number | null;
}

export interface QueryResult {
  readonly data: readonly Record<string, unknown>[];
  readonly annotation: readonly Annotation[];
  readonly query: Record<string, unknown>;
  readonly notes: readonly { readonly code: string; readonly message: string }[];
  readonly fromCache: boolean;
  readonly lastRefreshTime: string;
  readonly comparison: {
    readonly dateRange: readonly string[];
    readonly compareDateRange: readonly string[];
    readonly rows: readonly { readonly dimensions: Record<string, unknown>; readonly measures: readonly MeasureComparison[] }[];
  } | null;
}

/** The fields of a result every screen asks for (kept in one place so views and builder agree). */
export const RESULT_FIELDS = `data
  annotation { member kind type format title shortTitle granularity }
  query
  notes { code message }
  fromCache
  lastRefreshTime
  comparison { dateRange compareDateRange rows { dimensions measures { member current previous change percentChange } } }`;
