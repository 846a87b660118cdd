/**
 * What a snippet may reference: only `number` measures reference measures, and a `number`
 * measure references nothing but measures; every other snippet references dimensions only.
 * Segments are filters, never SQL values. Join SQL stays within its two cubes; a cube's own
 * sql and its refresh_key sql reference no members.
 */
import type { ModelProblem } from '../../errors.js';
import { findMember } from '../build.js';
import type { Rule } from '../rule-context.js';
import { templateMemberRefs } from '../template.js';
import { describeOwner } from '../walk.js';

export const measureRefs: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  for (const s of ctx.snippets) {
    if (!s.template) continue;
    const where = describeOwner(s.cube, s.owner);
    for (const ref of templateMemberRefs(s.template)) {
      const cube = Object.hasOwn(cubes, ref.cube) ? cubes[ref.cube] : undefined;
      const target = cube ? findMember(cube, ref.member) : undefined;
      if (!target) continue; // reported by member-refs
      const path = target.path;
      const add = (message: string) => out.push({ file: s.file, line: s.line, message });
      if (s.owner.kind === 'cube' || s.owner.kind === 'refresh_key') {
        add(`${where} may not reference member "${path}" (only {CUBE} and cube names)`);
      } else if (target.kind === 'segment') {
        add(`${where} references segment "${path}"; segments are filters and cannot be used in SQL`);
      } else if (s.owner.kind === 'measure' && s.owner.type === 'number') {
        if (target.kind !== 'measure') add(`${where} is of type number and may only reference measures, but references dimension "${path}"`);
      } else if (target.kind === 'measure') {
        if (s.owner.kind === 'measure') add(`${where} references measure "${path}"; only a measure of type number may reference other measures`);
        else add(`${where} references measure "${path}"; only measures of type number may reference measures`);
      } else if (s.owner.kind === 'join' && ref.cube !== s.cube && ref.cube !== s.owner.target) {
        add(`${where} may only reference members of "${s.cube}" and "${s.owner.target}", not "${path}"`);
      }
    }
  }
  return out;
};
