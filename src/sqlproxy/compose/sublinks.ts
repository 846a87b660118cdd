/**
 * Uncorrelated subqueries in a select that reads cubes (`x IN (SELECT …)`, `EXISTS (…)`,
 * `(SELECT max(…) …)`) are answered first, and their values become literals: the outer select
 * then maps onto one semantic query with an ordinary filter, pushed down like any other.
 */
import { SqlError, SQLSTATE } from '../sql-error.js';
import { type Node, kindOf, strings } from '../translate/ast.js';
import type { Cell } from '../pg-types.js';
import { needsCompose } from './features.js';
import { and, boolConst, equals, inList, not, nullConst, or, visitExpr } from './nodes.js';
import { type ComposeContext, MAX_IN_LIST } from './types.js';
import { literalOf } from './literals.js';

/** Replaces the sublinks of one query level (select list, WHERE, HAVING) by their values. */
export async function inlineSublinks(s: Node, ctx: ComposeContext): Promise<void> {
  const positive = positiveConjuncts(s);
  for (const field of ['targetList', 'whereClause', 'havingClause']) {
    const links: Node[] = [];
    visitExpr(s[field], (n) => {
      if (kindOf(n) === 'SubLink') links.push(n);
    });
    const values = new Map<Node, Node>();
    for (const link of links) values.set(link, await sublinkValue(link, positive.get(link) ?? 'other', ctx));
    if (values.size) s[field] = replace(s[field], values);
  }
}

/**
 * Sublinks standing alone in the top-level AND chain of WHERE/HAVING ('plain'), or under one NOT there
 * ('negated'): in those places NULL and false both drop the row, so a NULL in the subquery's values
 * only ever fails to match.
 */
function positiveConjuncts(s: Node): Map<Node, Position> {
  const out = new Map<Node, Position>();
  const visit = (n: Node | undefined): void => {
    if (!n) return;
    if (kindOf(n) === 'BoolExpr' && n.BoolExpr.boolop === 'AND_EXPR') for (const a of n.BoolExpr.args) visit(a);
    else if (kindOf(n) === 'SubLink') out.set(n, 'plain');
    else if (kindOf(n) === 'BoolExpr' && n.BoolExpr.boolop === 'NOT_EXPR' && kindOf(n.BoolExpr.args[0]) === 'SubLink') out.set(n.BoolExpr.args[0], 'negated');
  };
  visit(s.whereClause);
  visit(s.havingClause);
  return out;
}

type Position = 'plain' | 'negated' | 'other';

/** A subquery's result: one semantic query when it maps, else composed on its own. */
async function answer(select: Node, ctx: ComposeContext): Promise<{ oids: readonly number[]; rows: readonly (readonly Cell[])[] }> {
  try {
    const { plan, rows } = await ctx.evaluate(select);
    return { oids: plan.columns.map((c) => c.oid), rows };
  } catch (e) {
    if (e instanceof SqlError && e.code === SQLSTATE.NOT_SUPPORTED && ctx.evaluateComposed && needsCompose(select)) return ctx.evaluateComposed(select);
    if (e instanceof SqlError && (e.code === SQLSTATE.UNDEFINED_COLUMN || e.code === SQLSTATE.UNDEFINED_TABLE)) {
      throw new SqlError(e.code, e.message, e.position, 'ERROR', 'Subqueries that refer to the outer query (correlated) are not supported.');
    }
    throw e;
  }
}

async function sublinkValue(link: Node, position: Position, ctx: ComposeContext): Promise<Node> {
  const l = link.SubLink;
  const { oids, rows } = await answer(l.subselect.SelectStmt, ctx);
  switch (l.subLinkType) {
    case 'EXISTS_SUBLINK':
      return boolConst(rows.length > 0 || !ctx.loading);
    case 'EXPR_SUBLINK': {
      if (oids.length !== 1) throw ctx.at.error(SQLSTATE.SYNTAX, 'subquery must return only one column', link);
      if (rows.length > 1) throw ctx.at.error('21000', 'more than one row returned by a subquery used as an expression', link);
      return rows.length ? literalOf(oids[0], rows[0][0]) : nullConst();
    }
    case 'ANY_SUBLINK':
    case 'ALL_SUBLINK': {
      const op = l.operName ? strings(l.operName).at(-1) : '=';
      const isIn = l.subLinkType === 'ANY_SUBLINK' && op === '=';
      const notIn = l.subLinkType === 'ALL_SUBLINK' && (op === '<>' || op === '!=');
      if (!isIn && !notIn)
        throw ctx.at.unsupported(`${op} ${l.subLinkType === 'ANY_SUBLINK' ? 'ANY' : 'ALL'} (subquery) is not supported; use IN or NOT IN`, link);
      const test: Node[] = kindOf(l.testexpr) === 'RowExpr' ? l.testexpr.RowExpr.args : [l.testexpr];
      if (test.length !== oids.length) throw ctx.at.error(SQLSTATE.SYNTAX, `subquery has ${oids.length > test.length ? 'too many' : 'too few'} columns`, link);
      if (rows.length > MAX_IN_LIST) {
        throw ctx.at.error(
          SQLSTATE.TOO_MANY_ROWS,
          `the subquery returns ${rows.length} rows; at most ${MAX_IN_LIST} can filter another query`,
          link,
          'Filter the subquery further.',
        );
      }
      const withNull = rows.some((r) => r.some((v) => v === null));
      if (withNull) {
        // x IN (…, NULL) is true or NULL, x NOT IN (…, NULL) never true: exact only where NULL drops the row.
        if (position === 'other') {
          throw ctx.at.unsupported(
            'the subquery returns NULL, which makes IN/NOT IN three-valued here',
            link,
            'Add WHERE <column> IS NOT NULL to the subquery.',
          );
        }
        // Kept rows: 'plain' where the sublink is TRUE, 'negated' where it is FALSE. With a NULL in the
        // values, IN is never FALSE and NOT IN never TRUE; the other two cases are the NULL-free forms below.
        if (isIn && position === 'negated') return boolConst(true);
        if (notIn && position === 'plain') return boolConst(false);
      }
      const tuples = rows.filter((r) => r.every((v) => v !== null));
      const matches = membership(test, tuples, oids);
      return notIn ? not(matches) : matches;
    }
    default:
      throw ctx.at.unsupported('this kind of subquery is not supported', link);
  }
}

function membership(test: Node[], tuples: readonly (readonly Cell[])[], oids: readonly number[]): Node {
  if (!tuples.length) return boolConst(false);
  if (test.length === 1)
    return inList(
      test[0],
      tuples.map((t) => literalOf(oids[0], t[0])),
    );
  return or(tuples.map((t) => and(test.map((x, i) => equals(x, literalOf(oids[i], t[i]))))));
}

/** A copy of `root` with the mapped nodes (by identity) replaced; subqueries are left as they are. */
function replace(root: unknown, values: ReadonlyMap<Node, Node>): Node {
  const visit = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(visit);
    if (!n || typeof n !== 'object') return n;
    const hit = values.get(n as Node);
    if (hit) return hit;
    const out: Node = {};
    for (const [k, v] of Object.entries(n)) out[k] = k === 'SelectStmt' ? v : visit(v);
    return out;
  };
  return visit(root) as Node;
}
