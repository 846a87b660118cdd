/** A cube that takes part in any join needs a primary_key dimension (fan-out-safe aggregation). */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';

export const primaryKeys: Rule = (ctx) => {
  const cubes = ctx.built.cubes;
  const joined = new Set<string>();
  for (const cube of Object.values(cubes)) {
    for (const target of Object.keys(cube.joins)) {
      if (!Object.hasOwn(cubes, target)) continue;
      joined.add(cube.name);
      joined.add(target);
    }
  }
  const out: ModelProblem[] = [];
  for (const name of [...joined].sort()) {
    const cube = cubes[name];
    if (cube.primaryKey.length > 0) continue;
    out.push({
      ...cube.location,
      message: `cube "${name}" takes part in a join but declares no primary key; add \`primary_key: true\` to its key dimension`,
    });
  }
  return out;
};
