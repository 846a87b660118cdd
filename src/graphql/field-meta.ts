/**
 * Metadata carried on GraphQL field `extensions`: which model member a row field reads, the scopes
 * it requires (printed as @requiresScopes), and the cost the complexity limit charges.
 */
import type { GraphQLField } from 'graphql';
import type { ExposedMember, ValueType } from './members.js';

export interface MemberFieldMeta {
  readonly path: string;
  readonly kind: 'measure' | 'dimension';
  readonly type: ValueType;
  readonly scopes: readonly string[];
}

// A type alias, not an interface: Pothos' `extensions` option takes a string-indexed record.
export type StrataFieldExtensions = {
  readonly strataMember?: MemberFieldMeta;
  readonly requiresScopes?: readonly string[];
  readonly cost?: number;
  /** The field's object type holds member fields whose selection counts as the row's (a row's `compare`). */
  readonly strataNested?: boolean;
};

export function memberFieldExtensions(m: ExposedMember): StrataFieldExtensions {
  const meta: MemberFieldMeta = { path: m.path, kind: m.kind as MemberFieldMeta['kind'], type: m.type, scopes: m.scopes };
  return m.scopes.length > 0 ? { strataMember: meta, requiresScopes: m.scopes } : { strataMember: meta };
}

type AnyField = GraphQLField<unknown, unknown>;

export function memberOfField(field: AnyField): MemberFieldMeta | undefined {
  return (field.extensions as StrataFieldExtensions | undefined)?.strataMember;
}

export function requiredScopesOfField(field: AnyField): readonly string[] {
  return (field.extensions as StrataFieldExtensions | undefined)?.requiresScopes ?? [];
}

export function costOfField(field: AnyField | undefined): number {
  return (field?.extensions as StrataFieldExtensions | undefined)?.cost ?? 1;
}

export function isNestedMemberGroup(field: AnyField): boolean {
  return (field.extensions as StrataFieldExtensions | undefined)?.strataNested === true;
}
