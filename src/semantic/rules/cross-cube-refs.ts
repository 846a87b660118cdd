/** A member referencing another cube's member needs that cube reachable through declared joins. */
import type { ModelProblem } from '../../errors.js';
import type { Cube } from '../model.js';
import type { Rule } from '../rule-context.js';
import { describeOwner } from '../walk.js';

function reachable(from: string, cubes: Readonly<Record<string, Cube>>): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    const c = cubes[queue.shift()!];
    for (const t of Object.keys(c?.joins ?? {})) {
      if (!seen.has(t) && Object.hasOwn(cubes, t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return seen;
}

export const crossCubeRefs: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  const cache = new Map<string, Set<string>>();
  for (const s of ctx.snippets) {
    if (!s.template || !('member' in s.owner)) continue;
    for (const part of s.template.parts) {
      if (part.kind === 'text' || part.cube === s.cube || !Object.hasOwn(cubes, part.cube)) continue;
      if (!cache.has(s.cube)) cache.set(s.cube, reachable(s.cube, cubes));
      if (cache.get(s.cube)!.has(part.cube)) continue;
      const ref = part.kind === 'member' ? `{${part.cube}.${part.member}}` : `{${part.cube}}`;
      out.push({
        file: s.file,
        line: s.line,
        message: `${describeOwner(s.cube, s.owner)} references ${ref} but cube "${part.cube}" is not reachable from "${s.cube}" through joins`,
      });
    }
  }
  return out;
};
