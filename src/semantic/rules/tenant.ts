/**
 * Secure by default: every cube says how it is scoped to tenants — `tenant_column: <column>`
 * or `shared: true` — never both, never neither.
 */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';
import { IDENTIFIER } from '../yaml-shapes.js';

export const tenant: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) {
    const name = cube.str('name') ?? '?';
    const column = cube.get('tenant_column');
    const shared = cube.bool('shared') === true;
    if (column !== undefined && shared) {
      out.push({ file: cube.file, line: column.keyLine, message: `cube ${name} declares both tenant_column and shared: true; use one` });
    } else if (column === undefined && !shared) {
      out.push({
        file: cube.file,
        line: cube.line,
        message: `cube ${name} declares no tenant_column; add \`tenant_column: <column>\` or mark it \`shared: true\``,
      });
    } else if (column !== undefined && typeof column.value === 'string' && !IDENTIFIER.test(column.value)) {
      out.push({ file: cube.file, line: column.line, message: `invalid tenant_column "${column.value}" for cube ${name}: use a plain column name` });
    }
  }
  return out;
};
