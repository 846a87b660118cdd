/**
 * Small pieces every admin module shares: the DateTime scalar, the generic query's result type
 * (by name), the tenant of the caller, and save-time query validation.
 */
import type { ObjectRef, ScalarRef } from '@pothos/core';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { Principal } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { QueryResult, QueryService } from '../../query/types.js';
import type { SemanticQuery } from '../../semantic/query.js';
import type { StrataBuilder } from '../builder.js';
import { parseGenericQuery } from '../generic-query.js';

type Types = StrataBuilder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export type DateTimeRef = ScalarRef<Types, Date, Date>;

/**
 * Types made once per builder, by whichever hook (queries or mutations) asks first: a type is
 * shared by a module's queries and mutations, and by several modules (DateTime).
 */
export function perBuilder<T>(make: (builder: StrataBuilder) => T): (builder: StrataBuilder) => T {
  const made = new WeakMap<StrataBuilder, T>();
  return (builder) => {
    if (!made.has(builder)) made.set(builder, make(builder));
    return made.get(builder)!;
  };
}

/** ISO-8601 instants. */
export const dateTimeScalar = perBuilder((builder): DateTimeRef => {
  const parse = (v: unknown): Date => {
    const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? new Date(v) : new Date(Number.NaN);
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string such as "2025-01-31T00:00:00Z"', { extensions: { code: 'BAD_USER_INPUT' } });
    return d;
  };
  // The builder's typed Scalars only list JSON (builder.ts is not ours to widen); the ref keeps the types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (builder as any).scalarType('DateTime', {
    description: 'An instant as an ISO-8601 string ("2025-01-31T12:00:00.000Z").',
    serialize: (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)),
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => (ast.kind === Kind.STRING ? parse(ast.value) : parse(undefined)),
  }) as DateTimeRef;
});

/** `QueryResult` is implemented by the generic query (generic-query.ts); Pothos resolves it by name. */
export const QUERY_RESULT = 'QueryResult' as unknown as ObjectRef<Types, QueryResult>;

/**
 * Checks a query the way running it would (keys, paging, members, scopes) so a broken widget or
 * saved query is refused when saved. Errors keep their code and details, prefixed with `where`.
 */
export function validateQuery(query: QueryService, principal: Principal, input: unknown, maxRowLimit: number, where: string): SemanticQuery {
  try {
    const q = parseGenericQuery(input, maxRowLimit);
    query.compile(principal, q);
    return q;
  } catch (e) {
    if (e instanceof UserError) throw new UserError(e.code, `${where}: ${e.message}`, { ...e.details });
    throw e;
  }
}
