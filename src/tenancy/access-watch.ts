/**
 * Open sessions and the end of their access. A door that keeps a session open beyond one request
 * (graphql-ws connections, SQL proxy connections) registers it with `watch(principal, end)`; the
 * watch calls `end` once when the session's access ends:
 * - its token expires (a timer at expiresAt),
 * - its tenant is suspended, churned or removed, its API key revoked / expired, or a tenant role it
 *   used was changed or deleted (its scopes would differ now: it reconnects with the new grant): told by an access
 *   signal over LISTEN/NOTIFY (every instance hears it within milliseconds), and found by a periodic
 *   re-check of every open session's tenants and keys (one statement each) should a signal be lost.
 * During a store outage open sessions are kept (the outage is not the caller's); the next re-check decides.
 */
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../logger.js';
import type { ApiKeyRepo } from '../store/api-keys.js';
import { ACCESS_CHANNEL, type AccessSignal, parseAccessSignal } from './access-signals.js';
import { type TenantDirectory, tenantRefusal } from './directory.js';
import { type RoleResolver, sameGrant } from './roles.js';

/** Why a session ends: UNAUTHENTICATED closes a WebSocket with 4401, the tenant codes with 4403. */
export interface AccessEnd {
  readonly code: 'UNAUTHENTICATED' | 'TENANT_UNKNOWN' | 'TENANT_SUSPENDED';
  readonly message: string;
}

export interface AccessWatch {
  /** Watches an open session; `end` runs at most once. Returns the release: call it when the session closes. */
  watch(principal: Principal, end: (why: AccessEnd) => void): () => void;
  /** Re-checks every open session now (the periodic fallback runs this). */
  recheck(): Promise<void>;
  /** Sessions being watched. */
  size(): number;
  close(): Promise<void>;
}

/** What the watch needs of LISTEN/NOTIFY (the store satisfies it). */
export interface AccessBus {
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
}

export interface AccessWatchOptions {
  readonly directory: Pick<TenantDirectory, 'invalidate' | 'reload'>;
  readonly apiKeys?: Pick<ApiKeyRepo, 'active'>;
  /** Tenant roles: sessions whose roles now grant other scopes end (UNAUTHENTICATED: sign in again). */
  readonly roles?: Pick<RoleResolver, 'reload' | 'invalidate'>;
  readonly bus?: AccessBus;
  readonly logger: Pick<Logger, 'warn' | 'debug'>;
  /** Fallback re-check period (config ACCESS_RECHECK_INTERVAL_MS). */
  readonly intervalMs: number;
  readonly now?: () => number;
}

interface Session {
  readonly principal: Principal;
  readonly end: (why: AccessEnd) => void;
  timer?: NodeJS.Timeout;
}

const MAX_TIMER_MS = 2_147_483_647;

export async function createAccessWatch(options: AccessWatchOptions): Promise<AccessWatch> {
  const now = options.now ?? Date.now;
  const sessions = new Set<Session>();

  const finish = (s: Session, why: AccessEnd) => {
    if (!sessions.delete(s)) return;
    if (s.timer) clearTimeout(s.timer);
    try {
      s.end(why);
    } catch (e) {
      options.logger.warn({ err: (e as Error).message }, 'access: ending a session threw');
    }
  };

  const checkTenants = async (ids: readonly string[]) => {
    if (ids.length === 0) return;
    const fresh = await options.directory.reload(ids);
    for (const s of [...sessions]) {
      if (!ids.includes(s.principal.tenantId)) continue;
      const refusal = tenantRefusal(s.principal.tenantId, fresh.get(s.principal.tenantId));
      if (refusal) finish(s, { code: refusal.code as AccessEnd['code'], message: refusal.message });
    }
  };

  const checkKeys = async (ids: readonly string[]) => {
    if (ids.length === 0 || !options.apiKeys) return;
    const active = await options.apiKeys.active(ids);
    for (const s of [...sessions]) {
      if (s.principal.via === 'api_key' && ids.includes(s.principal.subject) && !active.has(s.principal.subject)) {
        finish(s, { code: 'UNAUTHENTICATED', message: 'API key has been revoked or has expired' });
      }
    }
  };

  /** Sessions with roles, of these tenants (and, when given, using this role). */
  const checkRoles = async (tenantIds: readonly string[], role?: string) => {
    if (!options.roles || tenantIds.length === 0) return;
    for (const tenantId of tenantIds) {
      const users = [...sessions].filter(
        (s) => s.principal.tenantId === tenantId && s.principal.roles.length > 0 && (!role || s.principal.roles.includes(role)),
      );
      if (users.length === 0) continue;
      const defs = await options.roles.reload(tenantId);
      for (const s of users) {
        if (!sameGrant(s.principal, defs)) finish(s, { code: 'UNAUTHENTICATED', message: 'a role of this session was changed or deleted; sign in again' });
      }
    }
  };

  const checkExpiry = () => {
    const t = now() / 1000;
    for (const s of [...sessions]) if (s.principal.expiresAt !== undefined && s.principal.expiresAt <= t) finish(s, expired);
  };

  const onSignal = (signal: AccessSignal) => {
    if (signal.kind === 'tenant') options.directory.invalidate(signal.id);
    if (signal.kind === 'role') {
      options.roles?.invalidate(signal.tenantId);
      checkRoles([signal.tenantId], signal.id).catch((e) =>
        options.logger.warn({ err: (e as Error).message, signal }, 'access: re-check after a role signal failed; the periodic re-check will retry'),
      );
      return;
    }
    const watched = [...sessions].some((s) => (signal.kind === 'tenant' ? s.principal.tenantId === signal.id : s.principal.subject === signal.id));
    if (!watched) return;
    const check = signal.kind === 'tenant' ? checkTenants([signal.id]) : checkKeys([signal.id]);
    check.catch((e) => options.logger.warn({ err: (e as Error).message, signal }, 'access: re-check after a signal failed; the periodic re-check will retry'));
  };

  const unlisten = options.bus
    ? await options.bus.listen(ACCESS_CHANNEL, (payload) => {
        const signal = parseAccessSignal(payload);
        if (signal) onSignal(signal);
        else options.logger.warn({ bytes: payload.length }, 'access: ignoring a malformed access signal');
      })
    : undefined;

  let running: Promise<void> | undefined;
  const recheck = (): Promise<void> => {
    running ??= (async () => {
      checkExpiry();
      const tenants = new Set<string>();
      const keys = new Set<string>();
      for (const s of sessions) {
        tenants.add(s.principal.tenantId);
        if (s.principal.via === 'api_key') keys.add(s.principal.subject);
      }
      await Promise.all([checkTenants([...tenants]), checkKeys([...keys]), checkRoles([...tenants])]);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const interval = setInterval(() => {
    if (sessions.size === 0) return;
    recheck().catch((e) => options.logger.warn({ err: (e as Error).message }, 'access: periodic re-check failed; open sessions kept'));
  }, options.intervalMs);
  interval.unref();

  return {
    watch(principal, end) {
      const s: Session = { principal, end };
      sessions.add(s);
      if (principal.expiresAt !== undefined) {
        const ms = principal.expiresAt * 1000 - now();
        if (ms <= 0) {
          finish(s, expired);
          return () => {};
        }
        s.timer = setTimeout(() => finish(s, expired), Math.min(ms, MAX_TIMER_MS));
        s.timer.unref();
      }
      return () => {
        if (s.timer) clearTimeout(s.timer);
        sessions.delete(s);
      };
    },
    recheck,
    size: () => sessions.size,
    async close() {
      clearInterval(interval);
      for (const s of sessions) if (s.timer) clearTimeout(s.timer);
      sessions.clear();
      await unlisten?.();
    },
  };
}

const expired: AccessEnd = { code: 'UNAUTHENTICATED', message: 'token expired' };
