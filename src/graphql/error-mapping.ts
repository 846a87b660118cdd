/**
 * What a client may see of an error, as GraphQL errors. User and engine errors follow the shared
 * edge's rule (edge/errors.ts: message, stable code in `extensions.code`, public details only, a
 * fixed message for engine timeouts and outages); GraphQL's own errors (syntax, validation) stay
 * as they are. Everything else is a bug: masked as "Unexpected error." and logged with the request
 * id (see useErrorLogging).
 */
import { GraphQLError } from 'graphql';
import { publicErrorOf } from '../edge/errors.js';
import { EngineError, UserError } from '../errors.js';

export const MASKED_MESSAGE = 'Unexpected error.';

/** The innermost error behind GraphQL's wrappers (locatedError, Pothos). */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof GraphQLError && e.originalError) e = e.originalError;
  return e;
}

function located(from: unknown) {
  return from instanceof GraphQLError ? { nodes: from.nodes, source: from.source, positions: from.positions, path: from.path } : {};
}

/** The client-facing error, or undefined when the error must be masked. */
export function publicError(error: unknown): GraphQLError | undefined {
  const cause = rootCause(error);
  if (cause instanceof UserError || cause instanceof EngineError) {
    const pub = publicErrorOf(cause);
    if (!pub) return undefined;
    // The engine (or the warehouse, while it starts) or the metadata store is unavailable: the response
    // is a 503 with Retry-After, as on the other doors. yoga reads `http` and leaves it out of the body.
    const http =
      pub.code === 'ENGINE_UNAVAILABLE' || pub.code === 'STORE_UNAVAILABLE' || pub.code === 'RATE_LIMITED' || pub.code === 'QUOTA_EXCEEDED'
        ? { http: { status: pub.status, headers: pub.headers } }
        : {};
    return new GraphQLError(pub.message, { ...located(error), extensions: { ...pub.details, code: pub.code, ...http } });
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
