/** Each known key holds the kind of value the schema says (string, boolean, list, ...). */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { SCHEMA, type Shape } from '../yaml-shapes.js';
import { walkObjects } from '../walk.js';

const isMapping = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

const CHECKS: Readonly<Record<Shape, { ok: (v: unknown) => boolean; expected: string }>> = {
  string: { ok: (v) => typeof v === 'string', expected: 'a string' },
  sql: { ok: (v) => typeof v === 'string' || typeof v === 'number', expected: 'SQL text' },
  boolean: { ok: (v) => typeof v === 'boolean', expected: 'true or false' },
  map: { ok: isMapping, expected: 'a mapping' },
  list: { ok: (v) => Array.isArray(v) && v.every(isMapping), expected: 'a list of mappings' },
  'string-list': { ok: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), expected: 'a list of strings' },
  includes: {
    ok: (v) => v === '*' || (Array.isArray(v) && v.every((s) => typeof s === 'string' || isMapping(s))),
    expected: '"*" or a list of member names / {name, alias} mappings',
  },
};

export const fieldShapes: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const file of ctx.files) {
    for (const { kind, obj, label } of walkObjects(file)) {
      const shapes = SCHEMA[kind];
      for (const field of obj.fields.values()) {
        if (!Object.hasOwn(shapes, field.key)) continue;
        // An empty `measures:` (null) is harmless; elsewhere null is a missing value.
        if (field.value === null && shapes[field.key] === 'list') continue;
        const check = CHECKS[shapes[field.key]];
        if (!check.ok(field.value)) {
          out.push({ file: obj.file, line: field.line, message: `"${field.key}" of ${label} must be ${check.expected}` });
        }
      }
    }
  }
  return out;
};
