/**
 * Arguments and selection of a typed cube/view root field -> the semantic query. Shared by the
 * query field and its live subscription twin, so both ask exactly the same thing.
 */
import type { SemanticQuery, TimeDimensionQuery } from '../semantic/query.js';
import type { ExposedMember } from './members.js';
import type { SelectedMember } from './selection.js';
import { type ComparisonInputValue, comparisonOf } from './comparison.js';
import { translateOrderBy, translateWhere, type OrderByInput, type WhereInput } from './args-to-query.js';

export interface RootArgs {
  where?: WhereInput | null;
  orderBy?: OrderByInput[] | null;
  segments?: string[] | null;
  limit?: number | null;
  offset?: number | null;
  timezone?: string | null;
  compareTo?: ComparisonInputValue | null;
  fill?: 'zero' | null;
}

export function rootFieldQuery(byField: ReadonlyMap<string, ExposedMember>, args: RootArgs, selected: readonly SelectedMember[]): SemanticQuery {
  const { filters, dateRanges } = translateWhere(args.where, byField);
  const measures: string[] = [];
  const dimensions: string[] = [];
  const timeDimensions: TimeDimensionQuery[] = [];
  for (const { member, granularity } of selected) {
    if (member.kind === 'measure') measures.push(member.path);
    else if (granularity) {
      const range = dateRanges.get(member.path);
      timeDimensions.push(range === undefined ? { dimension: member.path, granularity } : { dimension: member.path, granularity, dateRange: range });
    } else dimensions.push(member.path);
  }
  // A date range on a time dimension that is not selected still narrows the rows.
  for (const [dimension, dateRange] of dateRanges) {
    if (!timeDimensions.some((td) => td.dimension === dimension)) timeDimensions.push({ dimension, dateRange });
  }
  const order = translateOrderBy(args.orderBy, byField);
  const compareTo = comparisonOf(args.compareTo);
  return {
    ...(measures.length ? { measures } : {}),
    ...(dimensions.length ? { dimensions } : {}),
    ...(timeDimensions.length ? { timeDimensions } : {}),
    ...(filters.length ? { filters } : {}),
    ...(args.segments?.length ? { segments: [...new Set(args.segments)] } : {}),
    ...(order.length ? { order } : {}),
    ...(args.limit != null ? { limit: args.limit } : {}),
    ...(args.offset != null ? { offset: args.offset } : {}),
    ...(args.timezone != null ? { timezone: args.timezone } : {}),
    ...(compareTo ? { compareTo } : {}),
    ...(args.fill ? { fill: args.fill } : {}),
  };
}
