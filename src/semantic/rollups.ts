/**
 * Which measures a rollup pre-aggregation can store, and why not (validate-models shows the reason;
 * compiler/rollup/shape.ts builds the columns from the same answers).
 *
 * A rollup stores *leaves*: non-derived sum / count / min / max (combined again by sum / sum / min /
 * max) and count_distinct (an exact uniq state, merged exactly). A number measure is stored through
 * the measures it references. Everything else does not combine from groups into the same answer.
 */
import type { Cube, Measure, Model } from './model.js';
import { templateMemberRefs } from './template.js';

const NOT_STORABLE: Partial<Record<Measure['type'], string>> = {
  avg: 'an average is not additive: averages of groups do not combine into the average of their rows; declare sum and count measures and a number measure dividing them',
  count_distinct_approx: 'approximate distinct counts (uniq) do not merge into the same estimate; use count_distinct, which a rollup stores as an exact state',
  string: 'a string measure is an expression over rows, not an aggregate a rollup can combine',
  time: 'a time measure is an expression over rows, not an aggregate a rollup can combine',
  boolean: 'a boolean measure is an expression over rows, not an aggregate a rollup can combine',
};

const MAX_DEPTH = 32;

/** A number measure computed from other measures (rather than aggregating columns itself). */
export function isDerivedMeasure(model: Model, m: Measure): boolean {
  return m.type === 'number' && !!m.sql && templateMemberRefs(m.sql).some((r) => model.cubes[r.cube]?.measures[r.member] !== undefined);
}

function referenced(model: Model, m: Measure): Measure[] {
  if (!m.sql) return [];
  return templateMemberRefs(m.sql).flatMap((r) => {
    const ref = model.cubes[r.cube]?.measures[r.member];
    return ref ? [ref] : [];
  });
}

/** Why a rollup of `cube` cannot store the measure (and what it is computed from), or undefined. */
export function rollupRefusal(model: Model, cube: Cube, m: Measure, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return 'it references itself';
  if (isDerivedMeasure(model, m)) {
    if (m.sql && templateMemberRefs(m.sql).some((r) => model.cubes[r.cube]?.measures[r.member] === undefined))
      return 'it combines measures with columns read directly, which a rollup row no longer has';
    for (const ref of referenced(model, m)) {
      if (ref.cube !== cube.name) return `it reads ${ref.path} of another cube`;
      const why = rollupRefusal(model, cube, ref, depth + 1);
      if (why) return `it is computed from ${ref.path}, which cannot be stored: ${why}`;
    }
    return undefined;
  }
  if (m.type === 'number') return 'a number measure with its own aggregate SQL: Strata cannot tell how groups of it combine';
  const reason = NOT_STORABLE[m.type];
  if (reason) return reason;
  if (m.type === 'count' && !m.sql && cube.primaryKey.length > 1) return 'a count of rows by a composite primary key';
  const foreign = [m.sql, ...m.filters].flatMap((t) => (t ? templateMemberRefs(t) : [])).find((r) => r.cube !== cube.name);
  if (foreign) return `it reads ${foreign.cube}.${foreign.member} of another cube`;
  return undefined;
}

/** The non-derived measures a measure is computed from (itself when it is not derived). */
export function measureLeaves(model: Model, m: Measure, out: Measure[] = [], depth = 0): Measure[] {
  if (depth > MAX_DEPTH) return out;
  if (!isDerivedMeasure(model, m)) out.push(m);
  else for (const ref of referenced(model, m)) measureLeaves(model, ref, out, depth + 1);
  return out;
}
