/**
 * The GraphQL selection set decides what the semantic query asks for: every row field selected
 * (through aliases, fragments, @include/@skip) becomes a measure, a dimension, or a time
 * dimension at the granularity given on the field.
 */
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isObjectType,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';
import type { Granularity } from '../semantic/query.js';
import { isNestedMemberGroup, memberOfField, type MemberFieldMeta } from './field-meta.js';

export interface SelectedMember {
  readonly member: MemberFieldMeta;
  /** Set when a time dimension field was selected with `granularity:`. */
  readonly granularity?: Granularity;
}

/** Members selected under the current field (the root field returning rows), in selection order. */
export function selectedMembers(info: GraphQLResolveInfo): SelectedMember[] {
  const rowType = getNamedType(info.returnType);
  if (!isObjectType(rowType)) return [];
  const out: SelectedMember[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined, fragmentsOnPath: ReadonlySet<string>, type: GraphQLObjectType) => {
    for (const sel of set?.selections ?? []) {
      if (!included(sel, info.variableValues)) continue;
      if (sel.kind === Kind.FIELD) {
        // A nested member group (a row's `compare { clicks { change } }`) asks for its members too.
        const nested = nestedType(type, sel);
        if (nested) {
          visit(sel.selectionSet, fragmentsOnPath, nested);
          continue;
        }
        const picked = pick(type, sel, info.variableValues);
        if (!picked) continue;
        const key = `${picked.member.path}|${picked.granularity ?? ''}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(picked);
        }
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (appliesTo(sel, type)) visit(sel.selectionSet, fragmentsOnPath, type);
      } else {
        const name = sel.name.value;
        const fragment = info.fragments[name];
        // Validation rejects fragment cycles; the guard only keeps this function total.
        if (!fragment || fragmentsOnPath.has(name) || fragment.typeCondition.name.value !== type.name) continue;
        visit(fragment.selectionSet, new Set([...fragmentsOnPath, name]), type);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, new Set(), rowType);
  return out;
}

function nestedType(rowType: GraphQLObjectType, node: FieldNode): GraphQLObjectType | undefined {
  const field = rowType.getFields()[node.name.value];
  if (!field || !isNestedMemberGroup(field)) return undefined;
  const t = getNamedType(field.type);
  return isObjectType(t) ? t : undefined;
}

function pick(rowType: GraphQLObjectType, node: FieldNode, variables: GraphQLResolveInfo['variableValues']): SelectedMember | undefined {
  const field = rowType.getFields()[node.name.value];
  const member = field ? memberOfField(field) : undefined;
  if (!field || !member) return undefined; // __typename
  if (member.type !== 'time' || member.kind !== 'dimension') return { member };
  const args = getArgumentValues(field, node, variables) as { granularity?: Granularity | null };
  return args.granularity ? { member, granularity: args.granularity } : { member };
}

function appliesTo(node: InlineFragmentNode, rowType: GraphQLObjectType): boolean {
  return !node.typeCondition || node.typeCondition.name.value === rowType.name;
}

function included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: GraphQLResolveInfo['variableValues']): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  if (getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if === false) return false;
  return true;
}

/** The key a time dimension's value has in a result row: "cube.date" or "cube.date.day". */
export function rowKey(path: string, granularity?: Granularity | null): string {
  return granularity ? `${path}.${granularity}` : path;
}
