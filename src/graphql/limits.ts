/**
 * Depth and complexity limits as one validation rule, so an expensive document is refused before
 * anything runs. Depth counts nested fields (fragments expanded); `__Type.ofType` chains do not
 * count, so standard introspection fits. Complexity is the number of fields after fragment
 * expansion, with data root fields (one engine query each) weighted by their `extensions.cost`.
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  isCompositeType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DATA_FIELD_COST } from './cube-fields.js';
import { costOfField } from './field-meta.js';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxComplexity: number;
}

interface Measure {
  depth: number;
  complexity: number;
}

export function queryLimitsRule(limits: QueryLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const schema = context.getSchema();
      const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      const m = measure(context, node.selectionSet, root ?? undefined, new Set(), new Map());
      const name = node.name ? `operation "${node.name.value}"` : 'the operation';
      if (m.depth > limits.maxDepth) {
        context.reportError(
          new GraphQLError(`${name} is nested ${m.depth} levels deep; the maximum is ${limits.maxDepth}`, {
            nodes: [node],
            extensions: { code: 'BAD_USER_INPUT', depth: m.depth, maxDepth: limits.maxDepth },
          }),
        );
      }
      if (m.complexity > limits.maxComplexity) {
        context.reportError(
          new GraphQLError(
            `${name} has complexity ${m.complexity}; the maximum is ${limits.maxComplexity} (each field costs 1, each data root field ${DATA_FIELD_COST})`,
            {
              nodes: [node],
              extensions: { code: 'BAD_USER_INPUT', complexity: m.complexity, maxComplexity: limits.maxComplexity },
            },
          ),
        );
      }
      return false;
    },
  });
}

/** `memo` keeps fragment spreads linear: a fragment spread many times is measured once. */
function measure(
  context: ValidationContext,
  set: SelectionSetNode | undefined,
  parent: GraphQLNamedType | undefined,
  fragmentsOnPath: ReadonlySet<string>,
  memo: Map<string, Measure>,
): Measure {
  const out: Measure = { depth: 0, complexity: 0 };
  for (const sel of set?.selections ?? []) {
    if (sel.kind === Kind.FIELD) {
      const def = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[sel.name.value] : undefined;
      const child = def ? getNamedType(def.type) : undefined;
      const inner = sel.selectionSet ? measure(context, sel.selectionSet, child, fragmentsOnPath, memo) : { depth: 0, complexity: 0 };
      const step = parent?.name === '__Type' && sel.name.value === 'ofType' ? 0 : 1;
      out.depth = Math.max(out.depth, inner.depth + step);
      out.complexity += costOfField(def) + inner.complexity;
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const type = sel.typeCondition ? context.getSchema().getType(sel.typeCondition.name.value) : parent;
      add(out, measure(context, sel.selectionSet, type ?? undefined, fragmentsOnPath, memo));
    } else {
      const name = sel.name.value;
      const fragment = context.getFragment(name);
      // Cycles are reported by NoFragmentCyclesRule; here they just stop the walk.
      if (!fragment || fragmentsOnPath.has(name)) continue;
      let m = memo.get(name);
      if (!m) {
        const type = context.getSchema().getType(fragment.typeCondition.name.value);
        m = measure(
          context,
          fragment.selectionSet,
          isCompositeType(type) ? (type as GraphQLCompositeType) : undefined,
          new Set([...fragmentsOnPath, name]),
          memo,
        );
        memo.set(name, m);
      }
      add(out, m);
    }
  }
  return out;
}

function add(into: Measure, m: Measure): void {
  into.depth = Math.max(into.depth, m.depth);
  into.complexity += m.complexity;
}

export function useQueryLimits(limits: QueryLimits): Plugin {
  const rule = queryLimitsRule(limits);
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}
