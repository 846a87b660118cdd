/** Scope strings (cube- and member-level) look like "finance:read". */
import type { ModelProblem } from '../../errors.js';
import type { RawObject } from '../raw.js';
import { forEachMember, type Rule } from '../rule-context.js';
import { SCOPE } from '../yaml-shapes.js';

function check(obj: RawObject, label: string, out: ModelProblem[]): void {
  const v = obj.get('scopes')?.value;
  if (!Array.isArray(v)) return;
  for (const s of v) {
    if (typeof s === 'string' && !SCOPE.test(s)) {
      out.push({ file: obj.file, line: obj.lineOf('scopes'), message: `invalid scope "${s}" in ${label}: use letters, digits and _ : . - * /` });
    }
  }
}

export const scopes: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) check(cube, `cube "${cube.str('name') ?? '?'}"`, out);
  forEachMember(ctx, (_c, _s, m, label) => check(m, label, out));
  return out;
};
