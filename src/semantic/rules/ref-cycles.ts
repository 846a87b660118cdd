/** Members may not reference themselves, directly or through other members. */
import type { ModelProblem } from '../../errors.js';
import { findMember } from '../build.js';
import type { Rule } from '../rule-context.js';
import { templateMemberRefs } from '../template.js';

export const refCycles: Rule = (ctx) => {
  const cubes = ctx.built.cubes;
  const edges = new Map<string, Set<string>>();
  const where = new Map<string, { file: string; line: number }>();
  for (const s of ctx.snippets) {
    if (!s.template || !('member' in s.owner)) continue;
    const from = `${s.cube}.${s.owner.member}`;
    if (!where.has(from)) where.set(from, { file: s.file, line: s.line });
    const set = edges.get(from) ?? new Set<string>();
    edges.set(from, set);
    for (const ref of templateMemberRefs(s.template)) {
      const cube = Object.hasOwn(cubes, ref.cube) ? cubes[ref.cube] : undefined;
      const target = cube ? findMember(cube, ref.member) : undefined;
      if (target) set.add(target.path);
    }
  }
  const out: ModelProblem[] = [];
  const reported = new Set<string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      const st = state.get(next);
      if (st === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next));
        const key = [...cycle].sort().join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          const loc = where.get(cycle[0])!;
          out.push({ ...loc, message: `reference cycle: ${[...cycle, next].join(' -> ')}` });
        }
      } else if (st === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return out;
};
