/** Directives the door declares in its schema (printed in the SDL; see print.ts). */
import { DirectiveLocation, GraphQLDirective, GraphQLList, GraphQLNonNull, GraphQLString } from 'graphql';

export const requiresScopesDirective = new GraphQLDirective({
  name: 'requiresScopes',
  description: 'The caller needs every listed scope to read this field; without them the field answers null with a FORBIDDEN error.',
  locations: [DirectiveLocation.FIELD_DEFINITION],
  args: { scopes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) } },
});
