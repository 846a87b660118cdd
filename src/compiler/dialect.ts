/**
 * How plan nodes become SQL text in a given engine. `defaultDialect` is close to ANSI SQL;
 * an engine dialect overrides only what differs (see clickhouse/dialect.ts).
 * Every function receives already-printed operands: dialects never see user values, only
 * parameter placeholders.
 */
import type { Granularity } from '../semantic/query.js';
import type { AggregateFn, ParamType } from './plan-tree.js';

export interface DialectCapabilities {
  /** Lambdas and array functions (rolling windows need them). */
  readonly lambdas: boolean;
  /** Aggregate combinators such as sumIf (otherwise CASE inside the aggregate). */
  readonly aggregateIf: boolean;
}

export interface Dialect {
  readonly name: string;
  readonly capabilities: DialectCapabilities;
  quoteIdentifier(name: string): string;
  stringLiteral(value: string): string;
  param(name: string, type: ParamType): string;
  aggregate(fn: AggregateFn, arg: string | undefined, filter: string | undefined): string;
  /** A time value seen in time zone `tz` (with millisecond precision). */
  inZone(arg: string, tz: string): string;
  /** inZone for a value of whole seconds ('YYYY-MM-DD HH:MM:SS'), when the dialect has a cheaper form. */
  inZoneSeconds?(arg: string, tz: string): string;
  /** Start of the period containing `arg`, which is already in zone `tz`. */
  truncate(unit: Granularity, arg: string, tz: string): string;
  ilike(arg: string, pattern: string, negated: boolean): string;
  multiIf(branches: readonly (readonly [string, string])[], otherwise: string): string;
  lambda(params: readonly string[], body: string): string;
  /** Text appended after the outermost statement (engine settings), if any. */
  statementSuffix(info: { readonly hasJoins: boolean }): string | undefined;
}

const ANSI_AGGREGATES: Readonly<Record<AggregateFn, string>> = {
  count: 'count',
  countDistinct: 'count',
  countDistinctApprox: 'count',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
};

export const defaultDialect: Dialect = {
  name: 'ansi',
  capabilities: { lambdas: false, aggregateIf: false },
  quoteIdentifier: (name) => `"${name.replace(/"/g, '""')}"`,
  stringLiteral: (value) => `'${value.replace(/'/g, "''")}'`,
  param: (name) => `:${name}`,
  aggregate(fn, arg, filter) {
    const distinct = fn === 'countDistinct' || fn === 'countDistinctApprox' ? 'DISTINCT ' : '';
    const value = arg ?? (fn === 'count' ? undefined : 'NULL');
    const inner = filter ? `CASE WHEN ${filter} THEN ${value ?? '1'} END` : (value ?? '*');
    return `${ANSI_AGGREGATES[fn]}(${distinct}${inner})`;
  },
  inZone: (arg, tz) => `(${arg} AT TIME ZONE ${tz})`,
  truncate: (unit, arg) => `date_trunc('${unit}', ${arg})`,
  ilike: (arg, pattern, negated) => `${arg} ${negated ? 'NOT ILIKE' : 'ILIKE'} ${pattern}`,
  multiIf: (branches, otherwise) => `CASE ${branches.map(([w, t]) => `WHEN ${w} THEN ${t}`).join(' ')} ELSE ${otherwise} END`,
  lambda() {
    throw new Error('this dialect has no lambdas');
  },
  statementSuffix: () => undefined,
};
