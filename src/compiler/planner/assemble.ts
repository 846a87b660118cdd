/**
 * Stage 6 — assemble: pick the plan's shape from the earlier stages and build it — a range split,
 * one stage (below; grouped over lookup joins, aggregated before them: eager.ts), or several stages
 * (multi-stage.ts) — then ORDER BY the query's order.
 */
import type { Measure } from '../../semantic/model.js';
import { aggregateOf, rowValueOf, measureValue } from '../measures.js';
import { and, ident, type Select } from '../plan-tree.js';
import type { RangeSplit } from '../split.js';
import { orderItems } from './columns.js';
import { aggregateBeforeJoins } from './eager.js';
import { assembleMultiStage } from './multi-stage.js';
import type { PlanParts, Planned } from './parts.js';
import { assembleRangeSplit } from './range-split.js';
import { havingClause } from './where.js';

export function assemblePlan(parts: PlanParts, split?: RangeSplit): Planned {
  if (split) return assembleRangeSplit(parts, split);
  const query = parts.groups.multiStage
    ? assembleMultiStage(parts)
    : parts.query.ungrouped
      ? assembleOneStage(parts)
      : aggregateBeforeJoins(assembleOneStage(parts), parts.source.tree, parts.columns.dimensions.length);
  const { columns, source } = parts;
  return { query: { ...query, orderBy: orderItems(parts.query.order, columns.all) }, columns: columns.all, cubes: source.tree.cubes };
}

/**
 * Shape 1: SELECT dims, aggregates FROM <join tree> WHERE … GROUP BY dims HAVING …; ungrouped, the
 * measures are row values, there is no GROUP BY and the measure filters join the WHERE.
 */
export function assembleOneStage(parts: PlanParts): Select {
  const { model, query: q, members, source, columns, where } = parts;
  const leaf = (m: Measure) => (q.ungrouped ? rowValueOf(m, source.scope) : aggregateOf(m, source.scope));
  const having = havingClause(model, members.havingFilters, where.ctx, leaf, source.scope);
  return source.select({
    columns: [
      ...columns.dimensions.map((c) => ({ expr: c.expr, alias: c.alias })),
      ...members.measures.map((r, i) => ({ expr: measureValue(model, r.member, leaf, source.scope), alias: columns.measures[i].alias })),
    ],
    where: q.ungrouped ? and(where.except(), having) : where.except(),
    groupBy: q.ungrouped ? [] : columns.dimensions.map((c) => ident(c.alias)),
    having: q.ungrouped ? undefined : having,
  });
}
