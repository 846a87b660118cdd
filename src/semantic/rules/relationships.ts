/** Joins need a relationship Strata knows (Cube's current and legacy spellings). */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { RELATIONSHIPS } from '../yaml-shapes.js';
import { suggest } from '../suggest.js';

const CANONICAL = ['many_to_one', 'one_to_many', 'one_to_one'];

export const relationships: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) {
    for (const join of cube.list('joins')) {
      const label = `join "${cube.str('name') ?? '?'}" -> "${join.str('name') ?? '?'}"`;
      const rel = join.get('relationship');
      if (rel === undefined || rel.value === null) {
        out.push({ file: join.file, line: join.line, message: `${label} has no relationship (one of ${CANONICAL.join(', ')})` });
      } else if (typeof rel.value === 'string' && !Object.hasOwn(RELATIONSHIPS, rel.value)) {
        const suggestion = suggest(rel.value, Object.keys(RELATIONSHIPS));
        out.push({
          file: join.file,
          line: rel.line,
          message: `invalid relationship "${rel.value}" for ${label} (one of ${CANONICAL.join(', ')})`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
  }
  return out;
};
