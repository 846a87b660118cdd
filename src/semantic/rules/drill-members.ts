/** drill_members name dimensions that exist ("name" in the same cube, or "cube.name"). */
import type { ModelProblem } from '../../errors.js';
import { drillMembers } from '../build.js';
import { forEachMember, type Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';

export const drillMembersExist: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  forEachMember(ctx, (cube, section, m, label) => {
    if (section !== 'measures' || !m.has('drill_members')) return;
    const own = cube.str('name') ?? '';
    for (const path of drillMembers(m.get('drill_members')!.value, own)) {
      const [c, name] = [path.slice(0, path.indexOf('.')), path.slice(path.indexOf('.') + 1)];
      const target = Object.hasOwn(cubes, c) ? cubes[c] : undefined;
      if (target && Object.hasOwn(target.dimensions, name)) continue;
      const candidates = Object.values(cubes).flatMap((x) => Object.keys(x.dimensions).map((d) => (x.name === own ? d : `${x.name}.${d}`)));
      const shown = c === own ? name : path;
      const suggestion = suggest(shown, candidates);
      out.push({
        file: m.file,
        line: m.lineOf('drill_members'),
        message: `drill_members of ${label} names unknown dimension "${path}"`,
        ...(suggestion ? { suggestion } : {}),
      });
    }
  });
  return out;
};
