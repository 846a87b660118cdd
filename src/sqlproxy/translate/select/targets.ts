/**
 * Select-list expressions -> items: columns, `*`, MEASURE()/aggregates, time idioms, casts and
 * constants. Also what GROUP BY and ORDER BY reuse (ordinals, the same expression mapping).
 */
import { OID } from '../../pg-types.js';
import { SqlError, SQLSTATE } from '../../sql-error.js';
import { kindOf, type Node, plainName, strings } from '../ast.js';
import { memberOid } from '../columns.js';
import { castOid, evalValue, localText } from '../values.js';
import { derive } from './post-plan.js';
import { countItem, isStar, resolve, star } from './scope.js';
import { AGGREGATES, type Column, type Ctx, type Item, mentionsColumn, nodeAs, type PgNode, type Raw, type ScopeEntry } from './state.js';
import { coarserThanDay, timeTarget } from './time-idioms.js';

export type ExprClause = 'select' | 'group' | 'order';

/** The select list, `*` expanded in table order. */
export function selectList(ctx: Ctx, targetList: PgNode[] | undefined, scope: ScopeEntry[]): Column[] {
  const columns: Column[] = [];
  for (const target of targetList ?? []) {
    const rt = nodeAs(target, 'ResTarget')!;
    const val = rt.val!;
    if (isStar(val)) {
      for (const { name, raw } of star(ctx, val, scope)) columns.push({ name, item: rawItem(raw) });
      continue;
    }
    const item = exprOrDerived(ctx, val, scope, 'select');
    columns.push({ name: rt.name ?? figureName(val), item, node: val });
  }
  return columns;
}

export function rawItem(raw: Raw): Item {
  switch (raw.kind) {
    case 'constant':
      return { kind: 'constant', value: raw.value, oid: raw.oid };
    case 'resolved':
      return raw.item;
    case 'time':
      return { kind: 'time', path: raw.member.path, granularity: raw.granularity, oid: raw.asDate ? OID.date : OID.timestamp };
    case 'column': {
      const m = raw.member;
      if (m.kind === 'segment') return { kind: 'segment', path: m.path };
      if (m.kind === 'measure') return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
      return { kind: 'dimension', path: m.path, oid: memberOid(m), type: m.type };
    }
  }
}

/** An expression of the select list, GROUP BY or ORDER BY. */
function exprItem(ctx: Ctx, node: PgNode, scope: ScopeEntry[], clause: ExprClause): Item {
  switch (kindOf(node)) {
    case 'ColumnRef':
      if (isStar(node)) throw ctx.at.unsupported('* is only allowed in the select list', node);
      return rawItem(resolve(ctx, node, scope));
    case 'A_Const':
    case 'SQLValueFunction':
      return constItem(ctx, node);
    case 'TypeCast': {
      const cast = nodeAs(node, 'TypeCast')!;
      const type = plainName(cast.typeName!.names);
      if (!mentionsColumn(cast.arg)) return constItem(ctx, node);
      return castItem(ctx, exprItem(ctx, cast.arg!, scope, clause), type, node);
    }
    case 'FuncCall': {
      const fc = nodeAs(node, 'FuncCall')!;
      const fn = plainName(fc.funcname);
      if (fc.over) throw ctx.at.unsupported('window functions are not supported', node);
      if (AGGREGATES.has(fn)) {
        if (clause === 'group') throw ctx.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in GROUP BY', node);
        return aggregate(ctx, node, scope);
      }
      if (fn === 'date_trunc' || fn === 'date') {
        const t = timeTarget(ctx, node, scope);
        if (t) return { kind: 'time', path: t.path, granularity: t.granularity, oid: fn === 'date' ? OID.date : OID.timestamp };
      }
      if (!mentionsColumn(node)) return constItem(ctx, node);
      throw ctx.at.unsupported(
        `function ${fn}() is not supported over cube columns`,
        node,
        'Supported: MEASURE(), SUM/COUNT/AVG/MIN/MAX matching the measure type, date_trunc(), CAST(... AS date).',
      );
    }
    default:
      if (!mentionsColumn(node)) return constItem(ctx, node);
      throw ctx.at.unsupported(
        'expressions over cube columns are not supported; select columns, MEASURE(col), aggregates, date_trunc() or CAST',
        node,
        'Define a measure or dimension in the model for derived values.',
      );
  }
}

/** The plain mapping, or (top-level select only) an expression finished over the loaded rows. */
export function exprOrDerived(ctx: Ctx, node: PgNode, scope: ScopeEntry[], clause: ExprClause): Item {
  try {
    return exprItem(ctx, node, scope, clause);
  } catch (e) {
    if (!ctx.state || !(e instanceof SqlError) || e.code !== SQLSTATE.NOT_SUPPORTED) throw e;
    try {
      return derive(ctx, node, scope, ctx.state);
    } catch (why) {
      // Grouping by a measure's value has its own reason to give (row-grain.ts); otherwise the plain one.
      throw ctx.rowGrain && why instanceof SqlError ? why : e;
    }
  }
}

/** A select-list ordinal (GROUP BY 1, ORDER BY 2), or undefined when the node is not an integer constant. */
export function ordinal(ctx: Ctx, node: PgNode, columns: readonly Column[]): Item | undefined {
  const c = nodeAs(node, 'A_Const');
  if (!c || !('ival' in c)) return undefined;
  const n: number = c.ival!.ival ?? 0;
  if (n < 1 || n > columns.length) throw ctx.at.error(SQLSTATE.UNDEFINED_COLUMN, `position ${n} is not in select list`, node);
  return columns[n - 1].item;
}

export function constItem(ctx: Ctx, node: PgNode): Item {
  const v = evalValue(node, ctx.vctx);
  switch (v.t) {
    case 'null':
      return { kind: 'constant', value: null, oid: OID.text };
    case 'number':
      return { kind: 'constant', value: v.v, oid: Number.isInteger(v.v) && Math.abs(v.v) < 2 ** 31 ? OID.int4 : OID.numeric };
    case 'bool':
      return { kind: 'constant', value: v.v, oid: OID.bool };
    case 'string':
      return { kind: 'constant', value: v.v, oid: OID.text };
    case 'timestamp':
      return { kind: 'constant', value: localText(v.v), oid: v.date ? OID.date : OID.timestamp };
    default:
      throw ctx.at.unsupported('this constant cannot be selected', node);
  }
}

/** CAST of a mapped column: only the casts that keep its values (time -> date truncates to a day). */
function castItem(ctx: Ctx, item: Item, type: string, node: PgNode): Item {
  const target = castOid(type);
  if (item.kind === 'time' || (item.kind === 'dimension' && item.type === 'time')) {
    if (target === OID.date) {
      if (item.kind === 'time' && coarserThanDay(item.granularity)) return { ...item, oid: OID.date };
      return { kind: 'time', path: item.path, granularity: 'day', oid: OID.date };
    }
    if (target === OID.timestamp) return item.kind === 'time' ? { ...item, oid: OID.timestamp } : item;
  }
  if ((item.kind === 'dimension' || item.kind === 'measure') && target !== undefined) {
    const family = item.type;
    if (target === OID.text && family === 'string') return item;
    if (family === 'number' && (target === OID.int8 || target === OID.numeric)) {
      const oid =
        type === 'float8' || type === 'double precision'
          ? OID.float8
          : type === 'int4' || type === 'integer'
            ? OID.int4
            : target === OID.int8
              ? OID.int8
              : OID.numeric;
      return { ...item, oid };
    }
    if (family === 'boolean' && target === OID.bool) return item;
  }
  if (item.kind === 'constant') return item;
  throw ctx.at.unsupported(`CAST to ${type} is not supported for this column`, node);
}

/** MEASURE(col), or the aggregate that matches the measure's type. */
export function aggregate(ctx: Ctx, node: PgNode, scope: ScopeEntry[]): Item {
  const fc = nodeAs(node, 'FuncCall')!;
  const fn = plainName(fc.funcname);
  if (fc.agg_filter) throw ctx.at.unsupported('aggregate FILTER (WHERE ...) is not supported; filter in WHERE', node);
  if (fc.agg_order?.length) throw ctx.at.unsupported('ordered aggregates are not supported', node);
  if (fn === 'count' && fc.agg_star) return countItem(ctx, scope, node);
  const args = fc.args ?? [];
  if (args.length !== 1) throw ctx.at.error(SQLSTATE.UNDEFINED_FUNCTION, `function ${fn}() takes one measure column`, node);
  const arg = args[0];
  const ref = nodeAs(arg, 'ColumnRef');
  if (!ref) {
    throw ctx.at.unsupported(`${fn.toUpperCase()}() accepts a measure column only`, arg, 'Define a measure in the model for derived aggregations.');
  }
  const raw = resolve(ctx, arg, scope);
  if (raw.kind === 'resolved') throw ctx.at.unsupported('cannot aggregate a column of an aggregated subquery', arg);
  if (raw.kind !== 'column' || raw.member.kind !== 'measure') {
    const name = strings(ref.fields).at(-1);
    throw ctx.at.unsupported(
      `column "${name}" is not a measure; ${fn.toUpperCase()}() applies to measures only`,
      arg,
      'Aggregations are defined in the model: use a measure, or GROUP BY this dimension.',
    );
  }
  const m = raw.member;
  const agg = m.aggType ?? 'number';
  const ok =
    fn === 'measure' ||
    // A count is additive too: SUM of per-group counts is the count (Metabase/Superset sum every numeric column).
    (fn === 'sum' && (agg === 'sum' || agg === 'count') && !fc.agg_distinct) ||
    (fn === 'count' && agg === 'count' && !fc.agg_distinct) ||
    (fn === 'count' && (agg === 'count_distinct' || agg === 'count_distinct_approx')) ||
    (fn === 'avg' && agg === 'avg' && !fc.agg_distinct) ||
    (fn === 'min' && agg === 'min') ||
    (fn === 'max' && agg === 'max');
  if (!ok) {
    throw ctx.at.unsupported(
      `${fn.toUpperCase()}${fc.agg_distinct ? '(DISTINCT' : '('}${m.name}) does not match measure "${m.name}" of type ${agg}`,
      node,
      `Use MEASURE(${m.name})${suggestAggregate(agg, m.name)}.`,
    );
  }
  return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
}

function suggestAggregate(agg: string, name: string): string {
  const fn = (
    { sum: 'SUM', count: 'COUNT', count_distinct: 'COUNT(DISTINCT', count_distinct_approx: 'COUNT(DISTINCT', avg: 'AVG', min: 'MIN', max: 'MAX' } as Record<
      string,
      string
    >
  )[agg];
  if (!fn) return '';
  return fn.includes('(') ? ` or ${fn} ${name})` : ` or ${fn}(${name})`;
}

/** A select-list entry of a transparent subquery, kept raw for the outer query. */
export function rawOf(ctx: Ctx, node: PgNode, scope: ScopeEntry[]): Raw {
  if (nodeAs(node, 'ColumnRef')) return resolve(ctx, node, scope);
  const t = timeTarget(ctx, node, scope);
  if (t)
    return {
      kind: 'time',
      member: t.member,
      granularity: t.granularity,
      asDate: kindOf(node) === 'TypeCast' || plainName(nodeAs(node, 'FuncCall')?.funcname) === 'date',
    };
  if (!mentionsColumn(node)) {
    const item = constItem(ctx, node);
    if (item.kind === 'constant') return { kind: 'constant', value: item.value, oid: item.oid };
  }
  throw ctx.at.unsupported('a subquery in FROM may only select columns, date_trunc() or CAST of columns (aggregate in the outer query)', node);
}

/** Postgres' FigureColname: the default output name of an expression. */
export function figureName(node: Node): string {
  switch (kindOf(node)) {
    case 'ColumnRef':
      return strings(nodeAs(node, 'ColumnRef')!.fields).at(-1) ?? '?column?';
    case 'FuncCall':
      return strings(nodeAs(node, 'FuncCall')!.funcname).at(-1)!.toLowerCase();
    case 'TypeCast': {
      const cast = nodeAs(node, 'TypeCast')!;
      const inner = figureName(cast.arg!);
      return inner !== '?column?' ? inner : strings(cast.typeName!.names).at(-1)!;
    }
    case 'SQLValueFunction':
      return String(nodeAs(node, 'SQLValueFunction')!.op).replace('SVFOP_', '').replace(/_N$/, '').toLowerCase();
    case 'CaseExpr':
      return 'case';
    // Postgres' FigureColname: GREATEST/LEAST, COALESCE, NULLIF and IS [NOT] NULL name themselves.
    case 'MinMaxExpr':
      return nodeAs(node, 'MinMaxExpr')!.op === 'IS_GREATEST' ? 'greatest' : 'least';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'A_Expr':
      return nodeAs(node, 'A_Expr')!.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
    default:
      return '?column?';
  }
}
