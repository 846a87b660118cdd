/**
 * Stage 4 — conditions: WHERE from the dimension filters, segments and date ranges (built once, so
 * every branch of a plan shares their parameters), and HAVING from the measure filters.
 */
import { invariant } from '../../errors.js';
import type { Measure, Model } from '../../semantic/model.js';
import type { LocalDateTime, NormalizedFilter } from '../../semantic/query.js';
import { filterExpr, type FilterContext } from '../filters.js';
import { atOrBefore, timeBound } from '../time-bounds.js';
import { coerceValue } from '../values.js';
import { measureValue } from '../measures.js';
import { and, binary, type Expr, type ParamBag } from '../plan-tree.js';
import { renderDimension, renderMeasureFilters, renderSegment, type RenderScope } from '../render.js';
import type { QueryMembers } from './resolve.js';

export interface WherePlan {
  /** How filters render over the join tree (also binds the parameters of split ranges). */
  readonly ctx: FilterContext;
  /** The WHERE condition; with `skipTd`, without the date range of that time dimension. */
  except(skipTd?: number): Expr | undefined;
}

export function whereClause(model: Model, members: QueryMembers, scope: RenderScope, params: ParamBag, tz: Expr): WherePlan {
  const ctx: FilterContext = {
    model,
    params,
    tz,
    memberExpr: (member) => {
      invariant(member.kind === 'dimension', 'WHERE filters compare dimensions');
      return renderDimension(member, scope);
    },
    measureFilters: (m) => renderMeasureFilters(m, scope),
  };
  const base = and(...members.whereFilters.map((f) => filterExpr(f, ctx)), ...members.segments.map((s) => renderSegment(s.member, scope)));
  const ranges = members.timeDimensions.map(({ td, resolved }) =>
    td.dateRange ? inDateRange(ctx, td.dimension, renderDimension(resolved.member, scope), td.dateRange) : undefined,
  );
  return { ctx, except: (skipTd) => and(base, ...ranges.filter((_, i) => i !== skipTd)) };
}

/** `x >= from AND x <= to`, both bounds bound as parameters (from first). */
export function inDateRange(ctx: Pick<FilterContext, 'params' | 'tz'>, path: string, x: Expr, range: readonly [LocalDateTime, LocalDateTime]): Expr {
  const [from, to] = range.map((v) => coerceValue(path, 'time', v) as string);
  return and(binary('>=', x, timeBound(ctx.params, ctx.tz, from)), atOrBefore(ctx.params, ctx.tz, x, to))!;
}

/**
 * HAVING over the measure filters: each compared measure is rendered with `leaf` for its leaf
 * aggregates, in `scope` (the join tree in one stage, the combined leaf columns in several).
 */
export function havingClause(
  model: Model,
  filters: readonly NormalizedFilter[],
  ctx: FilterContext,
  leaf: (m: Measure) => Expr,
  scope: RenderScope,
): Expr | undefined {
  return and(...filters.map((f) => filterExpr(f, { ...ctx, memberExpr: (m) => measureValue(model, m as Measure, leaf, scope) })));
}
