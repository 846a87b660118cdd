/**
 * Stage 3 — output columns: one per dimension, per time dimension with a granularity (truncated in
 * the query zone) and per measure, each with a readable, unique alias; and ORDER BY over them.
 */
import { UserError } from '../../errors.js';
import type { NormalizedQuery } from '../../semantic/query.js';
import type { CompiledColumn } from '../compiled.js';
import { ident, type Expr, type OrderItem } from '../plan-tree.js';
import { renderDimension, type RenderScope } from '../render.js';
import { valueTypeOf } from '../values.js';
import type { QueryMembers } from './resolve.js';

/** A dimension or time-dimension column and the expression computing it over the join tree. */
export interface DimColumn extends CompiledColumn {
  readonly expr: Expr;
  /** Index into the query's timeDimensions for time-dimension columns. */
  readonly td?: number;
}

export interface OutputColumns {
  /** Dimensions, then time dimensions with a granularity. */
  readonly dimensions: readonly DimColumn[];
  /** One per query measure, in order. */
  readonly measures: readonly CompiledColumn[];
  /** What the caller gets back: dimensions then measures, without their expressions. */
  readonly all: readonly CompiledColumn[];
}

export function outputColumns(members: QueryMembers, scope: RenderScope, tz: Expr): OutputColumns {
  const aliases = new AliasAllocator();
  const dimensions: DimColumn[] = [
    ...members.dimensions.map(
      (r): DimColumn => ({
        alias: aliases.take(r.path),
        key: r.path,
        member: r.path,
        kind: 'dimension',
        type: r.member.type,
        expr: renderDimension(r.member, scope),
      }),
    ),
    ...members.timeDimensions.flatMap(({ td, resolved: r }, i): DimColumn[] => {
      if (!td.granularity) return [];
      const key = `${r.path}.${td.granularity}`;
      const expr: Expr = { kind: 'truncate', unit: td.granularity, arg: { kind: 'inZone', arg: renderDimension(r.member, scope), tz }, tz };
      return [
        { alias: aliases.take(r.path, td.granularity), key, member: r.path, kind: 'timeDimension', type: 'time', granularity: td.granularity, expr, td: i },
      ];
    }),
  ];
  const measures: CompiledColumn[] = members.measures.map((r) => ({
    alias: aliases.take(r.path),
    key: r.path,
    member: r.path,
    kind: 'measure',
    type: valueTypeOf(r.member),
  }));
  return { dimensions, measures, all: [...dimensions.map(({ expr: _e, td: _t, ...c }) => c), ...measures] };
}

/** ORDER BY the query's order, by output alias; a key is a column key or, failing that, a member path. */
export function orderItems(order: NormalizedQuery['order'], columns: readonly CompiledColumn[]): OrderItem[] {
  return order.map(([key, direction]) => {
    const c = columns.find((x) => x.key === key) ?? columns.find((x) => x.member === key);
    if (!c) throw new UserError('BAD_USER_INPUT', `cannot order by "${key}": it is not in the query`, { member: key });
    return { expr: ident(c.alias), direction };
  });
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
