/**
 * View includes/excludes name members of the entry's cube, and the exposed names (after
 * prefix / alias) do not collide within the view.
 */
import type { ModelProblem } from '../../errors.js';
import { allCubeMembers, excludedNames, findMember, viewIncludes, viewMemberDrafts, walkJoinPath } from '../build.js';
import type { Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';

export const viewMembers: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  for (const view of ctx.rawViews) {
    const vn = view.str('name') ?? '?';
    for (const vc of view.list('cubes')) {
      const path = vc.str('join_path');
      const walked = path ? walkJoinPath(path, cubes) : undefined;
      if (!walked?.ok) continue; // reported by view-join-paths
      const cubeName = walked.cubes[walked.cubes.length - 1];
      const cube = cubes[cubeName];
      const names = allCubeMembers(cube).map((m) => m.name);
      if (!vc.has('includes')) out.push({ file: vc.file, line: vc.line, message: `entry "${path}" of view "${vn}" has no includes (use "*" or a list)` });
      for (const inc of viewIncludes(vc, cube)) {
        if (findMember(cube, inc.member)) continue;
        const suggestion = suggest(inc.member, names);
        out.push({
          file: vc.file,
          line: inc.line,
          message: `view "${vn}" includes unknown member "${cubeName}.${inc.member}"`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
      for (const name of excludedNames(vc)) {
        if (findMember(cube, name)) continue;
        const suggestion = suggest(name, names);
        out.push({
          file: vc.file,
          line: vc.lineOf('excludes'),
          message: `view "${vn}" excludes unknown member "${cubeName}.${name}"`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
    const seen = new Map<string, string>();
    for (const d of viewMemberDrafts(view, vn, '', true, ctx.built)) {
      const first = seen.get(d.member.name);
      if (first === undefined) seen.set(d.member.name, d.member.target);
      else {
        out.push({
          file: view.file,
          line: d.line,
          message: `view "${vn}" exposes "${d.member.name}" twice (${first} and ${d.member.target}); use prefix: true, an alias or excludes`,
        });
      }
    }
  }
  return out;
};
