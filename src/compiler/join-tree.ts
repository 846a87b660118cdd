/**
 * The join tree of a query: the cubes it needs, connected along declared (directed) joins from
 * a root cube. Views force their join paths. Every edge is a LEFT JOIN from parent to child.
 */
import { UserError } from '../errors.js';
import type { Join, Model } from '../semantic/model.js';

export interface JoinEdge {
  /** The cube declaring the join ({CUBE} in the ON condition). */
  readonly parent: string;
  /** The joined cube. */
  readonly child: string;
  readonly join: Join;
}

export interface JoinTree {
  readonly root: string;
  /** Root first, then each cube after its parent. */
  readonly cubes: readonly string[];
  /** In the same order as `cubes` (minus the root). */
  readonly edges: readonly JoinEdge[];
}

export interface JoinRequest {
  /** Cubes the query reads, in the order of preference for the root. */
  readonly cubes: readonly string[];
  /** Paths views require, each from the view's root cube. */
  readonly paths: readonly (readonly string[])[];
}

export function buildJoinTree(model: Model, request: JoinRequest): JoinTree {
  const roots = request.paths.length > 0 ? [request.paths[0][0]] : [...new Set(request.cubes)];
  let firstError: UserError | undefined;
  for (const root of roots) {
    try {
      return treeFrom(model, root, request);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      firstError ??= e;
    }
  }
  throw firstError ?? new UserError('BAD_USER_INPUT', 'the query reads no cube');
}

function cannotJoin(a: string, b: string): UserError {
  return new UserError('BAD_USER_INPUT', `cannot join ${a} and ${b}: no path of joins leads from ${a} to ${b}`, { cubes: [a, b] });
}

function treeFrom(model: Model, root: string, request: JoinRequest): JoinTree {
  const parentOf = new Map<string, JoinEdge | null>([[root, null]]);
  const add = (edge: JoinEdge) => {
    const existing = parentOf.get(edge.child);
    if (existing === undefined) parentOf.set(edge.child, edge);
    else if (existing === null || existing.parent !== edge.parent) {
      throw new UserError('BAD_USER_INPUT', `ambiguous join path to ${edge.child}: reached from ${existing?.parent ?? 'the root'} and from ${edge.parent}`);
    }
  };
  for (const path of request.paths) {
    if (path[0] !== root) throw cannotJoin(root, path[0]);
    for (let i = 1; i < path.length; i++) {
      const join = model.cubes[path[i - 1]]?.joins[path[i]];
      if (!join) throw cannotJoin(path[i - 1], path[i]);
      add({ parent: path[i - 1], child: path[i], join });
    }
  }
  const reach = shortestPaths(model, root);
  for (const cube of request.cubes) {
    if (parentOf.has(cube)) continue;
    if (!reach.has(cube)) throw cannotJoin(root, cube);
    // Walk back along the shortest path until it meets the tree, then graft that branch.
    const branch: JoinEdge[] = [];
    for (let c = cube; !parentOf.has(c); ) {
      const edge = reach.get(c)!;
      branch.push(edge);
      c = edge.parent;
    }
    for (const edge of branch.reverse()) add(edge);
  }
  // Order: parents before children (breadth-first from the root).
  const cubes = [root];
  const edges: JoinEdge[] = [];
  for (let i = 0; i < cubes.length; i++) {
    for (const [child, edge] of parentOf) {
      if (edge && edge.parent === cubes[i]) {
        cubes.push(child);
        edges.push(edge);
      }
    }
  }
  return { root, cubes, edges };
}

/** Breadth-first over declared joins: for each reachable cube, the edge that reaches it. */
function shortestPaths(model: Model, root: string): Map<string, JoinEdge> {
  const out = new Map<string, JoinEdge>();
  const seen = new Set([root]);
  const queue = [root];
  while (queue.length) {
    const cube = queue.shift()!;
    for (const [target, join] of Object.entries(model.cubes[cube]?.joins ?? {})) {
      if (seen.has(target) || !Object.hasOwn(model.cubes, target)) continue;
      seen.add(target);
      out.set(target, { parent: cube, child: target, join });
      queue.push(target);
    }
  }
  return out;
}

/**
 * Whether the rows of `cube` are repeated by the tree (Cube's rule): walking the tree from the
 * cube, some join fans out towards it — a one_to_many whose "one" side it is on, or a
 * many_to_one whose target it is (seen from the cube or from a cube it reaches).
 */
export function isMultiplied(tree: JoinTree, cube: string): boolean {
  const visited = new Set<string>();
  const multiplies = (c: string, e: JoinEdge) =>
    (e.parent === c && e.join.relationship === 'one_to_many') || (e.child === c && e.join.relationship === 'many_to_one');
  const walk = (c: string): boolean => {
    visited.add(c);
    const adjacent = tree.edges.filter((e) => e.parent === c || e.child === c);
    const next = (e: JoinEdge) => (e.parent === c ? e.child : e.parent);
    if (adjacent.some((e) => multiplies(c, e) && !visited.has(next(e)))) return true;
    return adjacent.some((e) => !visited.has(next(e)) && walk(next(e)));
  };
  return walk(cube);
}
