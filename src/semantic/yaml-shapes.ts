/**
 * Which keys each kind of YAML object may carry, and the shape of each value. The
 * unknown-keys and field-shapes rules are driven by this table.
 */

export type Shape =
  | 'string'
  /** SQL text; YAML may read `sql: 1` as a number, which is accepted. */
  | 'sql'
  | 'boolean'
  | 'map'
  | 'list'
  | 'string-list'
  /** "*" or a list of names / {name, alias, ...} mappings (view includes). */
  | 'includes';

export type ObjectKind =
  | 'root'
  | 'cube'
  | 'view'
  | 'measure'
  | 'dimension'
  | 'segment'
  | 'join'
  | 'refresh_key'
  | 'rolling_window'
  | 'measure_filter'
  | 'case'
  | 'case_when'
  | 'case_else'
  | 'granularity'
  | 'view_cube'
  | 'view_include'
  | 'pre_aggregation';

const common = { name: 'string', title: 'string', description: 'string', meta: 'map', public: 'boolean', shown: 'boolean' } as const;

export const SCHEMA: Readonly<Record<ObjectKind, Readonly<Record<string, Shape>>>> = {
  root: { cubes: 'list', views: 'list' },
  cube: {
    ...common,
    sql_table: 'string',
    sql: 'sql',
    refresh_key: 'map',
    joins: 'list',
    measures: 'list',
    dimensions: 'list',
    segments: 'list',
    pre_aggregations: 'list',
    // Strata extensions
    tenant_column: 'string',
    shared: 'boolean',
    scopes: 'string-list',
  },
  view: { ...common, cubes: 'list' },
  measure: {
    ...common,
    type: 'string',
    sql: 'sql',
    filters: 'list',
    rolling_window: 'map',
    format: 'string',
    currency: 'string',
    drill_members: 'string-list',
    scopes: 'string-list',
  },
  dimension: {
    ...common,
    type: 'string',
    sql: 'sql',
    primary_key: 'boolean',
    case: 'map',
    format: 'string',
    granularities: 'list',
    scopes: 'string-list',
  },
  segment: { ...common, sql: 'sql', scopes: 'string-list' },
  join: { name: 'string', relationship: 'string', sql: 'sql' },
  refresh_key: { every: 'string', sql: 'sql' },
  rolling_window: { trailing: 'string', leading: 'string', offset: 'string' },
  measure_filter: { sql: 'sql' },
  case: { when: 'list', else: 'map' },
  case_when: { sql: 'sql', label: 'string' },
  case_else: { label: 'string' },
  granularity: { name: 'string', title: 'string', interval: 'string', offset: 'string', origin: 'string' },
  view_cube: { join_path: 'string', includes: 'includes', excludes: 'string-list', prefix: 'boolean', alias: 'string' },
  view_include: { name: 'string', alias: 'string', title: 'string', description: 'string' },
  pre_aggregation: {
    name: 'string',
    type: 'string',
    measures: 'string-list',
    dimensions: 'string-list',
    segments: 'string-list',
    time_dimension: 'string',
    granularity: 'string',
    partition_granularity: 'string',
    refresh_key: 'map',
    scheduled_refresh: 'boolean',
  },
};

/** Cube keys that are valid Cube syntax but not implemented by Strata: a clearer message than "unknown key". */
export const UNSUPPORTED: Readonly<Partial<Record<ObjectKind, readonly string[]>>> = {
  cube: ['extends', 'data_source', 'sql_alias', 'rewrite_queries', 'hierarchies', 'calendar', 'access_policy'],
  view: ['extends', 'folders', 'access_policy'],
  measure: ['multi_stage', 'time_shift', 'reduce_by', 'group_by', 'add_group_by', 'order_by'],
  dimension: ['sub_query', 'propagate_filters_to_sub_query', 'multi_stage', 'time_shift', 'order'],
  pre_aggregation: [
    'sql',
    'rollups',
    'build_range_start',
    'build_range_end',
    'indexes',
    'union_with_source_data',
    'lambda',
    'external',
    'use_original_sql_pre_aggregations',
    'allow_non_strict_date_range_match',
    'update_window',
    'incremental',
    'time_dimensions',
    'unique_key_columns',
    'build_range',
  ],
};

/** Pre-aggregation types Cube knows; Strata builds `rollup` only. */
export const PRE_AGGREGATION_TYPES = ['rollup', 'original_sql', 'rollup_join', 'rollup_lambda', 'auto_rollup'] as const;

/** Granularities a rollup may be built at (finest first). */
export const ROLLUP_GRANULARITIES = ['day', 'week', 'month', 'quarter', 'year'] as const;

export const MEASURE_TYPES = ['count', 'count_distinct', 'count_distinct_approx', 'sum', 'avg', 'min', 'max', 'number', 'string', 'time', 'boolean'] as const;

export const DIMENSION_TYPES = ['string', 'number', 'time', 'boolean'] as const;

export const FORMATS = ['percent', 'currency', 'number', 'integer', 'id', 'imageUrl', 'link'] as const;

export const RELATIONSHIPS: Readonly<Record<string, 'many_to_one' | 'one_to_many' | 'one_to_one'>> = {
  many_to_one: 'many_to_one',
  manyToOne: 'many_to_one',
  belongs_to: 'many_to_one',
  belongsTo: 'many_to_one',
  one_to_many: 'one_to_many',
  oneToMany: 'one_to_many',
  has_many: 'one_to_many',
  hasMany: 'one_to_many',
  one_to_one: 'one_to_one',
  oneToOne: 'one_to_one',
  has_one: 'one_to_one',
  hasOne: 'one_to_one',
};

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Scope strings such as "finance:read" or "marketing.spend". */
export const SCOPE = /^[A-Za-z0-9_][A-Za-z0-9_:.\-*/]*$/;
