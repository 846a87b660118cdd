/** Maps whatever @clickhouse/client, chdb or the network throws to an EngineError with a stable code. */
import { EngineError } from '../errors.js';

/** ClickHouse error codes we translate (https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp). */
const TIMEOUT_CODES = new Set(['159' /* TIMEOUT_EXCEEDED */, '160' /* TOO_SLOW */]);
const CANCELLED_CODES = new Set(['394' /* QUERY_WAS_CANCELLED */]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Why the caller stopped waiting, when it did (decided by the engine, not guessed from the message). */
export type StopReason = 'timeout' | 'cancelled' | undefined;

export interface ErrorContext {
  readonly sql: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly stopReason: StopReason;
  readonly timeoutMs: number;
}

export function toEngineError(err: unknown, ctx: ErrorContext): EngineError {
  if (err instanceof EngineError) return err;
  const params = ctx.params ? { ...ctx.params } : undefined;
  const code = errorCode(err);
  const message = errorMessage(err);
  if (ctx.stopReason === 'cancelled') {
    return new EngineError('QUERY_CANCELLED', 'query was cancelled', ctx.sql, params, err);
  }
  if (ctx.stopReason === 'timeout' || (code && TIMEOUT_CODES.has(code))) {
    return new EngineError('QUERY_TIMEOUT', `query exceeded the ${ctx.timeoutMs} ms timeout`, ctx.sql, params, err);
  }
  if (code && CANCELLED_CODES.has(code)) {
    return new EngineError('QUERY_CANCELLED', 'query was cancelled', ctx.sql, params, err);
  }
  if (isUnavailable(err, code, message)) {
    return new EngineError('ENGINE_UNAVAILABLE', `ClickHouse is unavailable: ${message}`, ctx.sql, params, err);
  }
  return new EngineError('ENGINE_ERROR', message, ctx.sql, params, err);
}

function isUnavailable(err: unknown, code: string | undefined, message: string): boolean {
  if (code && NETWORK_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const causeCode = errorCode(cause);
  if (causeCode && NETWORK_CODES.has(causeCode)) return true;
  const name = (err as { name?: string } | undefined)?.name ?? '';
  if (name === 'ChdbConnectionError' || name === 'ChdbClosedError') return true;
  return /ChdbConnection is closed|socket hang up|connect ECONNREFUSED|fetch failed/i.test(message);
}

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  return code === undefined || code === null ? undefined : String(code);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.trim();
  return String(err);
}
