/**
 * Assembling a range-split plan (see RangeSplit in ../split.ts): one statement computing every
 * measure once per date range with -If aggregates, plus a row count per range, optionally
 * GROUP BY GROUPING SETS. Shapes it cannot express throw SplitUnsupportedError.
 */
import type { Measure } from '../../semantic/model.js';
import { aggregateOf, measureValue } from '../measures.js';
import { and, ident, type Expr, type SelectColumn } from '../plan-tree.js';
import { renderDimension } from '../render.js';
import { groupingSets, SET_ALIAS, SplitUnsupportedError, type RangeSplit, type SplitColumns } from '../split.js';
import { aggregateBeforeJoins } from './eager.js';
import type { PlanParts, Planned } from './parts.js';
import { inDateRange } from './where.js';

export function assembleRangeSplit(parts: PlanParts, split: RangeSplit): Planned {
  const { model, query: q, members, source, columns, where, groups } = parts;
  if (groups.multiStage || q.ungrouped || q.total || members.havingFilters.length > 0) throw new SplitUnsupportedError('query shape cannot be split by range');
  const { td, resolved } = members.timeDimensions[split.td] ?? {};
  if (!td?.dateRange) throw new SplitUnsupportedError('the split time dimension has no date range');
  const x = renderDimension(resolved.member, source.scope);
  const splits: SplitColumns[] = [];
  const splitColumns: SelectColumn[] = [];
  split.ranges.forEach((range, i) => {
    const inRange = inDateRange(where.ctx, td.dimension, x, range);
    const leaf = (m: Measure): Expr => {
      const a = aggregateOf(m, source.scope);
      if (a.kind !== 'aggregate') throw new SplitUnsupportedError(`measure ${m.path} is a custom aggregate expression`);
      return { ...a, filter: and(a.filter, inRange) };
    };
    const measureAliases: Record<string, string> = {};
    members.measures.forEach((m, k) => {
      const alias = `${columns.measures[k].alias}__r${i}`;
      measureAliases[columns.measures[k].alias] = alias;
      splitColumns.push({ expr: measureValue(model, m.member, leaf, source.scope), alias });
    });
    splits.push({ countAlias: `__rows_r${i}`, measureAliases });
    splitColumns.push({ expr: { kind: 'aggregate', fn: 'count', filter: inRange }, alias: `__rows_r${i}` });
  });
  const dims = columns.dimensions;
  const sets = split.sets && dims.length > 0 ? groupingSets(dims, split.sets) : undefined;
  const fused = source.select({
    columns: [...dims.map((c) => ({ expr: c.expr, alias: c.alias })), ...splitColumns, ...(sets ? [{ expr: sets.column, alias: SET_ALIAS }] : [])],
    where: where.except(),
    groupBy: dims.map((c) => ident(c.alias)),
    groupingSets: sets?.exprs,
  });
  // Lookups (campaign names…) joined to the aggregated rows rather than to every fact row (eager.ts).
  const query = aggregateBeforeJoins(fused, source.tree, dims.length, sets ? SET_ALIAS : undefined);
  // Each range sorts and slices its own rows; the statement needs no order.
  return { query, columns: columns.all, cubes: source.tree.cubes, splits, ...(sets ? { sets: { alias: SET_ALIAS, masks: sets.masks } } : {}) };
}
