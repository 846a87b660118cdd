/**
 * Stage 2 — the join tree: every cube the query reads (its members, the cubes their SQL references,
 * view join paths) connected by LEFT JOINs from a root, and the scope members render in over it.
 */
import { invariant } from '../../errors.js';
import type { Model, ResolvedMember } from '../../semantic/model.js';
import { buildJoinTree, type JoinTree } from '../join-tree.js';
import { select, type FromItem, type JoinClause, type Select } from '../plan-tree.js';
import { cubesReferenced, renderTemplate, type RenderScope } from '../render.js';
import type { QueryMembers } from './resolve.js';

/** A SELECT's parts but its FROM and JOINs. */
export type SelectParts = Omit<Parameters<typeof select>[0], 'from' | 'joins'>;

export interface JoinedSource {
  readonly tree: JoinTree;
  /** Renders members over the tree: each cube under its own name; a cube outside the tree is a bug. */
  readonly scope: RenderScope;
  readonly joins: readonly JoinClause[];
  /** A SELECT reading the join tree. */
  select(parts: SelectParts): Select;
}

/** A cube read through the tenant pass (which alone turns it into SQL). */
export const cubeItem = (cube: string): FromItem => ({ kind: 'cube', cube, alias: cube });

export function joinSource(model: Model, members: QueryMembers): JoinedSource {
  const touched: ResolvedMember[] = [
    ...members.measures,
    ...members.dimensions,
    ...members.timeDimensions.map((t) => t.resolved),
    ...members.segments,
    ...members.filterMembers,
  ];
  const wanted: string[] = [];
  for (const r of touched) {
    wanted.push(r.view?.viewMember.joinPath[0] ?? r.member.cube);
    wanted.push(...cubesReferenced(model, r.member));
  }
  const paths = touched.flatMap((r) => (r.view && r.view.viewMember.joinPath.length > 0 ? [r.view.viewMember.joinPath] : []));
  const tree = buildJoinTree(model, { cubes: wanted, paths });
  const inTree = new Set(tree.cubes);
  const scope: RenderScope = {
    model,
    alias(cube) {
      invariant(inTree.has(cube), `cube ${cube} is not in the join tree`);
      return cube;
    },
  };
  const joins: JoinClause[] = tree.edges.map((e) => ({ type: 'LEFT', item: cubeItem(e.child), on: renderTemplate(e.join.sql, scope) }));
  return { tree, scope, joins, select: (parts) => select({ ...parts, from: cubeItem(tree.root), joins }) };
}
