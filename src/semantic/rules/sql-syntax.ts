/** Every SQL snippet parses as a template (closed braces, valid references). */
import type { Rule } from '../rule-context.js';
import { describeOwner } from '../walk.js';

export const sqlSyntax: Rule = (ctx) =>
  ctx.snippets.flatMap((s) =>
    s.error ? [{ file: s.file, line: s.line, message: `invalid SQL template in ${describeOwner(s.cube, s.owner)}: ${s.error}` }] : [],
  );
