/**
 * SDL printing with the scope directives. graphql-js' printSchema drops field directives, so the
 * printed SDL is parsed back, each field that requires scopes gets `@requiresScopes(scopes: [...])`
 * from its `extensions.requiresScopes`, and the document is printed again.
 */
import {
  Kind,
  isInterfaceType,
  isObjectType,
  parse,
  print,
  printSchema,
  visit,
  type ConstDirectiveNode,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import type { Model } from '../semantic/model.js';
import { requiresScopesDirective } from './directives.js';
import { requiredScopesOfField } from './field-meta.js';
import { buildSchema, type SchemaExtension } from './build-schema.js';

function scopesDirective(scopes: readonly string[]): ConstDirectiveNode {
  return {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: requiresScopesDirective.name },
    arguments: [
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: 'scopes' },
        value: { kind: Kind.LIST, values: scopes.map((s) => ({ kind: Kind.STRING, value: s })) },
      },
    ],
  };
}

export function printSchemaWithScopes(schema: GraphQLSchema): string {
  const doc = parse(printSchema(schema), { noLocation: true });
  const withDirectives = visit(doc, {
    ObjectTypeDefinition(node: ObjectTypeDefinitionNode) {
      const type = schema.getType(node.name.value);
      if (!isObjectType(type) && !isInterfaceType(type)) return undefined;
      const fields = type.getFields();
      return {
        ...node,
        fields: node.fields?.map((f) => {
          const scopes = requiredScopesOfField(fields[f.name.value]);
          return scopes.length ? { ...f, directives: [...(f.directives ?? []), scopesDirective(scopes)] } : f;
        }),
      };
    },
  });
  return `${print(withDirectives)}\n`;
}

/** What `npm run print-schema` writes to schema/schema.graphql. Deterministic for a given model. */
export function printStrataSchema(model: Model, extensions: readonly SchemaExtension[] = []): string {
  return printSchemaWithScopes(buildSchema(model, { extensions }));
}
