/**
 * Credential -> Principal. "sk_..." credentials are API keys checked by the key store;
 * anything else must be a JWT (see jwt.ts). Nothing here logs a credential.
 */
import type { Config } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import type { ApiKeyVerifier, Authenticator } from './authenticator.js';
import type { JwksOptions, JwksStatus } from './jwks-cache.js';
import { createJwtVerifier } from './jwt.js';
import { expandScopes, TENANT_ID_PATTERN, type Principal } from './principal.js';
import { tokenExpiry } from './token-lifetime.js';

export interface AuthenticatorOptions {
  readonly auth: Config['auth'];
  readonly apiKeys?: ApiKeyVerifier;
  readonly jwks?: JwksOptions;
}

/** Longest credential we will even look at (JWTs with many claims stay far below). */
const MAX_CREDENTIAL_LENGTH = 8_192;
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

export interface JwtAuthenticator extends Authenticator {
  /** The identity provider's keys, when a JWKS url is configured: /ready is false while they cannot be had. */
  readonly identityKeys?: () => Promise<JwksStatus>;
}

export function createAuthenticator(options: AuthenticatorOptions): JwtAuthenticator {
  const verifyJwt = options.auth.jwtSecret || options.auth.jwksUrl ? createJwtVerifier(options.auth, options.jwks) : null;

  const fromApiKey = async (secret: string): Promise<Principal> => {
    if (!options.apiKeys) throw new UnauthenticatedError('API keys are not accepted by this server');
    const key = await options.apiKeys.verify(secret);
    if (!key) {
      const { why, tenantId } = options.apiKeys.refusalDetail
        ? await options.apiKeys.refusalDetail(secret)
        : { why: options.apiKeys.refusal ? await options.apiKeys.refusal(secret) : 'unknown', tenantId: undefined };
      const error = new UnauthenticatedError(why === 'revoked' ? 'API key has been revoked' : why === 'expired' ? 'API key has expired' : 'unknown API key');
      // The key's tenant (from the store, not the caller): the refusal goes to that tenant's audit trail. Never public.
      throw tenantId ? Object.assign(error, { tenantId }) : error;
    }
    return Object.freeze({
      tenantId: key.tenantId,
      scopes: expandScopes(key.scopes, []),
      subject: key.id,
      via: 'api_key' as const,
      roles: Object.freeze([]),
      ...(key.expiresAt ? { expiresAt: Math.floor(key.expiresAt.getTime() / 1000) } : {}),
    });
  };

  const fromJwt = async (token: string): Promise<Principal> => {
    if (!verifyJwt) throw new UnauthenticatedError('JWTs are not accepted by this server (no JWT secret or JWKS configured)');
    const claims = await verifyJwt(token);

    const tenant = claims.tenant_id;
    if (tenant === undefined || tenant === null) throw new UnauthenticatedError('token has no "tenant_id" claim');
    if (typeof tenant !== 'string' || tenant === '') throw new UnauthenticatedError('"tenant_id" claim must be a non-empty string');
    if (!TENANT_ID_PATTERN.test(tenant)) {
      throw new UnauthenticatedError('"tenant_id" claim has invalid characters (expected lower-case letters, digits, "-" or "_")');
    }
    const scope = claims.scope;
    if (scope !== undefined && typeof scope !== 'string') {
      throw new UnauthenticatedError('"scope" claim must be a space-delimited string');
    }
    const roles = claims.roles;
    if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
      throw new UnauthenticatedError('"roles" claim must be an array of strings');
    }
    const expiresAt = tokenExpiry(claims, { maxTokenAgeSeconds: options.auth.maxTokenAgeSeconds });
    const roleList = Object.freeze([...((roles as string[] | undefined) ?? [])]);
    const granted = new Set(scope ? scope.split(/\s+/).filter(Boolean) : []);
    return Object.freeze({
      tenantId: tenant,
      scopes: expandScopes(granted, roleList),
      grantedScopes: granted,
      subject: typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : 'anonymous',
      via: 'jwt' as const,
      roles: roleList,
      expiresAt,
      ...claimText('name', claims.name, 200),
      ...claimText('email', claims.email, 320),
    });
  };

  // Verified JWTs, reused until they expire (at most VERIFIED_TTL_MS): a dashboard sends the same
  // token with every request. Only with a static secret: a JWKS key removed on rotation must stop
  // its tokens at once, so JWKS-verified tokens are checked every time.
  const cacheable = !options.auth.jwksUrl;
  const verified = new Map<string, { principal: Principal; until: number }>();
  const cachedJwt = async (token: string): Promise<Principal> => {
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && hit.until > now) return hit.principal;
    if (hit) verified.delete(token);
    const principal = await fromJwt(token);
    // Never reused past the end of an HS256 rotation overlap (the token may carry the old secret).
    const overlapEnd = verifyJwt?.previousSecretUntil !== undefined && now < verifyJwt.previousSecretUntil ? verifyJwt.previousSecretUntil : Infinity;
    const until = Math.min(now + VERIFIED_TTL_MS, overlapEnd, principal.expiresAt !== undefined ? principal.expiresAt * 1000 : Infinity);
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(token, { principal, until });
    return principal;
  };

  const jwks = verifyJwt?.jwks;
  return {
    ...(jwks ? { identityKeys: () => jwks.status() } : {}),
    async authenticate(credential) {
      const c = typeof credential === 'string' ? credential.trim() : '';
      if (c === '') throw new UnauthenticatedError('missing credential: send "Authorization: Bearer <token or API key>"');
      if (c.length > MAX_CREDENTIAL_LENGTH) throw new UnauthenticatedError('malformed token: credential is too long');
      return c.startsWith('sk_') ? fromApiKey(c) : cacheable ? cachedJwt(c) : fromJwt(c);
    },
  };
}

/** An optional text claim, kept only when it is a string (cut to `max`). */
function claimText<K extends 'name' | 'email'>(key: K, v: unknown, max: number): Partial<Record<K, string>> {
  return typeof v === 'string' && v.trim() !== '' ? ({ [key]: v.trim().slice(0, max) } as Partial<Record<K, string>>) : {};
}
