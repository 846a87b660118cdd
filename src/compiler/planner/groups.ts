/**
 * Stage 5 — measure groups: the leaf aggregates of every measure (and of every measure a HAVING
 * filter compares), grouped by how they must be computed — over the join tree, over the distinct
 * keys of a cube the tree multiplies (fan-out), or bucketed by a rolling window.
 */
import { UserError } from '../../errors.js';
import type { Measure, Model, RollingWindow } from '../../semantic/model.js';
import { isMultiplied, type JoinTree } from '../join-tree.js';
import { isDuplicateSensitive, leavesOf } from '../measures.js';
import type { QueryMembers } from './resolve.js';

export interface MeasureGroup {
  /** The cube whose rows the join tree repeats: its leaves are aggregated over its distinct keys. */
  readonly multipliedCube?: string;
  readonly rolling?: RollingWindow;
  readonly leaves: readonly Measure[];
}

export interface MeasureGroups {
  /** Every leaf, in first-use order (the multi-stage plan names leaf i `__m<i>`). */
  readonly leaves: readonly Measure[];
  readonly groups: readonly MeasureGroup[];
  /** Some group is fanned out or rolling: the plan needs several stages. */
  readonly multiStage: boolean;
}

export function groupMeasures(model: Model, members: QueryMembers, tree: JoinTree, ungrouped: boolean): MeasureGroups {
  const leaves = new Map<string, Measure>();
  for (const r of members.measures) leavesOf(model, r.member, leaves);
  for (const m of members.havingMeasures) leavesOf(model, m, leaves);
  const groups = new Map<string, { multipliedCube?: string; rolling?: RollingWindow; leaves: Measure[] }>();
  for (const leaf of leaves.values()) {
    const multiplied = isMultiplied(tree, leaf.cube) && (ungrouped || isDuplicateSensitive(leaf));
    if (ungrouped && (multiplied || leaf.rollingWindow)) {
      throw new UserError(
        'BAD_USER_INPUT',
        `an ungrouped query lists rows of one cube family: measure "${leaf.path}" ${leaf.rollingWindow ? 'has a rolling window' : `would be repeated by the join to its cube ${leaf.cube}`}`,
        { member: leaf.path },
      );
    }
    const key = `${leaf.rollingWindow ? JSON.stringify(leaf.rollingWindow) : ''}|${multiplied ? leaf.cube : ''}`;
    const group = groups.get(key) ?? { multipliedCube: multiplied ? leaf.cube : undefined, rolling: leaf.rollingWindow, leaves: [] };
    group.leaves.push(leaf);
    groups.set(key, group);
  }
  const list = [...groups.values()];
  return { leaves: [...leaves.values()], groups: list, multiStage: list.some((g) => g.multipliedCube || g.rolling) };
}
