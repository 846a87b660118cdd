/** Every {cube.member} / {member} in a SQL snippet names something that exists (with a suggestion). */
import type { ModelProblem } from '../../errors.js';
import { allCubeMembers, findMember } from '../build.js';
import type { Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';
import { templateMemberRefs } from '../template.js';
import { describeOwner } from '../walk.js';

export const memberRefs: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  for (const s of ctx.snippets) {
    if (!s.template) continue;
    const where = describeOwner(s.cube, s.owner);
    for (const ref of templateMemberRefs(s.template)) {
      const cube = Object.hasOwn(cubes, ref.cube) ? cubes[ref.cube] : undefined;
      if (!cube) {
        const suggestion = suggest(ref.cube, Object.keys(cubes));
        out.push({
          file: s.file,
          line: s.line,
          message: `unknown cube "${ref.cube}" referenced as {${ref.cube}.${ref.member}} in ${where}`,
          ...(suggestion ? { suggestion } : {}),
        });
        continue;
      }
      if (findMember(cube, ref.member)) continue;
      const names = allCubeMembers(cube).map((m) => m.name);
      // A bare {name} may also be a misspelt cube ({campains} for {campaigns}).
      const suggestion = ref.cube === s.cube ? suggest(ref.member, [...names, ...Object.keys(cubes)]) : suggest(ref.member, names);
      const shown = ref.cube === s.cube || !suggestion ? suggestion : `${ref.cube}.${suggestion}`;
      out.push({
        file: s.file,
        line: s.line,
        message: `unknown member "${ref.cube}.${ref.member}" referenced in ${where}`,
        ...(shown ? { suggestion: shown } : {}),
      });
    }
  }
  return out;
};
