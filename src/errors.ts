/**
 * Error taxonomy shared by every layer. User errors carry a stable code that reaches the
 * client; anything else is a bug and is masked as "Unexpected error" by the doors.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'QUERY_TIMEOUT'
  | 'QUERY_CANCELLED'
  | 'ENGINE_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'MODEL_INVALID'
  | 'CONFIG_INVALID'
  | 'CONFLICT'
  /** An ingestion batch id (Idempotency-Key) was already used with another body. */
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'PAYLOAD_TOO_LARGE'
  /** The credential is valid but names a tenant the registry does not hold. */
  | 'TENANT_UNKNOWN'
  /** The tenant is suspended or churned. */
  | 'TENANT_SUSPENDED'
  /** The metadata store (Postgres) cannot be reached; retryable. */
  | 'STORE_UNAVAILABLE'
  /** The identity provider's signing keys (JWKS) cannot be had: the JWT may be fine; retryable. */
  | 'AUTH_UNAVAILABLE'
  /** The tenant's plan quota for the month is used up (queries); resets at the start of the next UTC month. */
  | 'QUOTA_EXCEEDED'
  /** An export over the tenant's row cap (the cap is in the message and details). */
  | 'EXPORT_TOO_LARGE'
  /** The tenant's export controls do not allow this format or the caller's scopes. */
  | 'EXPORT_NOT_ALLOWED'
  /** A download link past its lifetime. */
  | 'LINK_EXPIRED'
  /** A value for a filter the dashboard does not declare (details.filter names it). */
  | 'UNKNOWN_FILTER'
  /** A dashboard filter bound to a member a widget cannot filter on, or to a widget it does not have. */
  | 'INVALID_FILTER_BINDING'
  /** A schedule's or alert's author no longer has the access it was saved with (key revoked, role narrowed). */
  | 'AUTHOR_ACCESS_REVOKED';

export interface ErrorDetails {
  /** The member path the error is about, e.g. "ad_performance.clik". */
  member?: string;
  /** A likely intended name ("did you mean"). */
  suggestion?: string;
  /** Character position in user-supplied text (SQL proxy), 1-based. */
  position?: number;
  [key: string]: unknown;
}

/**
 * The details a client may see, by key: names the caller sent or may read, and how to fix or
 * retry. Anything else a thrower adds (SQL, tenant ids, internals) stays in the logs. Every door
 * filters through publicDetails(), so a new detail is private until it is listed here.
 */
export const PUBLIC_DETAIL_KEYS: ReadonlySet<string> = new Set([
  'member',
  'suggestion',
  'position',
  'key',
  'scope',
  'scopes',
  'missingScopes',
  'limit',
  'maxRowLimit',
  'maxBytes',
  'retryAfterSeconds',
  'widget',
  'currentVersion',
  'id',
  'batchId',
  'zone',
  'cubes',
  // QUOTA_EXCEEDED: the month's quota, what was used, when it resets.
  'quota',
  'used',
  'resetsAt',
  // Exports and schedules: the cap and the rows asked for, the formats allowed, a bad cron / link.
  'maxRows',
  'rows',
  'format',
  'formats',
  'cron',
  'expiredAt',
  // Declared dashboard filters: which filter is wrong.
  'filter',
]);

export function publicDetails(details: ErrorDetails): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) if (v !== undefined && PUBLIC_DETAIL_KEYS.has(k)) out[k] = v;
  return out;
}

export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

export class ForbiddenError extends UserError {
  override readonly name = 'ForbiddenError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('FORBIDDEN', message, details);
  }
}

export class UnauthenticatedError extends UserError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('UNAUTHENTICATED', message, details);
  }
}

/** A failure inside ClickHouse. `sql` is shown to clients only in development. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: Extract<ErrorCode, 'QUERY_TIMEOUT' | 'QUERY_CANCELLED' | 'ENGINE_UNAVAILABLE'> | 'ENGINE_ERROR',
    message: string,
    readonly sql?: string,
    readonly params?: Record<string, unknown>,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Model validation failure: every problem, each with its file:line. */
export interface ModelProblem {
  file: string;
  line: number;
  message: string;
  suggestion?: string;
}

export class ModelError extends UserError {
  override readonly name = 'ModelError';
  constructor(readonly problems: readonly ModelProblem[]) {
    super(
      'MODEL_INVALID',
      `model has ${problems.length} problem(s):\n` +
        problems.map((p) => `  ${p.file}:${p.line}: ${p.message}${p.suggestion ? ` — did you mean "${p.suggestion}"?` : ''}`).join('\n'),
    );
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant failed: ${message}`);
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
