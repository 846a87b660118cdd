/**
 * GROUP BY an expression of a measure column — Metabase's binning (`FLOOR(clicks / 100.0) * 100.0`),
 * a histogram of values — groups fact rows by their own value. The query service answers at the
 * grain of the cube's primary key (one row per fact row, where a sum, count, min or max measure is the
 * row's own value); the expressions are finished over those rows. Without a primary key there is no
 * such grain, and the statement is refused naming what is missing.
 */
import type { SelectStmt } from 'libpg-query';
import type { CatalogMember } from '../../../query/types.js';
import type { Node } from '../ast.js';
import { columnRefs } from '../post.js';
import { memberOf, resolve, scopeCubes } from './scope.js';
import { type Ctx, type Item, nodeAs, type PgNode, type ScopeEntry, typed } from './state.js';
import { memberOid } from '../columns.js';
import { rawItem } from './targets.js';

const ROW_VALUED = new Set(['sum', 'count', 'min', 'max']);

/** Whether a GROUP BY item is an expression over a measure column's value. */
export function groupsByMeasureValue(ctx: Ctx, s: SelectStmt, scope: ScopeEntry[]): boolean {
  return (s.groupClause ?? []).some((g) => {
    if (nodeAs(g, 'ColumnRef') || nodeAs(g, 'A_Const')) return false;
    return columnRefs(g as Node).some((ref) => {
      try {
        return rawItem(resolve(ctx, typed(ref), scope)).kind === 'measure';
      } catch {
        return false;
      }
    });
  });
}

/** A measure column read per fact row: the primary key joins the grain, the measure is the row's value. */
export function rowValue(ctx: Ctx, item: Extract<Item, { kind: 'measure' }>, ref: PgNode, scope: ScopeEntry[]): Item[] {
  const m = memberOf(item.path, scope);
  if (!m?.aggType || !ROW_VALUED.has(m.aggType)) {
    throw ctx.at.unsupported(
      `measure "${m?.name ?? item.path}" has no value per fact row (it is a ${m?.aggType ?? 'derived'} measure); group by a sum, count, min or max measure`,
      ref,
    );
  }
  const cube = scopeCubes(scope).find((c) => c.measures.includes(m));
  const key: CatalogMember | undefined = cube?.dimensions.find((d) => d.primaryKey);
  if (!cube || !key) {
    throw ctx.at.unsupported(
      `grouping by the value of "${m.name}" needs one row per fact row, and table "${cube?.name ?? '?'}" exposes no primary key column`,
      ref,
      "Bin a dimension instead, or make the cube's primary key dimension public in the model (primary_key: true, public: true).",
    );
  }
  return [{ kind: 'dimension', path: key.path, oid: memberOid(key), type: key.type }, item];
}
