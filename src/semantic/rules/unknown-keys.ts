/** Every key must be one the schema knows; typos get a suggestion (`titel` -> `title`). */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { SCHEMA, UNSUPPORTED } from '../yaml-shapes.js';
import { suggest } from '../suggest.js';
import { walkObjects } from '../walk.js';

export const unknownKeys: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const file of ctx.files) {
    for (const { kind, obj, label } of walkObjects(file)) {
      const allowed = SCHEMA[kind];
      for (const field of obj.fields.values()) {
        if (Object.hasOwn(allowed, field.key)) continue;
        if (UNSUPPORTED[kind]?.includes(field.key)) {
          out.push({ file: obj.file, line: field.keyLine, message: `"${field.key}" in ${label} is a Cube feature Strata does not support` });
          continue;
        }
        const suggestion = suggest(field.key, Object.keys(allowed));
        out.push({
          file: obj.file,
          line: field.keyLine,
          message: `unknown key "${field.key}" in ${label}`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
    }
  }
  return out;
};
