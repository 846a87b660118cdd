/**
 * Stage 1 — resolve members: every name of the query looked up in the model (known, public, of the
 * kind its slot needs), and the filters sorted into WHERE (dimensions) and HAVING (measures).
 */
import { UserError } from '../../errors.js';
import type { Dimension, Measure, Model, ResolvedMember, Segment } from '../../semantic/model.js';
import type { NormalizedFilter, NormalizedQuery, NormalizedTimeDimension } from '../../semantic/query.js';
import { resolveDimension, resolveFilterMember, resolveMeasure, resolveSegment, resolveTimeDimension, type Resolved } from '../members.js';
import { filterKinds } from '../normalize.js';

export interface TimeDimensionMember {
  /** The query's time dimension (granularity, dateRange). */
  readonly td: NormalizedTimeDimension;
  readonly resolved: Resolved<Dimension>;
}

export interface QueryMembers {
  readonly measures: readonly Resolved<Measure>[];
  readonly dimensions: readonly Resolved<Dimension>[];
  /** In the query's order: a column's `td` and a RangeSplit's `td` index into it. */
  readonly timeDimensions: readonly TimeDimensionMember[];
  readonly segments: readonly Resolved<Segment>[];
  /** Every member the filters name, at any depth of and/or (the join tree must reach them). */
  readonly filterMembers: readonly ResolvedMember[];
  /** Filter groups over dimensions (and `measureFilter`): WHERE. */
  readonly whereFilters: readonly NormalizedFilter[];
  /** Filter groups over measures: HAVING. */
  readonly havingFilters: readonly NormalizedFilter[];
  /** The measures the HAVING filters compare: their leaves are computed with the query's. */
  readonly havingMeasures: readonly Measure[];
}

export function resolveQueryMembers(model: Model, q: NormalizedQuery): QueryMembers {
  const measures = q.measures.map((p) => resolveMeasure(model, p));
  const dimensions = q.dimensions.map((p) => resolveDimension(model, p));
  const timeDimensions = q.timeDimensions.map((td) => ({ td, resolved: resolveTimeDimension(model, td.dimension) }));
  const segments = q.segments.map((p) => resolveSegment(model, p));
  if (measures.length + dimensions.length + timeDimensions.length === 0) {
    throw new UserError('BAD_USER_INPUT', 'a query needs at least one measure, dimension or time dimension');
  }
  const kindOf = filterKinds(model);
  const whereFilters = q.filters.filter((f) => !kindOf(f).includes('measure'));
  const havingFilters = q.filters.filter((f) => kindOf(f).includes('measure'));
  for (const f of q.filters) {
    if (new Set(kindOf(f)).size > 1) throw new UserError('BAD_USER_INPUT', 'a filter group cannot mix measure and dimension filters');
  }
  return {
    measures,
    dimensions,
    timeDimensions,
    segments,
    filterMembers: filterMembers(model, q.filters),
    whereFilters,
    havingFilters,
    havingMeasures: havingFilters.flatMap((f) => filterMeasures(model, f)),
  };
}

function filterMembers(model: Model, filters: readonly NormalizedFilter[]): ResolvedMember[] {
  return filters.flatMap((f) => (f.kind === 'member' ? [resolveFilterMember(model, f.member)] : filterMembers(model, f.filters)));
}

function filterMeasures(model: Model, f: NormalizedFilter): Measure[] {
  if (f.kind !== 'member') return f.filters.flatMap((x) => filterMeasures(model, x));
  const { member } = resolveFilterMember(model, f.member);
  return member.kind === 'measure' && f.operator !== 'measureFilter' ? [member] : [];
}
