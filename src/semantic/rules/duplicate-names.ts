/** Names are unique: cubes and views together, members within a cube, joins within a cube. */
import type { ModelProblem } from '../../errors.js';
import type { RawObject } from '../raw.js';
import { MEMBER_SECTIONS, type Rule } from '../rule-context.js';

function checkUnique(items: readonly RawObject[], what: (o: RawObject) => string, out: ModelProblem[]): void {
  const seen = new Map<string, RawObject>();
  for (const obj of items) {
    const name = obj.str('name');
    if (!name) continue;
    const first = seen.get(name);
    if (first) {
      out.push({
        file: obj.file,
        line: obj.lineOf('name'),
        message: `duplicate ${what(obj)} "${name}" (first defined at ${first.file}:${first.lineOf('name')})`,
      });
    } else {
      seen.set(name, obj);
    }
  }
}

export const duplicateNames: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const isView = new Set(ctx.rawViews);
  checkUnique([...ctx.rawCubes, ...ctx.rawViews], (o) => (isView.has(o) ? 'view name' : 'cube name'), out);
  for (const cube of ctx.rawCubes) {
    const cn = cube.str('name') ?? '?';
    checkUnique(
      MEMBER_SECTIONS.flatMap((s) => cube.list(s)),
      () => `member name in cube "${cn}"`,
      out,
    );
    checkUnique(cube.list('joins'), () => `join in cube "${cn}"`, out);
    for (const d of cube.list('dimensions')) checkUnique(d.list('granularities'), () => `granularity in dimension "${cn}.${d.str('name') ?? '?'}"`, out);
  }
  return out;
};
