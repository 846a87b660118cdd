/**
 * A filter a dashboard declares: its name, what it filters, a default, and the member it controls in
 * each widget (or none). Stored with each dashboard version; checked and resolved in query/dashboard-filters.ts.
 */
import type { FilterOperator } from './query.js';

export interface DeclaredFilter {
  readonly name: string;
  readonly type: 'dateRange' | 'member';
  /** The member bound in widgets the bindings do not list (dateRange: a time dimension; omitted = each widget's first). */
  readonly member?: string | null;
  /** Member filters: how values match (default equals). */
  readonly operator?: FilterOperator;
  /** Used when the opener gives no value: member values, or a dateRange ([from, to] or a phrase). */
  readonly default?: readonly string[] | string | null;
  /** Per widget id: the member this filter controls there, or null (the widget ignores it). */
  readonly bindings?: Readonly<Record<string, string | null>>;
}
