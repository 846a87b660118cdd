/**
 * Assembling a multi-stage plan (shape 2 in ../planner.ts): one branch per measure group, each
 * yielding (dims…, leaf values…) with NULL for other groups' leaves, combined with UNION ALL and an
 * outer GROUP BY taking max() of each leaf column.
 */
import { UserError } from '../../errors.js';
import type { Measure, RollingWindow } from '../../semantic/model.js';
import { aggregateOf, measureValue } from '../measures.js';
import { NULL, and, binary, column, ident, select, type Expr, type Select, type SelectColumn } from '../plan-tree.js';
import { renderDimension, restrictedScope, type RenderScope } from '../render.js';
import { bindSeries, bucketOf, bucketSeries, windowRange, windowSeries, type BoundSeries } from '../rolling.js';
import type { MeasureGroup } from './groups.js';
import { cubeItem } from './joins.js';
import type { PlanParts } from './parts.js';
import { havingClause } from './where.js';

const dName = (i: number) => `__d${i}`;
/** GROUP BY the first n dimension columns of a branch. */
const byDims = (n: number): Expr[] => Array.from({ length: n }, (_, i) => ident(dName(i)));

/** The outer SELECT over the union of the groups' branches (not yet ordered). */
export function assembleMultiStage(parts: PlanParts): Select {
  const { model, query: q, params, tz, members, source, columns, where, groups } = parts;
  const tds = members.timeDimensions;
  const dims = columns.dimensions;
  const mName = (m: Measure) => `__m${groups.leaves.indexOf(m)}`;
  // Rolling windows run along the first time dimension with a granularity, else the first with a range.
  const rollingTd = tds.findIndex(({ td }) => td.granularity) >= 0 ? tds.findIndex(({ td }) => td.granularity) : tds.findIndex(({ td }) => td.dateRange);
  const seriesCache = new Map<string, BoundSeries>();
  const seriesFor = (w: RollingWindow): BoundSeries | undefined => {
    if (rollingTd < 0) return undefined;
    const { td } = tds[rollingTd];
    if (!td.dateRange) {
      throw new UserError('BAD_USER_INPUT', `rolling window measures need a dateRange on "${td.dimension}" when it has a granularity`, {
        member: td.dimension,
      });
    }
    const key = JSON.stringify(w);
    if (!seriesCache.has(key)) seriesCache.set(key, bindSeries(windowSeries(w, td.dateRange, td.granularity, q.timezone), params, tz));
    return seriesCache.get(key)!;
  };

  const branch = (group: MeasureGroup): Select => {
    let dimExprs = dims.map((c) => c.expr);
    let rows = where.except();
    const series = group.rolling && seriesFor(group.rolling);
    if (series) {
      const { td, resolved } = tds[rollingTd];
      const t = renderDimension(resolved.member, source.scope);
      rows = and(where.except(rollingTd), windowRange(series, t));
      if (td.granularity) dimExprs = dims.map((c) => (c.td === rollingTd ? bucketOf(series, t) : c.expr));
    }
    const leafColumns = (scope: RenderScope): SelectColumn[] =>
      groups.leaves.map((m) => ({ expr: group.leaves.includes(m) ? aggregateOf(m, scope) : NULL, alias: mName(m) }));
    if (!group.multipliedCube) {
      return source.select({
        columns: [...dimExprs.map((expr, i) => ({ expr, alias: dName(i) })), ...leafColumns(source.scope)],
        where: rows,
        groupBy: byDims(dims.length),
      });
    }
    return fanOutBranch(parts, group, dimExprs, rows, leafColumns);
  };

  const branches = groups.groups.map(branch);
  const rollingSeries = [...seriesCache.values()][0];
  if (rollingSeries && tds[rollingTd].td.granularity && dims.length === 1) {
    // Buckets no row falls in still appear (Cube's time series), with NULL measures.
    branches.push(
      select({ columns: [{ expr: bucketSeries(rollingSeries), alias: dName(0) }, ...groups.leaves.map((m) => ({ expr: NULL, alias: mName(m) }))] }),
    );
  }
  const outerScope = restrictedScope(
    model,
    new Map(),
    (cube) => `a number measure that reads cube ${cube} directly cannot be combined with measures computed separately in this query`,
  );
  const leafRef = (m: Measure): Expr => ({ kind: 'aggregate', fn: 'max', arg: column('__q', mName(m)) });
  return select({
    columns: [
      ...dims.map((c, i) => ({ expr: column('__q', dName(i)), alias: c.alias })),
      ...members.measures.map((r, i) => ({ expr: measureValue(model, r.member, leafRef, outerScope), alias: columns.measures[i].alias })),
    ],
    from: { kind: 'derived', query: branches.length === 1 ? branches[0] : { kind: 'union', selects: branches }, alias: '__q' },
    groupBy: dims.map((c) => ident(c.alias)),
    having: havingClause(model, members.havingFilters, where.ctx, leafRef, outerScope),
  });
}

/**
 * The branch of a group whose cube the join tree multiplies: its leaves aggregated over the distinct
 * (dims, primary key) pairs of the tree, re-joined to the cube by primary key (planner.ts header).
 */
function fanOutBranch(
  parts: PlanParts,
  group: MeasureGroup,
  dimExprs: readonly Expr[],
  rows: Expr | undefined,
  leafColumns: (scope: RenderScope) => SelectColumn[],
): Select {
  const { model, source, columns } = parts;
  const cube = model.cubes[group.multipliedCube!];
  if (cube.primaryKey.length === 0) {
    throw new UserError(
      'BAD_USER_INPUT',
      `cannot aggregate ${group.leaves.map((m) => `"${m.path}"`).join(', ')} without double counting: cube ${cube.name} has no primary key`,
    );
  }
  const pk = cube.primaryKey.map((name) => cube.dimensions[name]);
  const keys = source.select({
    distinct: true,
    columns: [...dimExprs.map((expr, i) => ({ expr, alias: dName(i) })), ...pk.map((d, i) => ({ expr: renderDimension(d, source.scope), alias: `__pk${i}` }))],
    where: rows,
  });
  const own = restrictedScope(
    model,
    new Map([[cube.name, cube.name]]),
    (other) => `measure of cube ${cube.name} references cube ${other}; it cannot be aggregated without double counting in this query`,
  );
  return select({
    columns: [...columns.dimensions.map((_, i) => ({ expr: column('__keys', dName(i)), alias: dName(i) })), ...leafColumns(own)],
    from: { kind: 'derived', query: keys, alias: '__keys' },
    joins: [{ type: 'LEFT', item: cubeItem(cube.name), on: and(...pk.map((d, i) => binary('=', column('__keys', `__pk${i}`), renderDimension(d, own))))! }],
    groupBy: byDims(columns.dimensions.length),
  });
}
