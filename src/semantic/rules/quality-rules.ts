/** The data-quality extension (meta.strata: natural_key, quality rules) parses and its references resolve. */
import type { ModelProblem } from '../../errors.js';
import { cubeQuality } from '../quality.js';
import type { Rule } from '../rule-context.js';

export const qualityRules: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const model = { cubes: ctx.built.cubes, views: {} };
  for (const cube of Object.values(ctx.built.cubes)) {
    const raw = ctx.built.raws.get(cube.name);
    const line = raw?.lineOf('meta') ?? cube.location.line;
    for (const message of cubeQuality(model, cube).problems) out.push({ file: cube.location.file, line, message: `cube "${cube.name}": ${message}` });
  }
  return out;
};
