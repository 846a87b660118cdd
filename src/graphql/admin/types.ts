/**
 * Small pieces every admin module shares: the DateTime scalar, the tenant of the caller, and
 * save-time query validation.
 */
import type { ScalarRef } from '@pothos/core';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { type Principal, SCOPES } from '../../auth/principal.js';
import type { Actor, Share, ShareAccess, Visibility } from '../../store/access.js';
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

/** A tenant admin (role tenant_admin / super_admin, or a key with keys:admin) sees and changes everything of the tenant. */
export function actorOf(principal: Principal): Actor {
  const admin = principal.roles.includes('tenant_admin') || principal.roles.includes('super_admin') || principal.scopes.has(SCOPES.KEYS_ADMIN);
  return { tenantId: principal.tenantId, subject: principal.subject, admin };
}

export type ShareInput = Share;

/** Visibility and share types, shared by dashboards and saved queries. */
export const sharingTypes = perBuilder((builder: StrataBuilder) => {
  const visibility = builder.enumType('Visibility', {
    description: 'Who sees it besides its owner, the users it is shared with, and tenant admins.',
    values: {
      PRIVATE: { value: 'private' as Visibility, description: 'Nobody else.' },
      TENANT: { value: 'tenant' as Visibility, description: 'Everyone of your tenant with metrics:read (viewing only).' },
    },
  });
  const access = builder.enumType('ShareAccess', {
    values: { VIEW: { value: 'view' as ShareAccess }, EDIT: { value: 'edit' as ShareAccess, description: 'View and save new versions.' } },
  });
  const share = builder.objectRef<Share>('Share').implement({
    fields: (t) => ({
      subject: t.exposeString('subject', { description: 'The user (token subject).' }),
      access: t.field({ type: access, resolve: (s) => s.access }),
    }),
  });
  const shareInput = builder.inputType('ShareInput', {
    fields: (t) => ({
      subject: t.string({ required: true, description: 'The user (token subject).' }),
      access: t.field({ type: access, required: true }),
    }),
  });
  const shareChangeInput = builder.inputType('ShareChangeInput', {
    description: 'Omitted fields keep their current value; `shares` replaces the whole list.',
    fields: (t) => ({
      visibility: t.field({ type: visibility }),
      shares: t.field({ type: [shareInput] }),
    }),
  });
  return { visibility, share, shareInput, shareChangeInput };
});
