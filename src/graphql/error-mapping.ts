/**
 * What a client may see of an error. User errors (src/errors.ts) keep their message and stable
 * code in `extensions.code` (plus member / suggestion details); engine timeouts and outages keep
 * their code; GraphQL's own errors (syntax, validation) stay as they are. Everything else is a bug:
 * masked as "Unexpected error." and logged with the request id (see useErrorLogging).
 */
import { GraphQLError } from 'graphql';
import { EngineError, UserError } from '../errors.js';

export const MASKED_MESSAGE = 'Unexpected error.';

const PUBLIC_ENGINE_CODES = new Set(['QUERY_TIMEOUT', 'QUERY_CANCELLED', 'ENGINE_UNAVAILABLE']);

/** The innermost error behind GraphQL's wrappers (locatedError, Pothos). */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof GraphQLError && e.originalError) e = e.originalError;
  return e;
}

function located(from: unknown) {
  return from instanceof GraphQLError ? { nodes: from.nodes, source: from.source, positions: from.positions, path: from.path } : {};
}

function definedDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
}

/** The client-facing error, or undefined when the error must be masked. */
export function publicError(error: unknown): GraphQLError | undefined {
  const cause = rootCause(error);
  if (cause instanceof UserError) {
    return new GraphQLError(cause.message, { ...located(error), extensions: { ...definedDetails(cause.details), code: cause.code } });
  }
  if (cause instanceof EngineError) {
    return PUBLIC_ENGINE_CODES.has(cause.code) ? new GraphQLError(cause.message, { ...located(error), extensions: { code: cause.code } }) : undefined;
  }
  if (cause instanceof GraphQLError) {
    // Syntax, validation and variable-coercion errors: the caller's document is wrong.
    if (cause.extensions?.code) return cause;
    return new GraphQLError(cause.message, { ...located(cause), extensions: { ...cause.extensions, code: 'BAD_USER_INPUT' } });
  }
  return undefined;
}

export function maskedError(error: unknown, isDev: boolean): GraphQLError {
  const cause = rootCause(error);
  const detail = isDev && cause instanceof Error ? { originalMessage: cause.message } : {};
  return new GraphQLError(MASKED_MESSAGE, { ...located(error), extensions: { code: 'INTERNAL_SERVER_ERROR', ...detail } });
}

/** yoga's maskedErrors.maskError */
export function maskError(error: unknown, _message: string, isDev?: boolean): Error {
  return publicError(error) ?? maskedError(error, isDev ?? false);
}
