/**
 * SELECT over cubes/views -> SemanticQuery. Pure: it needs only the caller's catalog (what the
 * principal may see), the bound parameters, the clock and the session time zone. Anything it
 * cannot map exactly is refused with a SQLSTATE and a position; nothing is ever forwarded.
 *
 * This file is the public entry; the clause visitors live in select/ (statement.ts walks one
 * SELECT, from/targets/where/compare/order-limit/time-idioms/post-plan map its clauses).
 */
import { conjuncts, withSqlNulls } from './filters.js';
import type { CatalogCube } from '../../query/types.js';
import type { SemanticQuery } from '../../semantic/query.js';
import type { Cell } from '../pg-types.js';
import type { Node, PositionOf } from './ast.js';
import type { PostPlan } from './derived.js';
import type { ParamSource } from './values.js';
import { asSelect, createContext, itemOid, itemSource } from './select/state.js';
import { selectStatement } from './select/statement.js';

export { UnknownColumnError } from './select/scope.js';
export { figureName } from './select/targets.js';
export { parseLike } from './select/compare.js';

export interface OutputColumn {
  readonly name: string;
  readonly oid: number;
  /** Where the cell comes from: a QueryResult row key, or a constant. */
  readonly source: { readonly kind: 'key'; readonly key: string } | { readonly kind: 'constant'; readonly value: Cell };
}

export interface SemanticPlan {
  readonly query: SemanticQuery;
  readonly columns: readonly OutputColumn[];
  /** Known to return no rows (WHERE false, LIMIT 0): the door answers without loading. */
  readonly empty: boolean;
  /** Expressions finished over the loaded rows (derived.ts `finish`); output keys are "c0", "c1", ... */
  readonly post?: PostPlan;
}

export interface TranslateOptions {
  readonly catalog: readonly CatalogCube[];
  readonly params: ParamSource;
  readonly now: Date;
  readonly timezone: string;
  readonly position: PositionOf;
}

export function translateSelect(select: Node, opts: TranslateOptions): SemanticPlan {
  const ctx = createContext(opts);
  const { parts, columns, post } = selectStatement(ctx, asSelect(select), true);
  const items = columns.map((c) => c.item);
  if (!parts.measures.length && !parts.dimensions.length && !parts.timeDimensions.length && !parts.empty) {
    if (items.some((i) => i.kind === 'segment')) {
      throw ctx.at.unsupported('a segment column has no per-row value; select a dimension or a measure with it, or filter on it in WHERE');
    }
    throw ctx.at.unsupported('select at least one dimension or measure of the table (constant-only selects over a cube are not supported)');
  }
  const query: SemanticQuery = {
    ...(parts.measures.length ? { measures: parts.measures } : {}),
    ...(parts.dimensions.length ? { dimensions: parts.dimensions } : {}),
    ...(parts.timeDimensions.length ? { timeDimensions: parts.timeDimensions } : {}),
    ...(parts.segments.length ? { segments: parts.segments } : {}),
    ...(parts.filters.length ? { filters: parts.filters.flatMap((f) => conjuncts(withSqlNulls(f))) } : {}),
    ...(parts.order.length ? { order: parts.order } : {}),
    ...(parts.limit !== undefined ? { limit: parts.limit } : {}),
    ...(parts.offset ? { offset: parts.offset } : {}),
    timezone: opts.timezone,
  };
  return {
    query,
    empty: parts.empty,
    columns: columns.map(({ name, item }, i) => ({ name, oid: itemOid(item), source: post ? { kind: 'key', key: `c${i}` } : itemSource(item) })),
    ...(post ? { post } : {}),
  };
}

/** Cube or view names a statement reads through RangeVars in schema public (or unqualified). */
export function isCubeRangeVar(rv: Node, catalog: readonly CatalogCube[]): boolean {
  const schema: string | undefined = rv.schemaname;
  if (schema && schema !== 'public') return false;
  return catalog.some((c) => c.name === rv.relname);
}
