/**
 * Decides where a statement goes: the semantic path (it reads a cube or view), the catalog
 * engine (pg_catalog / information_schema / constant selects), local handling (SET, SHOW,
 * transactions...), or a refusal. Refusal is the default for anything unrecognised.
 */
import type { CatalogCube } from '../query/types.js';
import type { ParsedStatement } from './parse.js';
import { SqlError, SQLSTATE } from './sql-error.js';
import { type Node, plainName, type PositionOf, walk } from './translate/ast.js';
import { isCubeRangeVar } from './translate/select.js';

export type Route =
  | { readonly kind: 'semantic'; readonly select: Node }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'local' }
  | { readonly kind: 'refused'; readonly error: SqlError };

const LOCAL = new Set(['TransactionStmt', 'VariableSetStmt', 'VariableShowStmt', 'DiscardStmt', 'DeallocateStmt']);

/** Functions refused on the catalog engine: sleeping, file access, session-level side effects, unbounded work. */
const DENIED_FUNCTIONS = new Set([
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'repeat',
  'lpad',
  'rpad',
  'set_config',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_dir',
  'pg_stat_file',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_notify',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'table_to_xml',
  'cursor_to_xml',
  'database_to_xml',
  'schema_to_xml',
  'dblink',
]);
const DENIED_PREFIXES = [
  'lo_',
  'pg_advisory',
  'pg_try_advisory',
  'pg_create_',
  'pg_drop_',
  'pg_logical_',
  'pg_replication_',
  'pg_ls_',
  'pg_file',
  'pg_import',
  'pg_switch',
  'pg_backup',
  'dblink',
];
const WRITE_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** `position` maps parse-tree byte offsets (relative to the whole query string) to 1-based characters. */
export function route(stmt: ParsedStatement, catalog: readonly CatalogCube[], position: PositionOf): Route {
  const refused = (code: string, message: string, location?: number): Route => ({
    kind: 'refused',
    error: new SqlError(code, message, position(location)),
  });
  if (LOCAL.has(stmt.kind)) return { kind: 'local' };
  if (stmt.kind !== 'SelectStmt') {
    const what = stmt.kind
      .replace(/Stmt$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toUpperCase();
    if (stmt.kind === 'ExplainStmt') return refused(SQLSTATE.NOT_SUPPORTED, 'EXPLAIN is not supported');
    return refused(SQLSTATE.READ_ONLY, `Strata's SQL interface is read-only: ${what} is not allowed`);
  }
  const cubes: Node[] = [];
  const others: Node[] = [];
  walk(stmt.node, (key, value) => {
    if (key === 'RangeVar') (isCubeRangeVar(value, catalog) ? cubes : others).push(value);
  });
  if (cubes.length) {
    const cteNames = new Set<string>();
    walk(stmt.node, (key, value) => {
      if (key === 'CommonTableExpr') cteNames.add(value.ctename);
    });
    const foreign = others.find((o) => !cteNames.has(o.relname));
    if (foreign) {
      return refused(SQLSTATE.NOT_SUPPORTED, 'cube tables cannot be combined with catalog or unknown tables in one query', foreign.location);
    }
    // Composed statements run their non-cube part on the Postgres engine: the same limits apply.
    return engineProblem(stmt.node, refused) ?? { kind: 'semantic', select: stmt.node.SelectStmt };
  }
  return engineProblem(stmt.node, refused) ?? { kind: 'catalog' };
}

/**
 * What may never run on the Postgres engine (catalog queries, and the part of a composed statement
 * that runs over leaf rows): writes, WITH RECURSIVE, SELECT INTO / FOR UPDATE, denied functions.
 */
function engineProblem(node: Node, refused: (code: string, message: string, location?: number) => Route): Route | undefined {
  let problem: Route | undefined;
  walk(node, (key, value) => {
    if (problem) return;
    if (WRITE_NODES.has(key)) problem = refused(SQLSTATE.READ_ONLY, "Strata's SQL interface is read-only");
    else if ((key === 'withClause' || key === 'WithClause') && value.recursive)
      problem = refused(SQLSTATE.NOT_SUPPORTED, 'WITH RECURSIVE is not supported', value.ctes?.[0]?.CommonTableExpr?.location);
    else if (key === 'SelectStmt' && (value.intoClause || value.lockingClause?.length)) {
      problem = refused(SQLSTATE.NOT_SUPPORTED, 'SELECT INTO and FOR UPDATE/SHARE are not supported');
    } else if (key === 'FuncCall') {
      const name = plainName(value.funcname).replace(/^pg_catalog\./, '');
      const base = name.split('.').at(-1)!;
      if (DENIED_FUNCTIONS.has(base) || DENIED_PREFIXES.some((p) => base.startsWith(p))) {
        problem = refused(SQLSTATE.INSUFFICIENT_PRIVILEGE, `function ${base}() is not available through Strata's SQL interface`, value.location);
      }
    }
  });
  return problem;
}
