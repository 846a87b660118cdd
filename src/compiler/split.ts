/**
 * Range splits and grouping sets: what lets several semantic queries over the same rows share one
 * statement (the planner's split branch builds it; query/execution.ts cuts each query's rows out).
 */
import type { LocalDateTime } from '../semantic/query.js';
import { call, ident, type Expr } from './plan-tree.js';

/**
 * Several date ranges of ONE time dimension answered by one statement: the WHERE keeps the
 * query's own (covering) range, and every measure is computed once per range with its
 * aggregates restricted to that range (-If combinators), so the rows are read once.
 */
export interface RangeSplit {
  /** Index into the query's timeDimensions. */
  readonly td: number;
  readonly ranges: readonly (readonly [LocalDateTime, LocalDateTime])[];
  /**
   * Grouping sets, each a list of dimension column keys of the query ("cube.dim", "cube.time.day"):
   * several queries with different dimensions answered by one scan (GROUP BY GROUPING SETS).
   * Absent: one grouping by every dimension of the query.
   */
  readonly sets?: readonly (readonly string[])[];
}

export interface SplitColumns {
  /** Rows of the range in each group: a group with 0 does not exist for that range. */
  readonly countAlias: string;
  /** Measure alias of the plain query -> its alias for this range. */
  readonly measureAliases: Readonly<Record<string, string>>;
}

/** The query cannot be split by range (rolling windows, fan-out, HAVING, custom aggregates...). */
export class SplitUnsupportedError extends Error {}

/** A dimension column as grouping sets see it. */
export interface GroupingColumn {
  readonly key: string;
  readonly alias: string;
  readonly expr: Expr;
}

export const SET_ALIAS = '__grouping_set';

/** What `grouping(columns…)` gives a row of `set` (SQL standard: bit = 1 when that column is NOT in the set; the last column is bit 0). */
export function groupingMask(columns: readonly string[], set: readonly string[]): number {
  return columns.reduce((mask, c, i) => (set.includes(c) ? mask : mask | (1 << (columns.length - 1 - i))), 0);
}

/**
 * GROUPING SETS over the dimension columns, and the mask `grouping(all dims)` gives each set's rows
 * (SQL standard: bit = 1 when that column is NOT in the row's set; the last argument is bit 0).
 */
export function groupingSets(dims: readonly GroupingColumn[], sets: readonly (readonly string[])[]): { exprs: Expr[][]; masks: number[]; column: Expr } {
  // Dimensions with the same expression (a view's member and its cube's) are one grouping column:
  // ClickHouse groups by expressions, so two aliases of one expression cannot be told apart.
  const reps: GroupingColumn[] = [];
  const repOf = new Map<string, number>();
  const byExpr = new Map<string, number>();
  for (const d of dims) {
    const sig = JSON.stringify(d.expr);
    let r = byExpr.get(sig);
    if (r === undefined) {
      r = reps.push(d) - 1;
      byExpr.set(sig, r);
    }
    repOf.set(d.key, r);
  }
  if (reps.length > 30) throw new SplitUnsupportedError('too many dimensions for grouping sets');
  const exprs: Expr[][] = [];
  const masks: number[] = [];
  for (const set of sets) {
    const members = [
      ...new Set(
        set.map((key) => {
          const r = repOf.get(key);
          if (r === undefined) throw new SplitUnsupportedError(`grouping set names an unknown dimension ${key}`);
          return r;
        }),
      ),
    ].sort((a, b) => a - b);
    // Sets that name the same columns (through different members) are one grouping set: listed twice,
    // ClickHouse would return their rows twice.
    if (!exprs.some((e) => e.length === members.length && e.every((x, k) => x.kind === 'ident' && x.name === reps[members[k]].alias))) {
      exprs.push(members.map((r) => ident(reps[r].alias)));
    }
    masks.push(
      groupingMask(
        reps.map((d) => d.alias),
        members.map((r) => reps[r].alias),
      ),
    );
  }
  return { exprs, masks, column: call('grouping', ...reps.map((d) => ident(d.alias))) };
}
