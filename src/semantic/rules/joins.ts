/** A join names a cube that exists and is not the joining cube itself. */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';

export const joins: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) {
    const from = cube.str('name') ?? '?';
    for (const j of cube.list('joins')) {
      const target = j.str('name');
      if (target === undefined) continue;
      if (target === from) {
        out.push({ file: j.file, line: j.lineOf('name'), message: `cube "${from}" joins itself; self-joins are not supported` });
      } else if (!ctx.cubeNames.has(target)) {
        const suggestion = suggest(target, ctx.cubeNames);
        out.push({
          file: j.file,
          line: j.lineOf('name'),
          message: `cube "${from}" joins unknown cube "${target}"`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
  }
  return out;
};
