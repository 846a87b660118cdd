/**
 * The resolved semantic model: what `loadModel` produces from the YAML under cube-models/ and
 * what the compiler consumes. Pure data, immutable after loading. Member paths are
 * "cube.member" (or "view.member" for view members).
 */

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/**
 * A SQL snippet written by a model author (trusted text), pre-parsed at load time so the
 * compiler never parses strings. References are resolved by the compiler:
 *  - `{CUBE}` / `{cube_name}` (a cube reference) -> the cube's table alias
 *  - `{CUBE.member}`, `{member}`, `{other_cube.member}` -> that member's SQL expression
 *    (a measure reference is only legal inside a `number` measure)
 */
export type SqlPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'cube'; readonly cube: string }
  | { readonly kind: 'member'; readonly cube: string; readonly member: string };

export interface SqlTemplate {
  readonly parts: readonly SqlPart[];
  /** The original text, for error messages and the catalog. */
  readonly source: string;
}

export type IntervalUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

export interface Interval {
  readonly amount: number;
  readonly unit: IntervalUnit;
}

export type MemberFormat = 'percent' | 'currency' | 'number' | 'integer' | 'id' | 'imageUrl' | 'link';

/** Fields every member kind has. */
interface MemberBase {
  readonly cube: string;
  readonly name: string;
  /** "cube.name" */
  readonly path: string;
  readonly title: string;
  readonly shortTitle: string;
  readonly description?: string;
  readonly meta: Readonly<Record<string, unknown>>;
  /** Non-public members are not queryable through any door and are absent from catalogs. */
  readonly public: boolean;
  /** Scopes a caller needs to read this member: the cube's scopes plus the member's own. */
  readonly scopes: readonly string[];
  readonly location: SourceLocation;
}

export type MeasureType = 'count' | 'count_distinct' | 'count_distinct_approx' | 'sum' | 'avg' | 'min' | 'max' | 'number' | 'string' | 'time' | 'boolean';

export interface RollingWindow {
  /** Trailing window, e.g. 7 day, or 'unbounded' (running total). */
  readonly trailing?: Interval | 'unbounded';
  readonly leading?: Interval | 'unbounded';
  readonly offset: 'start' | 'end';
}

export interface Measure extends MemberBase {
  readonly kind: 'measure';
  readonly type: MeasureType;
  /** Absent for `count` without sql (count of rows / primary keys). */
  readonly sql?: SqlTemplate;
  /** Cube measure filters: each a boolean SQL condition, ANDed. */
  readonly filters: readonly SqlTemplate[];
  readonly rollingWindow?: RollingWindow;
  readonly format?: MemberFormat;
  /** ISO currency code for currency formats, e.g. "USD". */
  readonly currency?: string;
  readonly drillMembers: readonly string[];
}

export type DimensionType = 'string' | 'number' | 'time' | 'boolean';

export interface CaseDimension {
  readonly when: readonly { readonly sql: SqlTemplate; readonly label: string }[];
  readonly else?: string;
}

/** A custom time granularity declared on a time dimension (Cube `granularities`). */
export interface CustomGranularity {
  readonly name: string;
  readonly title: string;
  /** Bucket size, e.g. 2 week. */
  readonly interval: Interval;
  /** Shift of bucket boundaries, e.g. 8 hour (fiscal days). Exclusive with origin. */
  readonly offset?: Interval;
  /** A local date-time buckets are aligned to. Exclusive with offset. */
  readonly origin?: string;
}

export interface Dimension extends MemberBase {
  readonly kind: 'dimension';
  readonly type: DimensionType;
  /** Absent only when `case` is given. */
  readonly sql?: SqlTemplate;
  readonly case?: CaseDimension;
  readonly primaryKey: boolean;
  readonly format?: MemberFormat;
  /** Custom granularities of a time dimension, keyed by name (absent when none are declared). */
  readonly granularities?: Readonly<Record<string, CustomGranularity>>;
}

export interface Segment extends MemberBase {
  readonly kind: 'segment';
  readonly sql: SqlTemplate;
}

export type Member = Measure | Dimension | Segment;

export type Relationship = 'many_to_one' | 'one_to_many' | 'one_to_one';

export interface Join {
  /** The joined cube's name. */
  readonly target: string;
  readonly relationship: Relationship;
  /** The ON condition, referencing both cubes ({CUBE}.x = {campaigns}.y). */
  readonly sql: SqlTemplate;
  readonly location: SourceLocation;
}

/** Strata extension: how a cube is scoped to tenants. Secure by default. */
export type TenantScope = { readonly kind: 'column'; readonly column: string } | { readonly kind: 'shared' };

export interface RefreshKey {
  /** Re-check every N seconds (Cube's `every`). */
  readonly everySeconds?: number;
  /** A SQL whose result changes when the data changes; evaluated per tenant. */
  readonly sql?: SqlTemplate;
}

/**
 * A Cube `rollup` pre-aggregation (Cube syntax under `pre_aggregations`): the cube's measures
 * aggregated per tenant by the listed dimensions, segments and the time dimension at `granularity`.
 * Which measures it can serve and how its table is built: semantic/rollups.ts.
 */
export interface PreAggregation {
  readonly name: string;
  readonly cube: string;
  /** Measure names of the cube, as listed (number measures bring the measures they reference). */
  readonly measures: readonly string[];
  readonly dimensions: readonly string[];
  readonly segments: readonly string[];
  readonly timeDimension?: string;
  /** day | week | month | quarter | year (finer grains are refused: a rollup that small saves little). */
  readonly granularity?: 'day' | 'week' | 'month' | 'quarter' | 'year';
  /** ClickHouse partitions of the rollup table (default month). */
  readonly partitionGranularity: 'day' | 'week' | 'month' | 'quarter' | 'year';
  /** Cube's refresh_key.every: how often writes made outside Strata's ingestion are folded in. */
  readonly refreshEverySeconds?: number;
  readonly location: SourceLocation;
}

export interface Cube {
  readonly kind: 'cube';
  readonly name: string;
  readonly title: string;
  readonly description?: string;
  /** Exactly one of sqlTable / sql is set. */
  readonly sqlTable?: string;
  readonly sql?: SqlTemplate;
  readonly tenant: TenantScope;
  readonly measures: Readonly<Record<string, Measure>>;
  readonly dimensions: Readonly<Record<string, Dimension>>;
  readonly segments: Readonly<Record<string, Segment>>;
  /** Outgoing joins keyed by target cube name. */
  readonly joins: Readonly<Record<string, Join>>;
  /** Names of primary-key dimensions (needed for fan-out-safe aggregation). */
  readonly primaryKey: readonly string[];
  readonly refreshKey?: RefreshKey;
  /** Cube `pre_aggregations` of type rollup (absent when none are declared). */
  readonly preAggregations?: readonly PreAggregation[];
  readonly public: boolean;
  /** Scopes required for every member of the cube. */
  readonly scopes: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

export interface ViewMember {
  /** Name exposed by the view (after prefix / alias). */
  readonly name: string;
  /** "view.name" */
  readonly path: string;
  readonly kind: Member['kind'];
  /** The cube member it stands for, e.g. "campaigns.name". */
  readonly target: string;
  /** Cubes from the view's root to the member's cube, e.g. ["ad_performance", "campaigns"]. */
  readonly joinPath: readonly string[];
  readonly title: string;
  readonly description?: string;
  readonly public: boolean;
  readonly scopes: readonly string[];
}

export interface View {
  readonly kind: 'view';
  readonly name: string;
  readonly title: string;
  readonly description?: string;
  readonly members: Readonly<Record<string, ViewMember>>;
  readonly public: boolean;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly location: SourceLocation;
}

export interface Model {
  readonly cubes: Readonly<Record<string, Cube>>;
  readonly views: Readonly<Record<string, View>>;
}

/** A member reference resolved against the model (views resolved to their cube member). */
export interface ResolvedMember {
  /** The path the caller used: "cube.m" or "view.m". */
  readonly path: string;
  readonly member: Member;
  /** Set when the caller named a view member. */
  readonly view?: { readonly view: View; readonly viewMember: ViewMember };
}
