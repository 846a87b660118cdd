/**
 * Documented bounds of a semantic query, checked before any other work (and without recursion, so a
 * filter nested 5,000 deep is a coded BAD_USER_INPUT, not a stack overflow). Every door's queries are
 * normalized here, so every door refuses the same inputs with the same message.
 */
import { UserError } from '../errors.js';

export const QUERY_BOUNDS = Object.freeze({
  /** and/or nesting of filters. */
  maxFilterDepth: 16,
  /** Filter entries in one query, and/or groups included. */
  maxFilterNodes: 1_000,
  /** Values of one filter (an `in` / equals list). */
  maxFilterValues: 10_000,
  /** Characters of one string value. */
  maxValueLength: 1_024,
  /** Characters of all values of a query: what the engine's statement can carry. */
  maxTotalValueChars: 200_000,
  /** Members in measures + dimensions + segments + timeDimensions + order. */
  maxMembers: 500,
});

function tooBig(message: string, limit: number): UserError {
  return new UserError('BAD_USER_INPUT', message, { limit });
}

export function checkQueryBounds(query: Readonly<Record<string, unknown>>): void {
  const b = QUERY_BOUNDS;
  let members = 0;
  for (const k of ['measures', 'dimensions', 'segments', 'timeDimensions']) {
    const v = query[k];
    if (Array.isArray(v)) members += v.length;
  }
  if (members > b.maxMembers) throw tooBig(`a query may name at most ${b.maxMembers} members`, b.maxMembers);

  const filters = query.filters;
  if (!Array.isArray(filters)) return;
  const stack: [unknown, number][] = filters.map((f) => [f, 1]);
  let nodes = 0;
  let chars = 0;
  while (stack.length) {
    const [f, depth] = stack.pop() as [unknown, number];
    if (++nodes > b.maxFilterNodes) throw tooBig(`a query may hold at most ${b.maxFilterNodes} filters`, b.maxFilterNodes);
    if (depth > b.maxFilterDepth) throw tooBig(`filters may be nested at most ${b.maxFilterDepth} deep (and/or)`, b.maxFilterDepth);
    if (typeof f !== 'object' || f === null) continue;
    const o = f as Record<string, unknown>;
    for (const op of ['and', 'or']) {
      const inner = o[op];
      if (Array.isArray(inner)) for (const x of inner) stack.push([x, depth + 1]);
    }
    const values = o.values;
    if (!Array.isArray(values)) continue;
    if (values.length > b.maxFilterValues) throw tooBig(`a filter may list at most ${b.maxFilterValues} values`, b.maxFilterValues);
    for (const v of values) {
      if (typeof v !== 'string') continue;
      if (v.length > b.maxValueLength) throw tooBig(`a filter value may be at most ${b.maxValueLength} characters long`, b.maxValueLength);
      chars += v.length;
    }
    if (chars > b.maxTotalValueChars) throw tooBig(`the filter values of a query may total at most ${b.maxTotalValueChars} characters`, b.maxTotalValueChars);
  }
}
