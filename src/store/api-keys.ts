/**
 * API keys: "sk_live_" + 6 visible id chars + 40 random base62 chars (~238 bits).
 * Only the SHA-256 of the full secret is stored. A fast, unsalted hash is the right tool here:
 * the secret is high-entropy random, so there is nothing to brute-force or precompute, and
 * verification on every request stays cheap. (Passwords would need a slow KDF; these are not passwords.)
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyInfo, ApiKeyRefusal, ApiKeyVerifier } from '../auth/authenticator.js';
import { UserError } from '../errors.js';
import { errInfo, type Queryable, type StoreLogger } from './db.js';
import { isUuid, requireName, rethrowMissingTenant, toDate, toDateOrNull } from './sql.js';

export const API_KEY_PREFIX = 'sk_live_';
const VISIBLE_CHARS = 6;
const SECRET_CHARS = 40;
const SECRET_FORMAT = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${VISIBLE_CHARS + SECRET_CHARS}}$`);
/** last_used_at is informational; writing it at most once a minute per key keeps verify cheap. */
const TOUCH_INTERVAL_MS = 60_000;

export interface NewApiKey {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdBy: string;
  readonly expiresAt?: Date | null;
}

export interface ApiKeyRepo extends Required<ApiKeyVerifier> {
  /** The secret is returned once, here, and never again. */
  create(tenantId: string, input: NewApiKey): Promise<{ key: ApiKeyInfo; secret: string }>;
  list(tenantId: string): Promise<ApiKeyInfo[]>;
  /** Revokes a key of this tenant; false when the tenant has no such (unrevoked) key. */
  revoke(tenantId: string, id: string): Promise<boolean>;
  /** The ids among `ids` of keys that still work (not revoked, not expired): the access watch's re-check. */
  active(ids: readonly string[]): Promise<Set<string>>;
  /** Waits for background last_used_at writes (close() and tests). */
  settle(): Promise<void>;
}

const COLUMNS = 'id, tenant_id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at, revoked_at';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function isApiKeyFormat(secret: string): boolean {
  return SECRET_FORMAT.test(secret);
}

export function createApiKeyRepo(db: Queryable, logger: StoreLogger, now: () => Date = () => new Date()): ApiKeyRepo {
  const pending = new Set<Promise<unknown>>();

  const lookup = async (secret: string): Promise<{ info: ApiKeyInfo | null; refusal: ApiKeyRefusal; tenantId?: string }> => {
    if (!isApiKeyFormat(secret)) return { info: null, refusal: 'unknown' };
    const rows = await db.query(`SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = $1`, [hashSecret(secret)]);
    if (!rows[0]) return { info: null, refusal: 'unknown' };
    const info = toInfo(rows[0]);
    if (info.revokedAt) return { info: null, refusal: 'revoked', tenantId: info.tenantId };
    if (info.expiresAt && info.expiresAt.getTime() <= now().getTime()) return { info: null, refusal: 'expired', tenantId: info.tenantId };
    return { info, refusal: 'unknown' };
  };

  const touch = (info: ApiKeyInfo) => {
    if (info.lastUsedAt && now().getTime() - info.lastUsedAt.getTime() < TOUCH_INTERVAL_MS) return;
    const p = db
      .query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [info.id, now()])
      .catch((err) => logger.warn({ err: errInfo(err), keyId: info.id }, 'api key: could not record last use'))
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  return {
    async create(tenantId, input) {
      const name = requireName(input.name, 'API key name');
      const scopes = [...new Set(input.scopes)];
      if (scopes.some((s) => typeof s !== 'string' || !/^[a-z_]+:[a-z_]+$/.test(s))) {
        throw new UserError('BAD_USER_INPUT', 'API key scopes must look like "metrics:read"');
      }
      if (input.expiresAt && input.expiresAt.getTime() <= now().getTime()) {
        throw new UserError('BAD_USER_INPUT', 'API key expiresAt must be in the future');
      }
      const secret = API_KEY_PREFIX + base62(VISIBLE_CHARS + SECRET_CHARS);
      const prefix = secret.slice(0, API_KEY_PREFIX.length + VISIBLE_CHARS);
      const rows = await db
        .query(
          `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8) RETURNING ${COLUMNS}`,
          [randomUUID(), tenantId, name, prefix, hashSecret(secret), scopes, input.createdBy, input.expiresAt ?? null],
        )
        .catch((e) => rethrowMissingTenant(e, tenantId));
      return { key: toInfo(rows[0]), secret };
    },
    async list(tenantId) {
      return (await db.query(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId])).map(toInfo);
    },
    async revoke(tenantId, id) {
      if (!isUuid(id)) return false;
      const rows = await db.query('UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id', [
        id,
        tenantId,
        now(),
      ]);
      return rows.length === 1;
    },
    async active(ids) {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return new Set();
      const rows = await db.query('SELECT id FROM api_keys WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)', [
        valid,
        now(),
      ]);
      return new Set(rows.map((r) => String(r.id)));
    },
    async verify(secret) {
      const { info } = await lookup(secret);
      if (info) touch(info);
      return info;
    },
    async refusal(secret) {
      return (await lookup(secret)).refusal;
    },
    async refusalDetail(secret) {
      const { refusal, tenantId } = await lookup(secret);
      return { why: refusal, ...(tenantId ? { tenantId } : {}) };
    },
    async settle() {
      await Promise.all([...pending]);
    },
  };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform base62 by rejection sampling (bytes >= 248 would bias the modulo). */
function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

function toInfo(r: Record<string, unknown>): ApiKeyInfo {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    prefix: String(r.prefix),
    scopes: (r.scopes as string[] | null) ?? [],
    createdBy: String(r.created_by),
    createdAt: toDate(r.created_at),
    expiresAt: toDateOrNull(r.expires_at),
    lastUsedAt: toDateOrNull(r.last_used_at),
    revokedAt: toDateOrNull(r.revoked_at),
  };
}
