/**
 * Each view entry's join_path starts at a cube and follows joins declared on the previous
 * cube; all entries of a view start at the same root cube.
 */
import type { ModelProblem } from '../../errors.js';
import { walkJoinPath } from '../build.js';
import type { Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';

export const viewJoinPaths: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const cubes = ctx.built.cubes;
  for (const view of ctx.rawViews) {
    const vn = view.str('name') ?? '?';
    const entries = view.list('cubes');
    if (entries.length === 0) {
      out.push({ file: view.file, line: view.line, message: `view "${vn}" lists no cubes` });
      continue;
    }
    let root: string | undefined;
    for (const vc of entries) {
      const path = vc.str('join_path');
      if (path === undefined) {
        if (!vc.has('join_path')) out.push({ file: vc.file, line: vc.line, message: `an entry of view "${vn}" has no join_path` });
        continue;
      }
      const line = vc.lineOf('join_path');
      const walked = walkJoinPath(path, cubes);
      if (!walked.ok) {
        const segs = path.split('.').map((s) => s.trim());
        if (walked.reason === 'unknown_cube' && walked.index === 0) {
          const suggestion = suggest(walked.segment, Object.keys(cubes));
          out.push({
            file: vc.file,
            line,
            message: `join_path "${path}" of view "${vn}": unknown cube "${walked.segment}"`,
            ...(suggestion ? { suggestion } : {}),
          });
        } else {
          const prev = segs[walked.index - 1];
          const suggestion = suggest(walked.segment, Object.keys(cubes[prev].joins));
          out.push({
            file: vc.file,
            line,
            message: `join_path "${path}" of view "${vn}": cube "${prev}" declares no join to "${walked.segment}"`,
            ...(suggestion ? { suggestion } : {}),
          });
        }
        continue;
      }
      if (root === undefined) root = walked.cubes[0];
      else if (walked.cubes[0] !== root) {
        out.push({ file: vc.file, line, message: `join_path "${path}" of view "${vn}" starts at "${walked.cubes[0]}", but the view's root cube is "${root}"` });
      }
    }
  }
  return out;
};
