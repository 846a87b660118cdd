/** Resolving the member names of a query: known, public, and of the kind the slot needs. */
import { UserError } from '../errors.js';
import type { Dimension, Measure, Member, Model, ResolvedMember, Segment } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';

export type Slot = 'measures' | 'dimensions' | 'timeDimensions' | 'segments' | 'filters' | 'order';

export interface Resolved<M extends Member> extends ResolvedMember {
  readonly member: M;
}

/** resolveMember plus visibility: members hidden by `public: false` are not queryable. */
export function resolveQueryable(model: Model, path: unknown, slot: Slot): ResolvedMember {
  if (typeof path !== 'string' || path === '') {
    throw new UserError('BAD_USER_INPUT', `${slot} must contain member names ("cube.member")`);
  }
  const r = resolveMember(model, path);
  const visible = r.view ? r.view.view.public && r.view.viewMember.public : r.member.public && model.cubes[r.member.cube].public;
  if (!visible) throw new UserError('BAD_USER_INPUT', `member "${path}" is not public`, { member: path });
  return r;
}

const KIND_WORD = { measure: 'a measure', dimension: 'a dimension', segment: 'a segment' } as const;

function wrongKind(path: string, member: Member, slot: Slot, hint: string): UserError {
  return new UserError('BAD_USER_INPUT', `"${path}" is ${KIND_WORD[member.kind]} and cannot be used in ${slot}${hint}`, { member: path });
}

export function resolveMeasure(model: Model, path: unknown, slot: Slot = 'measures'): Resolved<Measure> {
  const r = resolveQueryable(model, path, slot);
  if (r.member.kind !== 'measure') throw wrongKind(r.path, r.member, slot, r.member.kind === 'dimension' ? '; put it in dimensions' : '; put it in segments');
  return r as Resolved<Measure>;
}

export function resolveDimension(model: Model, path: unknown, slot: Slot = 'dimensions'): Resolved<Dimension> {
  const r = resolveQueryable(model, path, slot);
  if (r.member.kind !== 'dimension') throw wrongKind(r.path, r.member, slot, r.member.kind === 'measure' ? '; put it in measures' : '; put it in segments');
  return r as Resolved<Dimension>;
}

export function resolveTimeDimension(model: Model, path: unknown): Resolved<Dimension> {
  const r = resolveDimension(model, path, 'timeDimensions');
  if (r.member.type !== 'time') {
    throw new UserError('BAD_USER_INPUT', `"${r.path}" is a ${r.member.type} dimension, not a time dimension; put it in dimensions`, { member: r.path });
  }
  return r;
}

export function resolveSegment(model: Model, path: unknown): Resolved<Segment> {
  const r = resolveQueryable(model, path, 'segments');
  if (r.member.kind !== 'segment') throw wrongKind(r.path, r.member, 'segments', '');
  return r as Resolved<Segment>;
}

export function resolveFilterMember(model: Model, path: unknown): Resolved<Measure | Dimension> {
  const r = resolveQueryable(model, path, 'filters');
  if (r.member.kind === 'segment') throw wrongKind(r.path, r.member, 'filters', '; put it in segments');
  return r as Resolved<Measure | Dimension>;
}
