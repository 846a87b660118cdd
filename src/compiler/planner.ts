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
import { UserError, invariant } from '../errors.js';
import type { CompiledColumn } from './compiled.js';
import type { Dimension, Measure, Model, ResolvedMember, RollingWindow } from '../semantic/model.js';
import type { NormalizedFilter, NormalizedQuery, NormalizedTimeDimension } from '../semantic/query.js';
import { filterExpr, valueParam, type FilterContext } from './filters.js';
import { buildJoinTree, isMultiplied, type JoinTree } from './join-tree.js';
import { aggregateOf, isDuplicateSensitive, leavesOf, rowValueOf, valueOf } from './measures.js';
import { resolveDimension, resolveFilterMember, resolveMeasure, resolveSegment, resolveTimeDimension } from './members.js';
import { filterKinds } from './normalize.js';
import {
  NULL,
  and,
  binary,
  column,
  ident,
  select,
  type Expr,
  type FromItem,
  type JoinClause,
  type OrderItem,
  type ParamBag,
  type Select,
  type SelectColumn,
} from './plan.js';
import { cubesReferenced, renderDimension, renderMeasureFilters, renderSegment, renderTemplate, restrictedScope, type RenderScope } from './render.js';
import { bindSeries, bucketOf, bucketSeries, windowRange, windowSeries, type BoundSeries } from './rolling.js';
import { groupingSets, SET_ALIAS, SplitUnsupportedError, type RangeSplit, type SplitColumns } from './split.js';
import { valueTypeOf } from './values.js';

export interface Planned {
  /** Ordered, not yet scoped to a tenant nor limited. */
  readonly query: Select;
  readonly columns: readonly CompiledColumn[];
  readonly cubes: readonly string[];
  /** With a range split: where each range's measures and row count are (see RangeSplit). */
  readonly splits?: readonly SplitColumns[];
  /** With grouping sets: the column holding a row's grouping bitmask and each set's mask, in order. */
  readonly sets?: { readonly alias: string; readonly masks: readonly number[] };
}



interface DimColumn extends CompiledColumn {
  readonly expr: Expr;
  /** Index into the query's timeDimensions for time-dimension columns. */
  readonly td?: number;
}

interface Group {
  readonly multipliedCube?: string;
  readonly rolling?: RollingWindow;
  readonly leaves: Measure[];
}

const cubeItem = (cube: string): FromItem => ({ kind: 'cube', cube, alias: cube });

export function planQuery(model: Model, q: NormalizedQuery, params: ParamBag, tz: Expr, split?: RangeSplit): Planned {
  const measures = q.measures.map((p) => resolveMeasure(model, p));
  const dimensions = q.dimensions.map((p) => resolveDimension(model, p));
  const tds = q.timeDimensions.map((td) => ({ td, r: resolveTimeDimension(model, td.dimension) }));
  const segments = q.segments.map((p) => resolveSegment(model, p));
  if (measures.length + dimensions.length + tds.length === 0) {
    throw new UserError('BAD_USER_INPUT', 'a query needs at least one measure, dimension or time dimension');
  }
  const kindOf = filterKinds(model);
  const whereFilters = q.filters.filter((f) => !kindOf(f).includes('measure'));
  const havingFilters = q.filters.filter((f) => kindOf(f).includes('measure'));
  for (const f of q.filters) {
    if (new Set(kindOf(f)).size > 1) throw new UserError('BAD_USER_INPUT', 'a filter group cannot mix measure and dimension filters');
  }

  // ---- the join tree over every cube the query reads ----
  const touched: ResolvedMember[] = [...measures, ...dimensions, ...tds.map((t) => t.r), ...segments, ...filterMembers(model, q.filters)];
  const wanted: string[] = [];
  for (const r of touched) {
    wanted.push(r.view?.viewMember.joinPath[0] ?? r.member.cube);
    wanted.push(...cubesReferenced(model, r.member));
  }
  const paths = touched.flatMap((r) => (r.view && r.view.viewMember.joinPath.length > 0 ? [r.view.viewMember.joinPath] : []));
  const tree = buildJoinTree(model, { cubes: wanted, paths });
  const inTree = new Set(tree.cubes);
  const rowScope: RenderScope = {
    model,
    alias(cube) {
      invariant(inTree.has(cube), `cube ${cube} is not in the join tree`);
      return cube;
    },
  };
  const joins: JoinClause[] = tree.edges.map((e) => ({ type: 'LEFT', item: cubeItem(e.child), on: renderTemplate(e.join.sql, rowScope) }));
  const treeSelect = (parts: Omit<Parameters<typeof select>[0], 'from' | 'joins'>): Select => select({ ...parts, from: cubeItem(tree.root), joins });

  // ---- output columns ----
  const aliases = new AliasAllocator();
  const dimColumns: DimColumn[] = [
    ...dimensions.map(
      (r): DimColumn => ({ alias: aliases.take(r.path), key: r.path, member: r.path, kind: 'dimension', type: r.member.type, expr: renderDimension(r.member, rowScope) }),
    ),
    ...tds.flatMap(({ td, r }, i): DimColumn[] => {
      if (!td.granularity) return [];
      const key = `${r.path}.${td.granularity}`;
      const expr: Expr = { kind: 'truncate', unit: td.granularity, arg: { kind: 'inZone', arg: renderDimension(r.member, rowScope), tz }, tz };
      return [{ alias: aliases.take(r.path, td.granularity), key, member: r.path, kind: 'timeDimension', type: 'time', granularity: td.granularity, expr, td: i }];
    }),
  ];
  const measureColumns: CompiledColumn[] = measures.map((r) => ({ alias: aliases.take(r.path), key: r.path, member: r.path, kind: 'measure', type: valueTypeOf(r.member) }));

  // ---- WHERE: filters, segments, date ranges (built once: branches share their parameters) ----
  const whereCtx: FilterContext = {
    model,
    params,
    tz,
    memberExpr: (member) => {
      invariant(member.kind === 'dimension', 'WHERE filters compare dimensions');
      return renderDimension(member, rowScope);
    },
    measureFilters: (m) => renderMeasureFilters(m, rowScope),
  };
  const baseWhere = and(...whereFilters.map((f) => filterExpr(f, whereCtx)), ...segments.map((s) => renderSegment(s.member, rowScope)));
  const rangeOf = (td: NormalizedTimeDimension, d: Dimension): Expr | undefined => {
    if (!td.dateRange) return undefined;
    const x = renderDimension(d, rowScope);
    const [from, to] = td.dateRange.map((v) => valueParam(whereCtx, td.dimension, 'time', v));
    return and(binary('>=', x, from), binary('<=', x, to));
  };
  const ranges = tds.map(({ td, r }) => rangeOf(td, r.member));
  const whereExcept = (skipTd?: number) => and(baseWhere, ...ranges.filter((_, i) => i !== skipTd));

  // ---- measures: leaves and the groups they are computed in ----
  const leaves = new Map<string, Measure>();
  for (const r of measures) leavesOf(model, r.member, leaves);
  for (const f of havingFilters) for (const m of filterMeasures(model, f)) leavesOf(model, m, leaves);
  const groups = new Map<string, Group>();
  for (const leaf of leaves.values()) {
    const multiplied = isMultiplied(tree, leaf.cube) && (q.ungrouped || isDuplicateSensitive(leaf));
    if (q.ungrouped && (multiplied || leaf.rollingWindow)) {
      throw new UserError(
        'BAD_USER_INPUT',
        `an ungrouped query lists rows of one cube family: measure "${leaf.path}" ${leaf.rollingWindow ? 'has a rolling window' : `would be repeated by the join to its cube ${leaf.cube}`}`,
        { member: leaf.path },
      );
    }
    const key = `${leaf.rollingWindow ? JSON.stringify(leaf.rollingWindow) : ''}|${multiplied ? leaf.cube : ''}`;
    const group = groups.get(key) ?? { multipliedCube: multiplied ? leaf.cube : undefined, rolling: leaf.rollingWindow, leaves: [] };
    group.leaves.push(leaf);
    groups.set(key, group);
  }

  const orderBy = (columns: readonly CompiledColumn[]): OrderItem[] =>
    q.order.map(([key, direction]) => {
      const c = columns.find((x) => x.key === key) ?? columns.find((x) => x.member === key);
      if (!c) throw new UserError('BAD_USER_INPUT', `cannot order by "${key}": it is not in the query`, { member: key });
      return { expr: ident(c.alias), direction };
    });
  const columns: CompiledColumn[] = [...dimColumns.map(({ expr: _e, td: _t, ...c }) => c), ...measureColumns];
  const result = (query: Select): Planned => ({ query: { ...query, orderBy: orderBy(columns) }, columns, cubes: tree.cubes });
  const havingOver = (leaf: (m: Measure) => Expr, scope: RenderScope) =>
    and(
      ...havingFilters.map((f) =>
        filterExpr(f, { ...whereCtx, memberExpr: (m) => valueOf(model, m as Measure, leaf, scope), measureFilters: (m) => renderMeasureFilters(m, rowScope) }),
      ),
    );

  const multiStage = [...groups.values()].some((g) => g.multipliedCube || g.rolling);
  if (split) {
    if (multiStage || q.ungrouped || q.total || havingFilters.length > 0) throw new SplitUnsupportedError('query shape cannot be split by range');
    const { td, r } = tds[split.td] ?? {};
    if (!td?.dateRange) throw new SplitUnsupportedError('the split time dimension has no date range');
    const x = renderDimension(r.member, rowScope);
    const splits: SplitColumns[] = [];
    const splitColumns: SelectColumn[] = [];
    split.ranges.forEach(([from, to], i) => {
      const inRange = and(binary('>=', x, valueParam(whereCtx, td.dimension, 'time', from)), binary('<=', x, valueParam(whereCtx, td.dimension, 'time', to)))!;
      const leaf = (m: Measure): Expr => {
        const a = aggregateOf(m, rowScope);
        if (a.kind !== 'aggregate') throw new SplitUnsupportedError(`measure ${m.path} is a custom aggregate expression`);
        return { ...a, filter: and(a.filter, inRange) };
      };
      const measureAliases: Record<string, string> = {};
      measures.forEach((m, k) => {
        const alias = `${measureColumns[k].alias}__r${i}`;
        measureAliases[measureColumns[k].alias] = alias;
        splitColumns.push({ expr: valueOf(model, m.member, leaf, rowScope), alias });
      });
      splits.push({ countAlias: `__rows_r${i}`, measureAliases });
      splitColumns.push({ expr: { kind: 'aggregate', fn: 'count', filter: inRange }, alias: `__rows_r${i}` });
    });
    const sets = split.sets && dimColumns.length > 0 ? groupingSets(dimColumns, split.sets) : undefined;
    const query = treeSelect({
      columns: [...dimColumns.map((c) => ({ expr: c.expr, alias: c.alias })), ...splitColumns, ...(sets ? [{ expr: sets.column, alias: SET_ALIAS }] : [])],
      where: whereExcept(),
      groupBy: dimColumns.map((c) => ident(c.alias)),
      groupingSets: sets?.exprs,
    });
    // Each range sorts and slices its own rows; the statement needs no order.
    return {
      query,
      columns: [...dimColumns.map(({ expr: _e, td: _t, ...c }) => c), ...measureColumns],
      cubes: tree.cubes,
      splits,
      ...(sets ? { sets: { alias: SET_ALIAS, masks: sets.masks } } : {}),
    };
  }
  if (!multiStage) {
    const leaf = (m: Measure) => (q.ungrouped ? rowValueOf(m, rowScope) : aggregateOf(m, rowScope));
    const having = havingOver(leaf, rowScope);
    return result(
      treeSelect({
        columns: [
          ...dimColumns.map((c) => ({ expr: c.expr, alias: c.alias })),
          ...measures.map((r, i) => ({ expr: valueOf(model, r.member, leaf, rowScope), alias: measureColumns[i].alias })),
        ],
        where: q.ungrouped ? and(whereExcept(), having) : whereExcept(),
        groupBy: q.ungrouped ? [] : dimColumns.map((c) => ident(c.alias)),
        having: q.ungrouped ? undefined : having,
      }),
    );
  }

  // ---- several stages ----
  const leafList = [...leaves.values()];
  const dName = (i: number) => `__d${i}`;
  const mName = (m: Measure) => `__m${leafList.indexOf(m)}`;
  const rollingTd = tds.findIndex(({ td }) => td.granularity) >= 0 ? tds.findIndex(({ td }) => td.granularity) : tds.findIndex(({ td }) => td.dateRange);
  const seriesCache = new Map<string, BoundSeries>();
  const seriesFor = (w: RollingWindow): BoundSeries | undefined => {
    if (rollingTd < 0) return undefined;
    const { td } = tds[rollingTd];
    if (!td.dateRange) {
      throw new UserError('BAD_USER_INPUT', `rolling window measures need a dateRange on "${td.dimension}" when it has a granularity`, { member: td.dimension });
    }
    const key = JSON.stringify(w);
    if (!seriesCache.has(key)) seriesCache.set(key, bindSeries(windowSeries(w, td.dateRange, td.granularity, q.timezone), params, tz));
    return seriesCache.get(key)!;
  };

  const branch = (group: Group): Select => {
    let dimExprs = dimColumns.map((c) => c.expr);
    let where = whereExcept();
    const series = group.rolling && seriesFor(group.rolling);
    if (series) {
      const { td, r } = tds[rollingTd];
      const t = renderDimension(r.member, rowScope);
      where = and(whereExcept(rollingTd), windowRange(series, t));
      if (td.granularity) dimExprs = dimColumns.map((c) => (c.td === rollingTd ? bucketOf(series, t) : c.expr));
    }
    const groupBy = dimColumns.map((_, i) => ident(dName(i)));
    const leafColumns = (scope: RenderScope): SelectColumn[] =>
      leafList.map((m) => ({ expr: group.leaves.includes(m) ? aggregateOf(m, scope) : NULL, alias: mName(m) }));
    if (!group.multipliedCube) {
      return treeSelect({ columns: [...dimExprs.map((expr, i) => ({ expr, alias: dName(i) })), ...leafColumns(rowScope)], where, groupBy });
    }
    const cube = model.cubes[group.multipliedCube];
    if (cube.primaryKey.length === 0) {
      throw new UserError('BAD_USER_INPUT', `cannot aggregate ${group.leaves.map((m) => `"${m.path}"`).join(', ')} without double counting: cube ${cube.name} has no primary key`);
    }
    const pk = cube.primaryKey.map((name) => cube.dimensions[name]);
    const keys = treeSelect({
      distinct: true,
      columns: [...dimExprs.map((expr, i) => ({ expr, alias: dName(i) })), ...pk.map((d, i) => ({ expr: renderDimension(d, rowScope), alias: `__pk${i}` }))],
      where,
    });
    const own = restrictedScope(
      model,
      new Map([[cube.name, cube.name]]),
      (other) => `measure of cube ${cube.name} references cube ${other}; it cannot be aggregated without double counting in this query`,
    );
    return select({
      columns: [...dimColumns.map((_, i) => ({ expr: column('__keys', dName(i)), alias: dName(i) })), ...leafColumns(own)],
      from: { kind: 'derived', query: keys, alias: '__keys' },
      joins: [{ type: 'LEFT', item: cubeItem(cube.name), on: and(...pk.map((d, i) => binary('=', column('__keys', `__pk${i}`), renderDimension(d, own))))! }],
      groupBy,
    });
  };

  const branches = [...groups.values()].map(branch);
  const rollingSeries = [...seriesCache.values()][0];
  if (rollingSeries && tds[rollingTd].td.granularity && dimColumns.length === 1) {
    // Buckets no row falls in still appear (Cube's time series), with NULL measures.
    branches.push(select({ columns: [{ expr: bucketSeries(rollingSeries), alias: dName(0) }, ...leafList.map((m) => ({ expr: NULL, alias: mName(m) }))] }));
  }
  const outerScope = restrictedScope(model, new Map(), (cube) => `a number measure that reads cube ${cube} directly cannot be combined with measures computed separately in this query`);
  const leafRef = (m: Measure): Expr => ({ kind: 'aggregate', fn: 'max', arg: column('__q', mName(m)) });
  return result(
    select({
      columns: [
        ...dimColumns.map((c, i) => ({ expr: column('__q', dName(i)), alias: c.alias })),
        ...measures.map((r, i) => ({ expr: valueOf(model, r.member, leafRef, outerScope), alias: measureColumns[i].alias })),
      ],
      from: { kind: 'derived', query: branches.length === 1 ? branches[0] : { kind: 'union', selects: branches }, alias: '__q' },
      groupBy: dimColumns.map((c) => ident(c.alias)),
      having: havingOver(leafRef, outerScope),
    }),
  );
}

function filterMembers(model: Model, filters: readonly NormalizedFilter[]): ResolvedMember[] {
  return filters.flatMap((f) => (f.kind === 'member' ? [resolveFilterMember(model, f.member)] : filterMembers(model, f.filters)));
}

function filterMeasures(model: Model, f: NormalizedFilter): Measure[] {
  if (f.kind !== 'member') return f.filters.flatMap((x) => filterMeasures(model, x));
  const { member } = resolveFilterMember(model, f.member);
  return member.kind === 'measure' && f.operator !== 'measureFilter' ? [member] : [];
}

/** Result-column aliases: readable, unique, safe identifiers ("orders__amount", "orders__created_at_day"). */
class AliasAllocator {
  private readonly used = new Set<string>();
  take(path: string, granularity?: string): string {
    let base = path.replace(/\./g, '__') + (granularity ? `_${granularity}` : '');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(base)) base = `c${this.used.size}`;
    let alias = base;
    for (let i = 2; this.used.has(alias); i++) alias = `${base}_${i}`;
    this.used.add(alias);
    return alias;
  }
}
