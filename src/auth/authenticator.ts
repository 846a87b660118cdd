import type { Principal } from './principal.js';

/**
 * Turns a credential (a JWT, or an API key "sk_...") into a Principal.
 * Throws UnauthenticatedError with a clear message on any failure.
 */
export interface Authenticator {
  /** `origin`: where the credential was presented (door, request id, address), for the audit of refusals. */
  authenticate(credential: string, origin?: AuthOrigin): Promise<Principal>;
}

/** Where a credential was presented. */
export interface AuthOrigin {
  readonly door: string;
  readonly requestId?: string;
  readonly clientAddress?: string;
  readonly userAgent?: string;
}

/** An API key as the store describes it: never the secret, never its hash. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** The visible start of the secret, e.g. "sk_live_ab12cd". */
  readonly prefix: string;
  readonly scopes: readonly string[];
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Why a presented API key was refused (for a specific error message). */
export type ApiKeyRefusal = 'unknown' | 'revoked' | 'expired';

/** What the authenticator needs from the key store. */
export interface ApiKeyVerifier {
  /** The key's info when the secret is known, not revoked and not expired; otherwise null. */
  verify(secret: string): Promise<ApiKeyInfo | null>;
  /** Optional: after verify() returned null, why. Lets the error say "revoked" rather than "unknown". */
  refusal?(secret: string): Promise<ApiKeyRefusal>;
  /** Optional: why, and the key's tenant when the key is known (a refusal the tenant's audit trail keeps). */
  refusalDetail?(secret: string): Promise<{ why: ApiKeyRefusal; tenantId?: string }>;
}
