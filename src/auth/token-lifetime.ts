/**
 * How long a JWT lives. Every token must end: `exp` is required, unless the operator sets a maximum
 * token age (AUTH_MAX_TOKEN_AGE_SECONDS), and then `iat + max age` ends a token that has no `exp`
 * (and shortens one whose `exp` is later). `iat` and `nbf` in the future beyond the clock tolerance
 * are refused: a token is not valid before it was issued.
 */
import { UnauthenticatedError } from '../errors.js';

/** Seconds of clock skew tolerated on exp / nbf / iat (the same as jwt.ts gives jose). */
export const TOKEN_CLOCK_TOLERANCE_S = 5;

export interface TokenLifetimeRules {
  /** Seconds; when set, tokens without exp are accepted until iat + this. */
  readonly maxTokenAgeSeconds?: number;
  /** Epoch seconds (tests). */
  readonly now?: number;
}

/** The epoch second a verified token stops being valid; throws UNAUTHENTICATED when it may not be used. */
export function tokenExpiry(claims: { readonly exp?: unknown; readonly iat?: unknown; readonly nbf?: unknown }, rules: TokenLifetimeRules = {}): number {
  const now = rules.now ?? Date.now() / 1000;
  const tol = TOKEN_CLOCK_TOLERANCE_S;
  const exp = numericDate(claims.exp, 'exp');
  const iat = numericDate(claims.iat, 'iat');
  const nbf = numericDate(claims.nbf, 'nbf');
  if (iat !== undefined && iat > now + tol) throw new UnauthenticatedError('token issued in the future (iat is later than now)');
  if (nbf !== undefined && nbf > now + tol) throw new UnauthenticatedError('token not yet valid (nbf is in the future)');
  const max = rules.maxTokenAgeSeconds;
  let end = exp;
  if (max !== undefined) {
    if (iat === undefined) {
      if (exp === undefined) throw new UnauthenticatedError('token has neither "exp" nor "iat": its age cannot be bounded');
    } else end = Math.min(end ?? Number.POSITIVE_INFINITY, iat + max);
  }
  if (end === undefined) throw new UnauthenticatedError('token has no expiry ("exp" claim); tokens must expire');
  if (end <= now - tol) throw new UnauthenticatedError(exp !== undefined && end === exp ? 'token expired' : 'token is older than the maximum token age');
  return end;
}

function numericDate(v: unknown, claim: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UnauthenticatedError(`"${claim}" claim must be a number of seconds`);
  return v;
}
