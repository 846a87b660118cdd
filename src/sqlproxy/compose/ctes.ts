/**
 * Non-recursive WITH queries inlined as subqueries in FROM (what Postgres 12+ does itself for a CTE
 * read once): the plain mapping then sees `FROM (SELECT …) AS t`, which it may push down whole
 * (Superset's virtual datasets, SQL Lab's CTEs), and the rest of compose never meets a WITH.
 */
import { type Node, kindOf } from '../translate/ast.js';
import { clone } from './nodes.js';

/** `written` with its WITH inlined, or undefined when that cannot be done (recursive, shadowed names, …). */
export function inlineCtes(written: Node): Node | undefined {
  const s = clone(written);
  const withClause = s.withClause;
  if (!withClause || withClause.recursive) return undefined;
  const ctes: Node[] = withClause.ctes.map((c: Node) => c.CommonTableExpr);
  if (ctes.some((c) => c.ctematerialized === 'CTEMaterializeAlways' || kindOf(c.ctequery) !== 'SelectStmt')) return undefined;
  const defined = new Map<string, Node>();
  for (const cte of ctes) {
    const body = cte.ctequery.SelectStmt;
    // A CTE may read the ones defined before it.
    if (!replaceReferences(body, defined)) return undefined;
    defined.set(cte.ctename, cte);
  }
  delete s.withClause;
  return replaceReferences(s, defined) ? s : undefined;
}

/** Replaces RangeVars naming a CTE of `defined` by the CTE's query; false if a name is shadowed. */
function replaceReferences(root: Node, defined: ReadonlyMap<string, Node>): boolean {
  let ok = true;
  const visit = (n: unknown): void => {
    if (!ok || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (let i = 0; i < n.length; i++) {
        const r = substitute(n[i], defined);
        if (r) n[i] = r;
        else visit(n[i]);
      }
      return;
    }
    const o = n as Node;
    if (o.withClause?.ctes?.some((c: Node) => defined.has(c.CommonTableExpr.ctename))) {
      ok = false; // a nested WITH redefines a name: leave the statement as written
      return;
    }
    for (const [k, v] of Object.entries(o)) {
      const r = substitute(v, defined);
      if (r) o[k] = r;
      else visit(v);
    }
  };
  visit(root);
  return ok;
}

function substitute(n: unknown, defined: ReadonlyMap<string, Node>): Node | undefined {
  if (!n || typeof n !== 'object' || Array.isArray(n) || kindOf(n as Node) !== 'RangeVar') return undefined;
  const rv = (n as Node).RangeVar;
  if (rv.schemaname || !defined.has(rv.relname)) return undefined;
  const cte = defined.get(rv.relname)!;
  const colnames: Node[] | undefined = cte.aliascolnames;
  const alias = { aliasname: rv.alias?.aliasname ?? rv.relname, ...(rv.alias?.colnames ? { colnames: rv.alias.colnames } : colnames ? { colnames } : {}) };
  return { RangeSubselect: { subquery: { SelectStmt: clone(cte.ctequery.SelectStmt) }, alias } };
}
