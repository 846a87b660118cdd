/**
 * WHERE and HAVING -> filters and segments. The boolean tree is walked here (NOT pushed down by
 * De Morgan, segments only in a top-level AND); each comparison's column side becomes a Target and
 * compare.ts maps the value side. HAVING is the same walk with aggregates allowed (measure filters).
 */
import { derive } from './post-plan.js';
import type { A_Expr } from 'libpg-query';
import type { Filter } from '../../../semantic/query.js';
import { OID } from '../../pg-types.js';
import { SQLSTATE } from '../../sql-error.js';
import { kindOf, locationOf, plainName } from '../ast.js';
import { memberOid } from '../columns.js';
import { castOid, evalValue, toBool } from '../values.js';
import { conjuncts, FALSE, filter, member, negateFilter, type Predicate, TRUE } from '../filters.js';
import { arrayItems, between, compare, constComparison, like } from './compare.js';
import { resolve } from './scope.js';
import { AGGREGATES, type Ctx, type MeasureItem, mentionsColumn, nodeAs, type Parts, type PgNode, type Raw, type ScopeEntry, type Target } from './state.js';
import { aggregate } from './targets.js';
import { timeTarget } from './time-idioms.js';

export type Clause = 'where' | 'having';

const FLIP: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '<>': '<>', '!=': '!=' };

/** Translates a WHERE or HAVING condition into the parts (filters, segments, or "no rows"). */
export function applyCondition(ctx: Ctx, node: PgNode, scope: ScopeEntry[], clause: Clause, parts: Parts): void {
  applyPredicate(predicate(ctx, node, scope, clause), parts);
}

function applyPredicate(p: Predicate, parts: Parts): void {
  if (p.kind === 'const') {
    if (!p.value) parts.empty = true;
    return;
  }
  if (p.kind === 'segment' || p.kind === 'all') {
    for (const seg of p.kind === 'segment' ? [p] : p.segments) if (!parts.segments.includes(seg.path)) parts.segments.push(seg.path);
    if (p.kind === 'all') parts.filters.push(...p.filters.flatMap(conjuncts));
    return;
  }
  parts.filters.push(...conjuncts(p.filter));
}

function predicate(ctx: Ctx, node: PgNode, scope: ScopeEntry[], clause: Clause, negated = false): Predicate {
  switch (kindOf(node)) {
    case 'BoolExpr': {
      const b = nodeAs(node, 'BoolExpr')!;
      const args = b.args!;
      if (b.boolop === 'NOT_EXPR') return negate(ctx, predicate(ctx, args[0], scope, clause, !negated), node);
      const checked = ctx.rowFilters.length;
      const parts = args.map((a) => predicate(ctx, a, scope, clause, negated));
      if (b.boolop === 'AND_EXPR') return and(parts);
      // A branch checked over the rows (case-sensitive LIKE, a regex) cannot filter alone inside OR:
      // the whole OR is checked over the rows instead, the pushed-down OR only narrows them.
      if (ctx.rowFilters.length > checked && ctx.state && ctx.scopeForRowFilter) {
        ctx.rowFilters.length = checked;
        derive(ctx, node, ctx.scopeForRowFilter, ctx.state);
        ctx.rowFilters.push(node);
      }
      return or(ctx, parts, node);
    }
    case 'A_Expr':
      return comparison(ctx, node, nodeAs(node, 'A_Expr')!, scope, clause, negated);
    case 'NullTest': {
      const nt = nodeAs(node, 'NullTest')!;
      const t = target(ctx, nt.arg!, scope, clause);
      if (!t) return { kind: 'const', value: (evalValue(nt.arg!, ctx.vctx).t === 'null') === (nt.nulltesttype === 'IS_NULL') };
      if (t.kind === 'segment') throw ctx.at.unsupported('a segment is never NULL', node);
      return filter(member(t.path, nt.nulltesttype === 'IS_NULL' ? 'notSet' : 'set'));
    }
    case 'BooleanTest': {
      const bt = nodeAs(node, 'BooleanTest')!;
      const t = target(ctx, bt.arg!, scope, clause);
      const test = bt.booltesttype;
      const want = test === 'IS_TRUE' || test === 'IS_NOT_FALSE';
      if (!t) {
        const v = toBool(evalValue(bt.arg!, ctx.vctx), ctx.vctx, bt.arg!);
        return { kind: 'const', value: v.t === 'bool' ? v.v === want : false };
      }
      if (test === 'IS_UNKNOWN' || test === 'IS_NOT_UNKNOWN') {
        return filter(member(t.path, test === 'IS_UNKNOWN' ? 'notSet' : 'set'));
      }
      return booleanIs(ctx, t, want, node);
    }
    case 'ColumnRef': {
      const t = target(ctx, node, scope, clause)!;
      return booleanIs(ctx, t, true, node);
    }
    case 'SubLink':
      throw ctx.at.unsupported('subqueries in WHERE are not supported', node);
    default: {
      if (mentionsColumn(node)) {
        const t = target(ctx, node, scope, clause);
        if (t) return booleanIs(ctx, t, true, node);
        throw ctx.at.unsupported('this condition is not supported', node);
      }
      const v = toBool(evalValue(node, ctx.vctx), ctx.vctx, node);
      return v.t === 'bool' ? (v.v ? TRUE : FALSE) : v.t === 'null' ? FALSE : TRUE;
    }
  }
}

/** A boolean column (or a segment) tested for true/false. */
export function booleanIs(ctx: Ctx, t: Target, want: boolean, node: PgNode): Predicate {
  if (t.kind === 'segment') {
    if (!want) throw ctx.at.unsupported('a segment cannot be negated; segments can only narrow the rows', node);
    return { kind: 'segment', path: t.path, location: locationOf(node) };
  }
  if (t.type !== 'boolean') throw ctx.at.error(SQLSTATE.DATATYPE_MISMATCH, `argument of WHERE must be type boolean, not a ${t.type} column`, node);
  return filter(member(t.path, 'equals', [want]));
}

export function negate(ctx: Ctx, p: Predicate, node: PgNode): Predicate {
  if (p.kind === 'const') return { kind: 'const', value: !p.value };
  if (p.kind === 'segment' || p.kind === 'all') throw ctx.at.unsupported('a segment cannot be negated; segments can only narrow the rows', node);
  const n = negateFilter(p.filter);
  if (!n) throw ctx.at.unsupported('this condition cannot be negated', node);
  return filter(n);
}

function and(parts: Predicate[]): Predicate {
  if (parts.some((p) => p.kind === 'const' && !p.value)) return FALSE;
  const rest = parts.filter((p) => p.kind !== 'const');
  if (!rest.length) return TRUE;
  if (rest.length === 1) return rest[0];
  const segments: { path: string; location?: number }[] = [];
  const filters: Filter[] = [];
  for (const p of rest) {
    if (p.kind === 'segment') segments.push({ path: p.path, location: p.location });
    else if (p.kind === 'all') {
      segments.push(...p.segments);
      filters.push(...p.filters);
    } else if (p.kind === 'filter') filters.push(p.filter);
  }
  if (segments.length) return { kind: 'all', segments, filters };
  return filter({ and: filters });
}

export function or(ctx: Ctx, parts: Predicate[], node: PgNode): Predicate {
  if (parts.some((p) => p.kind === 'const' && p.value)) return TRUE;
  const rest = parts.filter((p) => p.kind !== 'const');
  if (!rest.length) return FALSE;
  const seg = rest.find((p) => p.kind === 'segment' || p.kind === 'all');
  if (seg) {
    const loc = seg.kind === 'segment' ? seg.location : seg.kind === 'all' ? seg.segments[0].location : undefined;
    throw ctx.at.unsupported('a segment cannot be combined with OR; segments can only narrow the rows', loc ?? locationOf(node));
  }
  if (rest.length === 1) return rest[0];
  return filter({ or: rest.map((p) => (p as Extract<Predicate, { kind: 'filter' }>).filter) });
}

/** A filterable column expression, or undefined when the expression is constant. */
function target(ctx: Ctx, node: PgNode, scope: ScopeEntry[], clause: Clause): Target | undefined {
  if (!mentionsColumn(node)) return undefined;
  switch (kindOf(node)) {
    case 'ColumnRef': {
      const raw = resolve(ctx, node, scope);
      return rawTarget(ctx, raw, node);
    }
    case 'FuncCall': {
      const fc = nodeAs(node, 'FuncCall')!;
      const fn = plainName(fc.funcname);
      if (AGGREGATES.has(fn)) {
        if (clause === 'where') throw ctx.at.error(SQLSTATE.GROUPING, 'aggregate functions are not allowed in WHERE', node);
        const item = aggregate(ctx, node, scope) as MeasureItem;
        return { path: item.path, kind: 'measure', type: item.type, oid: item.oid };
      }
      const args = fc.args ?? [];
      if (fn === 'lower' || fn === 'upper') {
        const t = args.length === 1 ? target(ctx, args[0], scope, clause) : undefined;
        if (t && t.type === 'string' && t.kind === 'dimension') return { ...t, folded: true };
        throw ctx.at.unsupported(`${fn}() is only supported around a text column with LIKE/ILIKE`, node);
      }
      if ((fn === 'extract' || fn === 'date_part') && args.length === 2) {
        const part = evalValue(args[0], ctx.vctx);
        const inner = part.t === 'string' && part.v.toLowerCase() === 'epoch' ? target(ctx, args[1], scope, clause) : undefined;
        if (inner?.type === 'time' && inner.kind === 'dimension') return { ...inner, epoch: true };
      }
      const t = timeTarget(ctx, node, scope);
      if (t) return { path: t.path, kind: 'dimension', type: 'time', oid: OID.timestamp, trunc: t.granularity };
      throw ctx.at.unsupported(`function ${fn}() is not supported in a condition`, node);
    }
    case 'TypeCast': {
      const cast = nodeAs(node, 'TypeCast')!;
      const type = plainName(cast.typeName!.names);
      const t = timeTarget(ctx, node, scope);
      if (t) return { path: t.path, kind: 'dimension', type: 'time', oid: OID.date, trunc: t.granularity };
      const inner = target(ctx, cast.arg!, scope, clause);
      if (!inner) return undefined;
      const oid = castOid(type);
      if (
        (oid === OID.timestamp && inner.type === 'time') ||
        (oid === OID.text && inner.type === 'string') ||
        ((oid === OID.numeric || oid === OID.int8) && inner.type === 'number') ||
        (oid === OID.bool && inner.type === 'boolean')
      ) {
        return inner;
      }
      throw ctx.at.unsupported(`CAST to ${type} is not supported in a condition on this column`, node);
    }
    default:
      throw ctx.at.unsupported('expressions over cube columns are not supported in conditions', node);
  }
}

function rawTarget(ctx: Ctx, raw: Raw, node: PgNode): Target {
  switch (raw.kind) {
    case 'column': {
      const m = raw.member;
      return { path: m.path, kind: m.kind, type: m.type, oid: memberOid(m) };
    }
    case 'time':
      return { path: raw.member.path, kind: 'dimension', type: 'time', oid: raw.asDate ? OID.date : OID.timestamp, trunc: raw.granularity };
    case 'resolved': {
      const it = raw.item;
      if (it.kind === 'time') return { path: it.path, kind: 'dimension', type: 'time', oid: it.oid, trunc: it.granularity };
      if (it.kind === 'dimension' || it.kind === 'measure') return { path: it.path, kind: it.kind, type: it.type, oid: it.oid };
      if (it.kind === 'segment') return { path: it.path, kind: 'segment', type: 'boolean', oid: OID.bool };
      throw ctx.at.unsupported('cannot filter on a constant column', node);
    }
    case 'constant':
      throw ctx.at.unsupported('cannot filter on a constant column of a subquery', node);
  }
}

/** One A_Expr: =, <>, <, IN, = ANY, LIKE/ILIKE, BETWEEN, with the column on either side. */
function comparison(ctx: Ctx, node: PgNode, e: A_Expr, scope: ScopeEntry[], clause: Clause, negated = false): Predicate {
  const kind = e.kind!;
  const op = plainName(e.name);
  switch (kind) {
    case 'AEXPR_OP': {
      if (REGEX_OPERATORS.has(op)) return regexMatch(ctx, node, e, scope, clause);
      if (!['=', '<>', '!=', '<', '<=', '>', '>='].includes(op)) {
        throw ctx.at.unsupported(`operator ${op} is not supported in conditions`, node);
      }
      let lt = target(ctx, e.lexpr!, scope, clause);
      let rt = e.rexpr ? target(ctx, e.rexpr, scope, clause) : undefined;
      if (lt && rt) throw ctx.at.unsupported('comparing two columns is not supported; compare a column with a value', node);
      if (!lt && !rt) return constComparison(ctx, op, e.lexpr!, e.rexpr!, node);
      let valueNode = e.rexpr!;
      let o = op;
      if (!lt) {
        lt = rt;
        rt = undefined;
        valueNode = e.lexpr!;
        o = FLIP[op] ?? op;
      }
      return compare(ctx, lt!, o, [valueNode], node);
    }
    case 'AEXPR_IN': {
      const t = target(ctx, e.lexpr!, scope, clause);
      if (!t) throw ctx.at.unsupported('IN needs a column on the left', node);
      const list = nodeAs(e.rexpr, 'List');
      const items = list ? list.items! : [e.rexpr!];
      return compare(ctx, t, op === '=' ? 'in' : 'notin', items, node);
    }
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL': {
      const t = target(ctx, e.lexpr!, scope, clause);
      if (!t || !((kind === 'AEXPR_OP_ANY' && op === '=') || (kind === 'AEXPR_OP_ALL' && (op === '<>' || op === '!=')))) {
        throw ctx.at.unsupported('only column = ANY(array) and column <> ALL(array) are supported', node);
      }
      return compare(ctx, t, op === '=' ? 'in' : 'notin', arrayItems(ctx, e.rexpr!), node);
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      const t = target(ctx, e.lexpr!, scope, clause);
      if (!t) throw ctx.at.unsupported('LIKE needs a column on the left', node);
      if (negated && kind === 'AEXPR_LIKE') throw ctx.at.unsupported('NOT (... LIKE ...) is not supported; write NOT LIKE or use ILIKE', node);
      return like(ctx, t, op.startsWith('!'), e.rexpr!, node, kind === 'AEXPR_LIKE');
    }
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      // IS [NOT] DISTINCT FROM a value: NULL-safe equality (NULL IS DISTINCT FROM 'a' is true).
      const t = target(ctx, e.lexpr!, scope, clause);
      if (!t || target(ctx, e.rexpr!, scope, clause))
        throw ctx.at.unsupported('IS [NOT] DISTINCT FROM needs a column on the left and a value on the right', node);
      const isNullValue = evalValue(e.rexpr!, ctx.vctx).t === 'null';
      const same = isNullValue ? filter(member(t.path, 'notSet')) : compare(ctx, t, '=', [e.rexpr!], node);
      if (kind === 'AEXPR_NOT_DISTINCT') return same;
      if (isNullValue) return filter(member(t.path, 'set'));
      // Distinct from a value: a different value, or no value.
      return or(ctx, [negate(ctx, same, node), filter(member(t.path, 'notSet'))], node);
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM': {
      const t = target(ctx, e.lexpr!, scope, clause);
      if (!t) throw ctx.at.unsupported('BETWEEN needs a column on the left', node);
      const [lo, hi] = nodeAs(e.rexpr, 'List')!.items!;
      const p = between(ctx, t, lo, hi, kind.endsWith('_SYM'), node);
      return kind.includes('NOT') ? negate(ctx, p, node) : p;
    }
    default:
      throw ctx.at.unsupported(`this kind of condition (${kind.replace('AEXPR_', '').toLowerCase()}) is not supported`, node);
  }
}

/** POSIX regular-expression matches (`~`, `~*`, `!~`, `!~*`): checked over the loaded rows, nothing pushed down. */
const REGEX_OPERATORS = new Set(['~', '~*', '!~', '!~*']);

function regexMatch(ctx: Ctx, node: PgNode, e: A_Expr, scope: ScopeEntry[], clause: Clause): Predicate {
  const t = target(ctx, e.lexpr!, scope, clause);
  if (t?.kind !== 'dimension' || t.type !== 'string') throw ctx.at.unsupported('regular expressions are supported on text dimensions only', node);
  if (!ctx.state || !ctx.scopeForRowFilter) throw ctx.at.unsupported('regular-expression matches are supported in the outer query only', node);
  derive(ctx, node, ctx.scopeForRowFilter, ctx.state);
  ctx.rowFilters.push(node);
  return TRUE;
}
