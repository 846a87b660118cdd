/**
 * The Pothos builder and its plugins. No GraphQL types live here: they are generated from the
 * model (cube-fields.ts, catalog.ts, generic-query.ts) or added by other modules through
 * SchemaExtension before toSchema() (build-schema.ts).
 */
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { GraphQLResolveInfo } from 'graphql';
import { ForbiddenError } from '../errors.js';
import type { GraphQLContext } from './context.js';
import { memberOfField } from './field-meta.js';

export interface StrataSchemaTypes {
  Context: GraphQLContext;
  /** One loader: the caller must hold every listed scope (a member's scopes, metrics:read...). */
  AuthScopes: { allOf: readonly string[] };
  /** DateTime is implemented by the admin modules that use it (admin/types.ts), once per builder. */
  Scalars: { JSON: { Input: unknown; Output: unknown }; DateTime: { Input: Date; Output: Date } };
  /** Fields are non-null unless they say otherwise (member values and root fields do). */
  DefaultFieldNullability: false;
}

export type StrataTypes = PothosSchemaTypes.ExtendDefaultTypes<StrataSchemaTypes>;
export type StrataBuilder = PothosSchemaTypes.SchemaBuilder<StrataTypes>;

export function createBuilder(): StrataBuilder {
  return new SchemaBuilder<StrataSchemaTypes>({
    plugins: [ScopeAuthPlugin],
    defaultFieldNullability: false,
    scopeAuth: {
      authScopes: (ctx) => ({
        allOf: (scopes: readonly string[]) => scopes.every((s) => ctx.strata.principal.scopes.has(s)),
      }),
      // Subscriptions are checked once when they start (the query service re-checks every evaluation).
      authorizeOnSubscribe: true,
      unauthorizedError: (_parent, ctx, info) => forbidden(ctx, info),
    },
  });
}

/** Same wording as the query service's check, so every door says the same thing. */
function forbidden(ctx: GraphQLContext, info: GraphQLResolveInfo): ForbiddenError {
  const field = info.parentType.getFields()[info.fieldName];
  const member = field ? memberOfField(field) : undefined;
  const required = member?.scopes ?? (field?.extensions?.requiresScopes as readonly string[] | undefined) ?? [];
  const missing = required.filter((s) => !ctx.strata.principal.scopes.has(s));
  const list = missing.map((s) => `"${s}"`).join(', ');
  if (member) return new ForbiddenError(`member "${member.path}" requires scope ${list}`, { member: member.path, scopes: missing });
  return new ForbiddenError(`field "${info.parentType.name}.${info.fieldName}" requires scope ${list}`, { scopes: missing });
}
