/** Cubes, views, members, joins, granularities and view includes need a name that is an identifier. */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { IDENTIFIER, type ObjectKind } from '../yaml-shapes.js';
import { walkObjects } from '../walk.js';

const NAMED: ReadonlySet<ObjectKind> = new Set(['cube', 'view', 'measure', 'dimension', 'segment', 'join', 'granularity', 'view_include']);

export const names: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const file of ctx.files) {
    for (const { kind, obj, label } of walkObjects(file)) {
      if (!NAMED.has(kind)) continue;
      const field = obj.get('name');
      if (field === undefined || field.value === null || field.value === '') {
        out.push({ file: obj.file, line: obj.line, message: `${label} has no name` });
      } else if (typeof field.value === 'string' && !IDENTIFIER.test(field.value)) {
        out.push({
          file: obj.file,
          line: field.line,
          message: `invalid name "${field.value}" for ${kind.replace('_', ' ')}: use letters, digits and _ (not starting with a digit)`,
        });
      }
    }
  }
  return out;
};
