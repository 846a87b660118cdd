/**
 * The identity provider's signing keys (JWKS), kept here over jose's createLocalJWKSet rather than by
 * jose's createRemoteJWKSet: that one trusts a fetched set for 10 minutes (a removed key keeps
 * verifying), refuses a new kid for 30 s after a fetch, and has no last-known-good keys in an outage.
 *
 * - Fresh: a set fetched less than maxAgeMs ago verifies as it is. An older one is refetched before
 *   the next verification, so a key removed at the IdP stops verifying within maxAgeMs (+ one fetch).
 * - Unknown kid: one refetch, shared by every request that waits for it, no sooner than cooldownMs
 *   after the previous fetch (the request waits rather than being refused): a new key verifies within
 *   cooldownMs + one fetch, and a flood of made-up kids costs the IdP one fetch per cooldown.
 * - Outage (fetch fails, times out, or answers no valid set): the last set fetched keeps verifying
 *   until fetchedAt + maxAgeMs + graceMs (last-known-good); past that, or before any fetch succeeded,
 *   a JWT is refused with AUTH_UNAVAILABLE (503 on HTTP): the caller's token may be fine.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { UserError } from '../errors.js';

export interface JwksOptions {
  /** A fetched set is trusted this long; then refetched before use (bounds how long a removed key verifies). */
  readonly maxAgeMs?: number;
  /** Least time between two fetches (unknown kids, retries during an outage). */
  readonly cooldownMs?: number;
  readonly timeoutMs?: number;
  /** How long past maxAgeMs the last set fetched keeps verifying while the IdP cannot be reached. */
  readonly graceMs?: number;
  /** Fetches, failures and refusals, for logs and metrics (auth/ itself never logs). */
  readonly onEvent?: (event: JwksEvent) => void;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export const JWKS_DEFAULTS = { maxAgeMs: 60_000, cooldownMs: 1_000, timeoutMs: 5_000, graceMs: 300_000 } as const;

export type JwksEvent =
  | { readonly kind: 'fetched'; readonly keys: number; readonly ms: number }
  | { readonly kind: 'fetch-failed'; readonly error: string; readonly ms: number; readonly lastKnownGood: boolean }
  | { readonly kind: 'refused'; readonly reason: string };

export interface JwksStatus {
  /** JWTs signed by the IdP can be verified now (fresh keys, or last-known-good within the grace). */
  readonly available: boolean;
  readonly state: 'fresh' | 'last-known-good' | 'unavailable';
  /** Epoch ms of the last successful fetch. */
  readonly fetchedAt?: number;
  readonly lastError?: string;
}

export interface JwksCache {
  readonly getKey: JWTVerifyGetKey;
  /** The keys' state, refetching first when they are stale and the cooldown allows (for /ready). */
  status(): Promise<JwksStatus>;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export function createJwksCache(url: string, options: JwksOptions = {}): JwksCache {
  const maxAgeMs = options.maxAgeMs ?? JWKS_DEFAULTS.maxAgeMs;
  const cooldownMs = options.cooldownMs ?? JWKS_DEFAULTS.cooldownMs;
  const timeoutMs = options.timeoutMs ?? JWKS_DEFAULTS.timeoutMs;
  const graceMs = options.graceMs ?? JWKS_DEFAULTS.graceMs;
  const now = options.now ?? Date.now;
  const emit = options.onEvent ?? (() => {});

  let keys: { readonly set: LocalSet; readonly fetchedAt: number } | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastOk = false;
  let lastError: string | undefined;
  let inflight: Promise<void> | undefined;

  const fetchOnce = async (): Promise<void> => {
    const started = now();
    lastAttempt = started;
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) throw new Error(`the JWKS url answered HTTP ${res.status}`);
      const body = (await res.json()) as JSONWebKeySet;
      const set = createLocalJWKSet(body);
      keys = { set, fetchedAt: now() };
      lastOk = true;
      lastError = undefined;
      emit({ kind: 'fetched', keys: body.keys.length, ms: now() - started });
    } catch (e) {
      lastOk = false;
      lastError = (e as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e as Error)?.message ?? String(e));
      emit({ kind: 'fetch-failed', error: lastError, ms: now() - started, lastKnownGood: usable() !== undefined });
    }
  };

  /** One fetch at a time, not before `notBefore` (epoch ms); callers share it. */
  const refresh = (notBefore: number): Promise<void> => {
    inflight ??= (async () => {
      const wait = notBefore - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await fetchOnce();
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  const fresh = () => keys !== undefined && now() - keys.fetchedAt < maxAgeMs;
  const usable = () => (keys && now() - keys.fetchedAt < maxAgeMs + graceMs ? keys.set : undefined);

  /** Fresh keys; else a refetch (when the cooldown allows); else last-known-good; else AUTH_UNAVAILABLE. */
  const current = async (): Promise<LocalSet> => {
    if (!fresh() && (inflight || now() - lastAttempt >= cooldownMs)) await refresh(now());
    const set = usable();
    if (set) return set;
    throw unavailable(lastError ? `the last fetch failed: ${lastError}` : 'no key set fetched yet');
  };

  const unavailable = (reason: string): UserError => {
    emit({ kind: 'refused', reason });
    return new UserError('AUTH_UNAVAILABLE', "token could not be verified: the identity provider's signing keys (JWKS) are unavailable; retry later", {
      retryAfterSeconds: Math.max(1, Math.ceil(cooldownMs / 1000)),
    });
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await current();
    try {
      return await set(header, token);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw e;
    }
    // An unknown kid: perhaps a key published since the last fetch. Refetch once, after the cooldown.
    await refresh(lastAttempt + cooldownMs);
    if (!lastOk) throw unavailable(`refetch for an unknown key failed: ${lastError}`);
    return (await current())(header, token);
  };

  // Fetched at once, so the first token and /ready need not wait for it.
  void refresh(now());

  return {
    getKey,
    async status() {
      if (!fresh() && (inflight || now() - lastAttempt >= cooldownMs)) await refresh(now());
      const state = fresh() ? 'fresh' : usable() ? 'last-known-good' : 'unavailable';
      return { available: state !== 'unavailable', state, fetchedAt: keys?.fetchedAt, lastError };
    },
  };
}
