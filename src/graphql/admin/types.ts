/**
 * Small pieces every admin module shares: the DateTime scalar, the tenant of the caller, and
 * save-time query validation.
 */
import type { ScalarRef } from '@pothos/core';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { Principal } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { QueryService } from '../../query/types.js';
import type { SemanticQuery } from '../../semantic/query.js';
import type { StrataBuilder, StrataTypes } from '../builder.js';
import { parseGenericQuery } from '../generic-query.js';

export type DateTimeRef = ScalarRef<StrataTypes, Date, Date>;

/**
 * Types made once per builder, by whichever hook (queries or mutations) asks first: a type is
 * shared by a module's queries and mutations, and by several modules (DateTime).
 */
export function perBuilder<T, A extends unknown[] = []>(make: (builder: StrataBuilder, ...rest: A) => T): (builder: StrataBuilder, ...rest: A) => T {
  const made = new WeakMap<StrataBuilder, T>();
  return (builder, ...rest) => {
    if (!made.has(builder)) made.set(builder, make(builder, ...rest));
    return made.get(builder) as T;
  };
}

/** ISO-8601 instants. */
export const dateTimeScalar = perBuilder((builder): DateTimeRef => {
  const parse = (v: unknown): Date => {
    const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? new Date(v) : new Date(Number.NaN);
    if (Number.isNaN(d.getTime()))
      throw new GraphQLError('DateTime must be an ISO-8601 string such as "2025-01-31T00:00:00Z"', { extensions: { code: 'BAD_USER_INPUT' } });
    return d;
  };
  return builder.scalarType('DateTime', {
    description: 'An instant as an ISO-8601 string ("2025-01-31T12:00:00.000Z").',
    serialize: (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)),
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => (ast.kind === Kind.STRING ? parse(ast.value) : parse(undefined)),
  });
});

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
