/**
 * JWT verification with pinned algorithms: HS256 with the shared secret (and, while a rotation
 * overlaps, the previous one), RS256/ES256 with keys from a JWKS url (jwks-cache.ts: bounded key
 * lifetime, refetch on an unknown `kid`, last-known-good keys through an outage).
 * Every failure is an UnauthenticatedError whose message says what was wrong — never the token itself —
 * except keys that cannot be had: AUTH_UNAVAILABLE (the token may be fine).
 */
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../config.js';
import { UnauthenticatedError, UserError } from '../errors.js';
import { createJwksCache, type JwksCache, type JwksOptions } from './jwks-cache.js';

export const HMAC_ALGORITHMS = ['HS256'] as const;
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;
/** Seconds of clock skew tolerated on exp/nbf. */
const CLOCK_TOLERANCE_S = 5;

export interface JwtVerifier {
  (token: string): Promise<JWTPayload>;
  /** The JWKS cache, when a JWKS url is configured (its status feeds /ready). */
  readonly jwks?: JwksCache;
  /** Epoch ms until which the previous HS256 secret is accepted (verified tokens are not reused past it). */
  readonly previousSecretUntil?: number;
}

export function createJwtVerifier(auth: Config['auth'], jwks: JwksOptions = {}, now: () => number = Date.now): JwtVerifier {
  const secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : null;
  const previous =
    auth.jwtSecret && auth.previousSecret ? { key: new TextEncoder().encode(auth.previousSecret.secret), until: auth.previousSecret.until } : null;
  const cache = auth.jwksUrl ? createJwksCache(auth.jwksUrl, { ...auth.jwks, ...jwks }) : null;
  const remote = cache?.getKey ?? null;
  const accepted = [...(secret ? HMAC_ALGORITHMS : []), ...(remote ? JWKS_ALGORITHMS : [])] as string[];
  const claims = { issuer: auth.issuer, audience: auth.audience, clockTolerance: CLOCK_TOLERANCE_S };

  const verify = async (token: string): Promise<JWTPayload> => {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
      throw new UnauthenticatedError('malformed token: expected a JWT (three base64url segments separated by dots) or an API key (sk_...)');
    }
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthenticatedError('malformed token: the JWT header is not valid base64url-encoded JSON');
    }
    if (!alg || alg.toLowerCase() === 'none') {
      throw new UnauthenticatedError('unsigned token refused: alg "none" is never accepted');
    }
    if (!accepted.includes(alg)) {
      throw new UnauthenticatedError(`token algorithm "${alg}" is not accepted (expected ${accepted.join(' or ')})`);
    }
    try {
      const key = (HMAC_ALGORITHMS as readonly string[]).includes(alg) ? secret! : remote!;
      // algorithms pinned to the one family this key source serves: no HS/RS confusion.
      const algorithms = key === secret ? [...HMAC_ALGORITHMS] : [...JWKS_ALGORITHMS];
      if (key instanceof Uint8Array) {
        try {
          return (await jwtVerify(token, key, { ...claims, algorithms })).payload;
        } catch (e) {
          // HS256 rotation: a token signed with the previous secret passes until the overlap ends.
          const badSignature = (e as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
          if (!badSignature || !previous || now() >= previous.until) throw e;
          return (await jwtVerify(token, previous.key, { ...claims, algorithms })).payload;
        }
      }
      return (await jwtVerify(token, key, { ...claims, algorithms })).payload;
    } catch (e) {
      if (e instanceof UserError && e.code === 'AUTH_UNAVAILABLE') throw e;
      throw explain(e);
    }
  };
  return Object.assign(verify, { jwks: cache ?? undefined, previousSecretUntil: previous?.until });
}

function explain(e: unknown): UnauthenticatedError {
  const code = (e as { code?: string } | null)?.code;
  const claim = (e as { claim?: string }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new UnauthenticatedError('token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return new UnauthenticatedError('token not yet valid (nbf is in the future)');
      if (claim === 'iss') return new UnauthenticatedError('token issuer (iss) is not the expected one');
      if (claim === 'aud') return new UnauthenticatedError('token audience (aud) is not the expected one');
      return new UnauthenticatedError(`token claim "${claim ?? '?'}" is invalid`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new UnauthenticatedError('token signature is invalid');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new UnauthenticatedError('token signature is invalid: no key in the JWKS matches its "kid"/algorithm');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new UnauthenticatedError('token algorithm is not accepted');
    case 'ERR_JWT_INVALID':
      return new UnauthenticatedError('malformed token: the JWT payload is not a valid JSON claims set');
    case 'ERR_JWS_INVALID':
      return new UnauthenticatedError('malformed token: invalid JWS');
    default:
      // Keys that cannot be had never get here (jwks-cache.ts answers AUTH_UNAVAILABLE).
      return new UnauthenticatedError('token could not be verified');
  }
}

export interface DevTokenOptions {
  readonly tenantId: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  /** jose duration ("1h", "30d") or seconds. Default 1 hour. */
  readonly expiresIn?: string | number;
  readonly subject?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** An HS256 token for development and tests. */
export async function mintDevToken(secret: string, options: DevTokenOptions): Promise<string> {
  const payload: JWTPayload = { tenant_id: options.tenantId };
  if (options.roles?.length) payload.roles = [...options.roles];
  if (options.scopes?.length) payload.scope = options.scopes.join(' ');
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? `dev:${options.tenantId}`)
    .setIssuedAt()
    .setExpirationTime(typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + options.expiresIn : (options.expiresIn ?? '1h'));
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
