/**
 * NormalizedQuery -> plan (before passes). Cubes are read through `cube` FROM items; the tenant
 * pass scopes them, the row-limit pass limits the result.
 *
 * Shapes
 *  1. One stage (the common case): SELECT dims, aggregates FROM <join tree> WHERE … GROUP BY dims.
 *     Used when no measure's rows are repeated by the join tree and no measure has a rolling window.
 *  2. Several stages, when a measure would be double counted (its cube sits on the "one" side of a
 *     fan-out join) or has a rolling window. The measures' leaves are split into groups; each group
 *     is one SELECT producing (dims…, leaf values…) with NULL for other groups' leaves; the groups
 *     are combined with UNION ALL and an outer GROUP BY dims taking max() of each leaf column:
 *       SELECT __q.__d0 AS dim, max(__q.__m0) AS m0, max(__q.__m0) / max(__q.__m1) AS ratio
 *       FROM (group_1 UNION ALL group_2 …) AS __q GROUP BY dim HAVING … ORDER BY …
 *     Each group yields at most one row per dims tuple and only one group fills a given leaf
 *     column, so max() picks exactly that value. UNION ALL + GROUP BY (rather than joining the
 *     groups on the dims) also matches NULL dimension values, which an equi-join would drop.
 *
 * Fan-out safety (Cube's primary-key approach). For a group of measures of cube C multiplied by
 * the tree:
 *       SELECT __keys.__d0 AS __d0, sum(C.amount) AS __m0
 *       FROM (SELECT DISTINCT <dims> AS __d0, <C primary key> AS __pk0
 *             FROM <join tree> WHERE <filters>) AS __keys
 *       LEFT JOIN <C> AS C ON __keys.__pk0 = C.id
 *       GROUP BY __d0
 *   `__keys` holds each (dims, C row) pair at most once — DISTINCT removes the copies the fan-out
 *   made — and still respects every filter, because it is computed over the full join tree. Joining
 *   C back by primary key attaches exactly one C row per pair, so each C row is aggregated once per
 *   dims tuple it belongs to: the same answer as if the fan-out join were absent.
 *   count_distinct / min / max are duplicate-insensitive and stay in the one-stage shape.
 */
import type { Model } from '../semantic/model.js';
import type { NormalizedQuery } from '../semantic/query.js';
import type { Expr, ParamBag } from './plan-tree.js';
import { assemblePlan } from './planner/assemble.js';
import { outputColumns } from './planner/columns.js';
import { groupMeasures } from './planner/groups.js';
import { joinSource } from './planner/joins.js';
import type { Planned } from './planner/parts.js';
import { resolveQueryMembers } from './planner/resolve.js';
import { whereClause } from './planner/where.js';
import type { RangeSplit } from './split.js';

/**
 * The stages, in order (each in planner/, each binding its parameters in this order):
 *   resolve members -> join tree -> output columns -> WHERE -> measure groups -> assemble.
 */
export function planQuery(model: Model, q: NormalizedQuery, params: ParamBag, tz: Expr, split?: RangeSplit): Planned {
  const members = resolveQueryMembers(model, q);
  const source = joinSource(model, members);
  const columns = outputColumns(members, source.scope, tz);
  const where = whereClause(model, members, source.scope, params, tz);
  const groups = groupMeasures(model, members, source.tree, q.ungrouped);
  return assemblePlan({ model, query: q, params, tz, members, source, columns, where, groups }, split);
}
