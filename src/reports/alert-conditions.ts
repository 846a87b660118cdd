/**
 * Alert conditions (pure): checked when a rule is saved, then applied to each evaluation's result.
 * A threshold or a change is judged per result row, so a query grouped by campaign gives one alert
 * state per campaign; a row count is one state for the whole result.
 */
import { UserError } from '../errors.js';
import type { CellValue, QueryResult } from '../query/types.js';
import type { Comparison, SemanticQuery } from '../semantic/query.js';
import type { Observation } from '../store/alerts.js';

export const OPS = ['<', '<=', '>', '>=', '=', '!='] as const;
export type Op = (typeof OPS)[number];

export type AlertCondition =
  | { readonly kind: 'threshold'; readonly measure: string; readonly op: Op; readonly value: number }
  | {
      readonly kind: 'change';
      readonly measure: string;
      readonly op: Op;
      readonly value: number;
      /** percent: the percent change (50 = +50 %); absolute: current - previous. */
      readonly unit: 'percent' | 'absolute';
      readonly compareTo: Comparison;
    }
  | { readonly kind: 'rowCount'; readonly op: Op; readonly value: number };

const bad = (message: string, reason: string) => new UserError('BAD_USER_INPUT', `alert condition: ${message}`, { reason });

/** Validates a caller's condition against the rule's query (its measures). */
export function checkCondition(value: unknown, query: SemanticQuery): AlertCondition {
  const v = (value ?? {}) as Record<string, unknown>;
  const op = v.op as Op;
  if (!OPS.includes(op)) throw bad(`op must be one of ${OPS.join(' ')}`, 'bad_condition');
  if (typeof v.value !== 'number' || !Number.isFinite(v.value)) throw bad('value must be a finite number', 'bad_condition');
  if (v.kind === 'rowCount') return { kind: 'rowCount', op, value: v.value };
  if (v.kind !== 'threshold' && v.kind !== 'change') throw bad('kind must be "threshold", "change" or "rowCount"', 'bad_condition');
  const measures = query.measures ?? [];
  if (typeof v.measure !== 'string' || !measures.includes(v.measure)) {
    throw bad(`measure must be one of the query's measures (${measures.join(', ') || 'none'})`, 'unknown_measure');
  }
  if (v.kind === 'threshold') return { kind: 'threshold', measure: v.measure, op, value: v.value };
  const unit = v.unit ?? 'percent';
  if (unit !== 'percent' && unit !== 'absolute') throw bad('unit must be "percent" or "absolute"', 'bad_condition');
  const c = (v.compareTo ?? query.compareTo ?? { period: 'previousPeriod' }) as Comparison;
  // Its shape only: the period names and ranges are the query service's to check (compile, when saved).
  if (typeof c !== 'object' || c === null || (typeof c.period !== 'string' && !c.dateRange)) {
    throw bad('compareTo is {period} or {dateRange}', 'bad_condition');
  }
  return { kind: 'change', measure: v.measure, op, value: v.value, unit, compareTo: c };
}

/** The query an evaluation runs: a change condition compares periods, the others do not. */
export function evaluationQuery(query: SemanticQuery, c: AlertCondition): SemanticQuery {
  const { compareTo: _c, ...rest } = query;
  return c.kind === 'change' ? { ...rest, compareTo: c.compareTo } : rest;
}

export function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '=':
      return a === b;
    default:
      return a !== b;
  }
}

const numeric = (v: CellValue | undefined): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** One observation per result row (keyed on its dimension values), or one for a row count. */
export function observe(c: AlertCondition, result: QueryResult): Observation[] {
  if (c.kind === 'rowCount') {
    const n = result.rows.length;
    return [{ key: '[]', dimensions: {}, value: n, holds: compare(n, c.op, c.value) }];
  }
  if (c.kind === 'change') {
    return (result.comparison?.rows ?? []).map((r) => {
      const m = r.measures[c.measure];
      const value = m ? (c.unit === 'percent' ? m.percentChange : m.change) : null;
      return { key: JSON.stringify(r.dimensions), dimensions: r.dimensions, value, holds: value !== null && compare(value, c.op, c.value) };
    });
  }
  const dims = result.columns.filter((col) => col.kind !== 'measure').map((col) => col.key);
  return result.rows.map((row) => {
    const dimensions = Object.fromEntries(dims.map((k) => [k, row[k] ?? null]));
    const value = numeric(row[c.measure]);
    return { key: JSON.stringify(dimensions), dimensions, value, holds: value !== null && compare(value, c.op, c.value) };
  });
}
