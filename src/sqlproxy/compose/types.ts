/** Shared shapes of the compose step. */
import type { CatalogCube } from '../../query/types.js';
import type { Cell } from '../pg-types.js';
import type { Node, Positioned } from '../translate/ast.js';
import type { SemanticPlan } from '../translate/select.js';

/** A select over cubes answered by the query service: its plan and its cells (none while describing). */
export interface LeafRows {
  readonly plan: SemanticPlan;
  readonly rows: readonly (readonly Cell[])[];
}

export interface ComposeContext {
  readonly catalog: readonly CatalogCube[];
  readonly at: Positioned;
  /** Translates one select over cubes; throws the translator's SqlError when it cannot. */
  translate(select: Node): SemanticPlan;
  /** Translates and loads one select over cubes (scopes, tenant, cache, audit: the query service's). */
  evaluate(select: Node): Promise<LeafRows>;
  /**
   * Answers a select the translator cannot take whole (a subquery with its own UNION, windows or
   * aggregated subqueries) as a statement of its own: its result types and cells.
   */
  evaluateComposed?(select: Node): Promise<{ readonly oids: readonly number[]; readonly rows: readonly (readonly Cell[])[] }>;
  /** False while describing a statement (Parse/Describe): nothing is loaded. */
  readonly loading: boolean;
}

/** Most values a subquery may put into an IN list pushed down to the query service. */
export const MAX_IN_LIST = 10_000;
