/** A cube reads from exactly one of `sql_table` or `sql`. */
import type { ModelProblem } from '../../errors.js';
import type { Rule } from '../rule-context.js';

export const cubeSource: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  for (const cube of ctx.rawCubes) {
    const label = `cube "${cube.str('name') ?? '?'}"`;
    const hasTable = cube.has('sql_table');
    const hasSql = cube.has('sql');
    if (hasTable && hasSql) {
      out.push({ file: cube.file, line: cube.get('sql')!.keyLine, message: `${label} declares both sql_table and sql; use one` });
    } else if (!hasTable && !hasSql) {
      out.push({ file: cube.file, line: cube.line, message: `${label} declares neither sql_table nor sql` });
    }
    const table = cube.str('sql_table');
    if (table !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table.trim())) {
      out.push({ file: cube.file, line: cube.lineOf('sql_table'), message: `invalid sql_table "${table}" for ${label}: use "table" or "database.table"` });
    }
  }
  return out;
};
