/** How a measure becomes an expression: aggregated, row-level (ungrouped), or derived from others. */
import { UserError, invariant } from '../errors.js';
import type { Measure, Model } from '../semantic/model.js';
import { NULL, and, isNull, literal, type AggregateFn, type Expr } from './plan-tree.js';
import { isDerived, referencedMeasures, renderDimension, renderMeasureFilters, renderTemplate, type RenderScope } from './render.js';

const AGGREGATE_OF: Partial<Record<Measure['type'], AggregateFn>> = {
  count: 'count',
  count_distinct: 'countDistinct',
  count_distinct_approx: 'countDistinctApprox',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
};

/** Aggregates that give the same answer when rows are repeated by a join. */
const DUPLICATE_INSENSITIVE = new Set<Measure['type']>(['count_distinct', 'count_distinct_approx', 'min', 'max']);

export function isDuplicateSensitive(m: Measure): boolean {
  return !DUPLICATE_INSENSITIVE.has(m.type);
}

/** count without sql counts the cube's rows: its (single) primary key, so outer-joined NULL rows do not count. */
function countArg(m: Measure, scope: RenderScope): Expr | undefined {
  if (m.sql) return renderTemplate(m.sql, scope);
  const cube = scope.model.cubes[m.cube];
  if (cube.primaryKey.length !== 1) return undefined;
  return renderDimension(cube.dimensions[cube.primaryKey[0]], scope);
}

/** The aggregate of a non-derived measure over the rows visible in `scope`. */
export function aggregateOf(m: Measure, scope: RenderScope): Expr {
  const fn = AGGREGATE_OF[m.type];
  const filter = renderMeasureFilters(m, scope);
  if (fn === 'count') return { kind: 'aggregate', fn, arg: countArg(m, scope), filter };
  invariant(m.sql, `measure ${m.path} of type ${m.type} has no sql`);
  const arg = renderTemplate(m.sql, scope);
  if (fn) return { kind: 'aggregate', fn, arg, filter };
  // number / string / time / boolean: the author's own aggregate expression.
  if (filter)
    throw new UserError('BAD_USER_INPUT', `measure "${m.path}" of type ${m.type} cannot apply filters; use a sum/count/avg/min/max measure`, {
      member: m.path,
    });
  return arg;
}

/** A measure's value on one row, for ungrouped queries. */
export function rowValueOf(m: Measure, scope: RenderScope): Expr {
  const filter = renderMeasureFilters(m, scope);
  const fn = AGGREGATE_OF[m.type];
  if (!fn) {
    throw new UserError('BAD_USER_INPUT', `measure "${m.path}" (type ${m.type}) is an aggregate expression and cannot be used in an ungrouped query`, {
      member: m.path,
    });
  }
  if (fn === 'count') {
    // 1 when the row counts (passes the filters and, for count(sql), has a value), else 0.
    const counts = and(filter, m.sql && isNull(renderTemplate(m.sql, scope), true));
    return counts ? { kind: 'multiIf', branches: [{ when: counts, then: literal(1) }], otherwise: literal(0) } : literal(1);
  }
  const value = renderTemplate(m.sql!, scope);
  return filter ? { kind: 'multiIf', branches: [{ when: filter, then: value }], otherwise: NULL } : value;
}

/**
 * A measure's value given how its leaves (non-derived measures) are computed. Derived number
 * measures substitute their references recursively.
 */
export function measureValue(model: Model, m: Measure, leaf: (m: Measure) => Expr, scope: RenderScope): Expr {
  if (!isDerived(model, m)) return leaf(m);
  return renderTemplate(m.sql!, { ...scope, model, alias: scope.alias, measureRef: (ref) => measureValue(model, ref, leaf, scope) });
}

/** The non-derived measures a measure is computed from (itself when it is not derived). */
export function leavesOf(model: Model, m: Measure, out = new Map<string, Measure>(), depth = 0): Map<string, Measure> {
  invariant(depth < 32, `number measure ${m.path} references itself`);
  if (!isDerived(model, m)) {
    out.set(m.path, m);
    return out;
  }
  if (m.rollingWindow) {
    throw new UserError('BAD_USER_INPUT', `measure "${m.path}": rolling_window on a number measure is not supported; put it on the measures it references`, {
      member: m.path,
    });
  }
  for (const ref of referencedMeasures(model, m)) leavesOf(model, ref, out, depth + 1);
  return out;
}
