/**
 * What a client of any door sees of an error: one status table, one public view. User errors keep
 * their message, stable code and public details (errors.ts PUBLIC_DETAIL_KEYS); engine timeouts,
 * cancellations and outages get a fixed message (never the engine's text or SQL); everything else
 * is a bug: "Unexpected error" for the client, the cause in the log with the request id.
 */
import { EngineError, type ErrorCode, publicDetails, UserError } from '../errors.js';
import type { Logger } from '../logger.js';

/** A code a client can receive: the user-error codes plus the masked bug. */
export type PublicCode = ErrorCode | 'INTERNAL';

export const HTTP_STATUS: Readonly<Record<PublicCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  EXPORT_TOO_LARGE: 413,
  EXPORT_NOT_ALLOWED: 403,
  LINK_EXPIRED: 410,
  UNKNOWN_FILTER: 400,
  INVALID_FILTER_BINDING: 400,
  AUTHOR_ACCESS_REVOKED: 403,
  QUERY_CANCELLED: 499,
  QUERY_TIMEOUT: 504,
  ENGINE_UNAVAILABLE: 503,
  TENANT_UNKNOWN: 403,
  TENANT_SUSPENDED: 403,
  STORE_UNAVAILABLE: 503,
  AUTH_UNAVAILABLE: 503,
  MODEL_INVALID: 500,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

const ENGINE_MESSAGES = {
  QUERY_TIMEOUT: 'Query timed out',
  QUERY_CANCELLED: 'Query was cancelled',
  ENGINE_UNAVAILABLE: 'The query engine is unavailable, try again later',
} as const;

export const UNEXPECTED_MESSAGE = 'Unexpected error';

export interface PublicError {
  readonly code: PublicCode;
  readonly status: number;
  readonly message: string;
  /** Only keys a client may see; empty when none. */
  readonly details: Readonly<Record<string, unknown>>;
  /** retry-after / www-authenticate, as HTTP headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The masked cause (bugs only): logged, and shown to clients in development only. */
  readonly internal?: Error;
}

/** The client's view of a user or engine error; undefined for a bug (mask it with unexpectedError). */
export function publicErrorOf(e: unknown): PublicError | undefined {
  // Model and config problems are the operator's, not the caller's.
  if (e instanceof UserError && e.code !== 'MODEL_INVALID' && e.code !== 'CONFIG_INVALID') {
    const headers: Record<string, string> = {};
    if (
      e.code === 'RATE_LIMITED' ||
      e.code === 'QUOTA_EXCEEDED' ||
      e.code === 'ENGINE_UNAVAILABLE' ||
      e.code === 'STORE_UNAVAILABLE' ||
      e.code === 'AUTH_UNAVAILABLE'
    )
      headers['retry-after'] = String(retryAfterSeconds(e));
    if (e.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
    return { code: e.code, status: HTTP_STATUS[e.code], message: e.message, details: publicDetails(e.details), headers };
  }
  if (e instanceof EngineError && e.code !== 'ENGINE_ERROR') {
    const headers: Record<string, string> = e.code === 'ENGINE_UNAVAILABLE' ? { 'retry-after': '5' } : {};
    return { code: e.code, status: HTTP_STATUS[e.code], message: ENGINE_MESSAGES[e.code], details: {}, headers };
  }
  return undefined;
}

/** A bug, masked. The caller logs `internal` once with its request id. */
export function unexpectedError(e: unknown): PublicError {
  return { code: 'INTERNAL', status: 500, message: UNEXPECTED_MESSAGE, details: {}, headers: {}, internal: e instanceof Error ? e : new Error(String(e)) };
}

/** publicErrorOf, or the masked bug logged here with the request id (and engine SQL, never shown). */
export function toPublicError(e: unknown, log: { logger: Logger; requestId: string; door: string }): PublicError {
  const known = publicErrorOf(e);
  if (known) {
    if (e instanceof EngineError) log.logger.warn({ requestId: log.requestId, door: log.door, code: e.code, err: e.message }, 'engine refused');
    return known;
  }
  const masked = unexpectedError(e);
  log.logger.error(
    {
      requestId: log.requestId,
      door: log.door,
      err: masked.internal?.message,
      stack: masked.internal?.stack,
      sql: e instanceof EngineError ? e.sql : undefined,
    },
    'unexpected error (masked)',
  );
  return masked;
}

function retryAfterSeconds(e: UserError): number {
  const d = e.details;
  for (const k of ['retryAfterSeconds', 'retryAfter']) {
    const v = Number(d[k]);
    if (Number.isFinite(v) && v > 0) return Math.ceil(v);
  }
  const ms = Number(d.retryAfterMs);
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : 1;
}
