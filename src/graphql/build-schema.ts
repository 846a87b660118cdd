/** buildSchema(model): the GraphQL schema generated from the semantic model at start-up. */
import { specifiedDirectives, type GraphQLSchema } from 'graphql';
import type { Model } from '../semantic/model.js';
import { addCatalog } from './catalog.js';
import { createBuilder, type StrataBuilder } from './builder.js';
import { addCubeFields } from './cube-fields.js';
import { addGenericQuery } from './generic-query.js';
import { exposedSources } from './members.js';
import { requiresScopesDirective } from './directives.js';
import { addSharedTypes, type SharedTypes } from './shared-types.js';

/**
 * How other modules (API keys, dashboards, ingestion, live) add fields before toSchema().
 * The Mutation / Subscription root types exist only when some extension adds to them.
 * Guard fields with `authScopes: { allOf: [...] }` and mirror the scopes in
 * `extensions: { requiresScopes: [...] }` so the printed SDL shows them.
 */
export interface SchemaExtension {
  readonly queries?: (builder: StrataBuilder, shared: SharedTypes) => void;
  readonly mutations?: (builder: StrataBuilder, shared: SharedTypes) => void;
  readonly subscriptions?: (builder: StrataBuilder, shared: SharedTypes) => void;
}

export interface BuildSchemaOptions {
  readonly extensions?: readonly SchemaExtension[];
}

export function buildSchema(model: Model, options: BuildSchemaOptions = {}): GraphQLSchema {
  const builder = createBuilder();
  const shared = addSharedTypes(builder);
  const sources = exposedSources(model);
  const extensions = options.extensions ?? [];

  builder.queryType({ description: 'Strata: marketing metrics from the semantic model. Every field runs for the tenant of your token.' });
  addCubeFields(builder, shared, sources);
  addGenericQuery(builder, shared);
  addCatalog(builder, sources, model);
  for (const e of extensions) e.queries?.(builder, shared);

  if (extensions.some((e) => e.mutations)) {
    builder.mutationType({});
    for (const e of extensions) e.mutations?.(builder, shared);
  }
  if (extensions.some((e) => e.subscriptions)) {
    builder.subscriptionType({});
    for (const e of extensions) e.subscriptions?.(builder, shared);
  }
  // Unsorted: members print in model order, granularities second..year; the order is still deterministic.
  return builder.toSchema({ directives: [...specifiedDirectives, requiresScopesDirective], sortSchema: false });
}
