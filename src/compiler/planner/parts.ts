/** What the planner's stages produce (PlanParts) and what it hands to compile.ts (Planned). */
import type { Model } from '../../semantic/model.js';
import type { NormalizedQuery } from '../../semantic/query.js';
import type { CompiledColumn } from '../compiled.js';
import type { Expr, ParamBag, Select } from '../plan-tree.js';
import type { SplitColumns } from '../split.js';
import type { OutputColumns } from './columns.js';
import type { MeasureGroups } from './groups.js';
import type { JoinedSource } from './joins.js';
import type { QueryMembers } from './resolve.js';
import type { WherePlan } from './where.js';

export interface PlanParts {
  readonly model: Model;
  readonly query: NormalizedQuery;
  /** Binds user values as p0, p1, … in the order the stages bind them. */
  readonly params: ParamBag;
  /** The query zone ({tz:String}). */
  readonly tz: Expr;
  readonly members: QueryMembers;
  readonly source: JoinedSource;
  readonly columns: OutputColumns;
  readonly where: WherePlan;
  readonly groups: MeasureGroups;
}

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
