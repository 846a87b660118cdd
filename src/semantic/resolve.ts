/** Member lookup by path, shared by the compiler, the query service and the doors. */
import { UserError } from '../errors.js';
import type { Cube, Member, Model, ResolvedMember } from './model.js';
import { suggest } from './suggest.js';

/** Paths of public members (the only ones worth suggesting to a caller). */
export function allMemberPaths(model: Model): string[] {
  const out: string[] = [];
  for (const cube of Object.values(model.cubes)) {
    if (!cube.public) continue;
    for (const m of cubeMembers(cube)) if (m.public) out.push(m.path);
  }
  for (const view of Object.values(model.views)) {
    if (!view.public) continue;
    for (const vm of Object.values(view.members)) if (vm.public) out.push(vm.path);
  }
  return out;
}

export function cubeMembers(cube: Cube): Member[] {
  return [...Object.values(cube.measures), ...Object.values(cube.dimensions), ...Object.values(cube.segments)];
}

function findCubeMember(cube: Cube, name: string): Member | undefined {
  return cube.measures[name] ?? cube.dimensions[name] ?? cube.segments[name];
}

/**
 * Resolve "cube.member" or "view.member". Throws BAD_USER_INPUT with a suggestion when the
 * name is unknown; never returns a member the model does not define.
 */
export function resolveMember(model: Model, path: string): ResolvedMember {
  if (typeof path !== 'string') throw new UserError('BAD_USER_INPUT', 'member name must be a string');
  const dot = path.indexOf('.');
  const owner = dot > 0 ? path.slice(0, dot) : '';
  const name = dot > 0 ? path.slice(dot + 1) : '';
  const cube = Object.hasOwn(model.cubes, owner) ? model.cubes[owner] : undefined;
  if (cube) {
    const member =
      Object.hasOwn(cube.measures, name) || Object.hasOwn(cube.dimensions, name) || Object.hasOwn(cube.segments, name) ? findCubeMember(cube, name) : undefined;
    if (member) return { path, member };
  }
  const view = Object.hasOwn(model.views, owner) ? model.views[owner] : undefined;
  if (view && Object.hasOwn(view.members, name)) {
    const viewMember = view.members[name];
    const [tc, tm] = splitPath(viewMember.target);
    const member = findCubeMember(model.cubes[tc], tm);
    if (member) return { path, member, view: { view, viewMember } };
  }
  const suggestion = suggest(path, allMemberPaths(model));
  throw new UserError('BAD_USER_INPUT', `unknown member "${path}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`, { member: path, suggestion });
}

export function splitPath(path: string): [string, string] {
  const dot = path.indexOf('.');
  return [path.slice(0, dot), path.slice(dot + 1)];
}
