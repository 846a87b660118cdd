/**
 * A member computed from a scoped member needs at least that member's scopes; otherwise a
 * caller without the scope could read the protected value through it (cpc = cost / clicks).
 */
import type { ModelProblem } from '../../errors.js';
import { findMember } from '../build.js';
import type { Rule } from '../rule-context.js';
import { templateMemberRefs } from '../template.js';
import { describeOwner } from '../walk.js';

export const scopeInheritance: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  for (const s of ctx.snippets) {
    if (!s.template || !('member' in s.owner)) continue;
    const owner = Object.hasOwn(cubes, s.cube) ? findMember(cubes[s.cube], s.owner.member) : undefined;
    if (!owner) continue;
    const have = new Set(owner.scopes);
    for (const ref of templateMemberRefs(s.template)) {
      const target = Object.hasOwn(cubes, ref.cube) ? findMember(cubes[ref.cube], ref.member) : undefined;
      const missing = target ? target.scopes.filter((sc) => !have.has(sc)) : [];
      if (missing.length === 0) continue;
      out.push({
        file: s.file,
        line: s.line,
        message: `${describeOwner(s.cube, s.owner)} references "${target!.path}", which requires scope ${missing.map((m) => `"${m}"`).join(', ')}; add it to the scopes of "${owner.path}"`,
      });
    }
  }
  return out;
};
