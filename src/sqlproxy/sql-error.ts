/** Errors as the Postgres wire protocol reports them: SQLSTATE + message + 1-based position. */
import { EngineError, isUserError } from '../errors.js';

export const SQLSTATE = {
  SYNTAX: '42601',
  UNDEFINED_TABLE: '42P01',
  UNDEFINED_COLUMN: '42703',
  AMBIGUOUS_COLUMN: '42702',
  GROUPING: '42803',
  DATATYPE_MISMATCH: '42804',
  UNDEFINED_FUNCTION: '42883',
  NOT_SUPPORTED: '0A000',
  INSUFFICIENT_PRIVILEGE: '42501',
  INVALID_PASSWORD: '28P01',
  INVALID_AUTHORIZATION: '28000',
  INVALID_TEXT: '22P02',
  INVALID_DATETIME: '22007',
  INVALID_PARAMETER_VALUE: '22023',
  READ_ONLY: '25006',
  IN_FAILED_TX: '25P02',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  PROTOCOL_VIOLATION: '08P01',
  UNDEFINED_PSTATEMENT: '26000',
  DUPLICATE_PSTATEMENT: '42P05',
  INVALID_CURSOR: '34000',
  UNDEFINED_OBJECT: '42704',
  INTERNAL: 'XX000',
  CONNECTION_FAILURE: '08006',
  TOO_MANY_ROWS: '54000',
  TOO_MANY_CONNECTIONS: '53300',
} as const;

export type Severity = 'ERROR' | 'FATAL';

export class SqlError extends Error {
  override readonly name = 'SqlError';
  constructor(
    readonly code: string,
    message: string,
    /** 1-based character position in the statement text, when known. */
    readonly position?: number,
    readonly severity: Severity = 'ERROR',
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Maps anything a statement may throw to a SqlError. User errors keep their message; bugs are
 * masked (the caller logs the original).
 */
export function toSqlError(e: unknown): { error: SqlError; unexpected: boolean } {
  if (e instanceof SqlError) return { error: e, unexpected: false };
  if (isUserError(e)) {
    const code =
      e.code === 'FORBIDDEN'
        ? SQLSTATE.INSUFFICIENT_PRIVILEGE
        : e.code === 'UNAUTHENTICATED' || e.code === 'TENANT_UNKNOWN' || e.code === 'TENANT_SUSPENDED'
          ? SQLSTATE.INVALID_AUTHORIZATION
          : e.code === 'STORE_UNAVAILABLE' || e.code === 'AUTH_UNAVAILABLE' || e.code === 'ENGINE_UNAVAILABLE' // (the warehouse still starting)
            ? '57P03'
            : e.code === 'QUERY_TIMEOUT' || e.code === 'QUERY_CANCELLED'
              ? SQLSTATE.QUERY_CANCELED
              : e.code === 'RATE_LIMITED' || e.code === 'QUOTA_EXCEEDED'
                ? '53400'
                : e.code === 'BAD_USER_INPUT'
                  ? SQLSTATE.INVALID_PARAMETER_VALUE
                  : SQLSTATE.INTERNAL;
    return { error: new SqlError(code, e.message, e.details.position), unexpected: false };
  }
  if (e instanceof EngineError) {
    if (e.code === 'QUERY_CANCELLED') return { error: new SqlError(SQLSTATE.QUERY_CANCELED, 'canceling statement due to user request'), unexpected: false };
    if (e.code === 'QUERY_TIMEOUT') return { error: new SqlError(SQLSTATE.QUERY_CANCELED, 'canceling statement due to statement timeout'), unexpected: false };
    if (e.code === 'ENGINE_UNAVAILABLE') return { error: new SqlError('08006', 'the analytics engine is unavailable'), unexpected: true };
  }
  return { error: new SqlError(SQLSTATE.INTERNAL, 'Unexpected error'), unexpected: true };
}
