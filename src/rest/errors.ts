/**
 * Errors as Cube's gateway returns them: `{error: "<message>"}` with an HTTP status, plus
 * Strata's stable `code`. Bugs are masked as "Unexpected error" and logged, never shown.
 */
import type { Environment } from '../config.js';
import { EngineError, type ErrorCode, UserError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface ErrorReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

const STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  // Cube answers 403 to a missing or invalid token; @cubejs-client/core users expect that.
  UNAUTHENTICATED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  QUERY_CANCELLED: 499,
  QUERY_TIMEOUT: 504,
  ENGINE_UNAVAILABLE: 503,
  MODEL_INVALID: 500,
  CONFIG_INVALID: 500,
};

/** Details worth echoing to a client (never SQL, never internals). */
const PUBLIC_DETAILS = ['member', 'suggestion', 'position', 'retryAfterSeconds', 'scopes', 'missingScopes'];

export function errorReply(e: unknown, ctx: { env: Environment; logger: Logger; requestId: string }): ErrorReply {
  const headers: Record<string, string> = {};
  if (e instanceof UserError && e.code !== 'MODEL_INVALID' && e.code !== 'CONFIG_INVALID') {
    const body: Record<string, unknown> = { error: e.message, code: e.code, requestId: ctx.requestId };
    const details = Object.fromEntries(Object.entries(e.details).filter(([k, v]) => PUBLIC_DETAILS.includes(k) && v !== undefined));
    if (Object.keys(details).length) body.details = details;
    if (e.code === 'RATE_LIMITED') headers['retry-after'] = String(retryAfterSeconds(e));
    return { status: STATUS[e.code], body, headers };
  }
  if (e instanceof EngineError && e.code !== 'ENGINE_ERROR') {
    const message =
      e.code === 'QUERY_TIMEOUT' ? 'Query timed out' : e.code === 'QUERY_CANCELLED' ? 'Query was cancelled' : 'The query engine is unavailable, try again later';
    ctx.logger.warn({ requestId: ctx.requestId, code: e.code, err: e.message }, 'rest: engine refused');
    if (e.code === 'ENGINE_UNAVAILABLE') headers['retry-after'] = '5';
    return { status: STATUS[e.code], body: { error: message, code: e.code, requestId: ctx.requestId }, headers };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  ctx.logger.error({ requestId: ctx.requestId, err: err.message, stack: err.stack, sql: e instanceof EngineError ? e.sql : undefined }, 'rest: unexpected error');
  const body: Record<string, unknown> = { error: 'Unexpected error', code: 'INTERNAL', requestId: ctx.requestId };
  if (ctx.env === 'development') {
    body.message = err.message;
    body.stack = err.stack;
  }
  return { status: 500, body, headers };
}

function retryAfterSeconds(e: UserError): number {
  const d = e.details as Record<string, unknown>;
  for (const k of ['retryAfterSeconds', 'retryAfter']) {
    const v = Number(d[k]);
    if (Number.isFinite(v) && v > 0) return Math.ceil(v);
  }
  const ms = Number(d.retryAfterMs);
  return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : 1;
}
