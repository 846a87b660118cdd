/** The ClickHouse dialect: a small override of the default dialect. */
import type { Granularity } from '../../semantic/query.js';
import { defaultDialect, type Dialect } from '../dialect.js';
import type { AggregateFn } from '../plan-tree.js';

const AGGREGATES: Readonly<Record<AggregateFn, string>> = {
  count: 'count',
  countDistinct: 'uniqExact',
  countDistinctApprox: 'uniq',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
};

/** Functions returning the start of a period; week = ISO week (Monday), like Cube. */
const START_OF: Readonly<Record<Granularity, string>> = {
  second: 'toStartOfSecond',
  minute: 'toStartOfMinute',
  hour: 'toStartOfHour',
  day: 'toStartOfDay',
  week: 'toMonday',
  month: 'toStartOfMonth',
  quarter: 'toStartOfQuarter',
  year: 'toStartOfYear',
};

export const clickhouseDialect: Dialect = {
  ...defaultDialect,
  name: 'clickhouse',
  capabilities: { lambdas: true, aggregateIf: true },
  quoteIdentifier: (name) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``,
  stringLiteral: (value) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  param: (name, type) => `{${name}:${type}}`,
  aggregate(fn, arg, filter) {
    const name = AGGREGATES[fn];
    // -If combinator: the measure's filters select the rows the aggregate sees.
    if (filter) return `${name}If(${arg ? `${arg}, ` : ''}${filter})`;
    return `${name}(${arg ?? ''})`;
  },
  // toDateTime64(x, 3, tz) keeps the instant of a DateTime and reads a Date as local midnight in tz.
  inZone: (arg, tz) => `toDateTime64(${arg}, 3, ${tz})`,
  // Whole seconds: a DateTime, which a Date or DateTime column compares with more cheaply (time-bounds.ts).
  inZoneSeconds: (arg, tz) => `toDateTime(${arg}, ${tz})`,
  // Date-returning functions (week..year) are turned back into DateTime64(3, tz) at local midnight.
  truncate: (unit, arg, tz) => `toDateTime64(${START_OF[unit]}(${arg}), 3, ${tz})`,
  multiIf: (branches, otherwise) => `multiIf(${branches.map(([w, t]) => `${w}, ${t}`).join(', ')}, ${otherwise})`,
  lambda: (params, body) => `(${params.join(', ')}) -> ${body}`,
  // SQL semantics for outer joins: unmatched columns are NULL, not the type's default (0, '').
  statementSuffix: ({ hasJoins }) => (hasJoins ? 'SETTINGS join_use_nulls = 1' : undefined),
};
