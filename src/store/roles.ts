/**
 * A tenant's own roles: a name and the scopes it grants. Every statement binds the tenant. A write
 * fires the strata_access trigger (migration 0007), so every instance drops its cached definitions and
 * ends the open sessions that used the role.
 */
import { UserError } from '../errors.js';
import type { Queryable } from './db.js';
import { toDate } from './sql.js';

export interface TenantRole {
  readonly name: string;
  readonly description: string | null;
  readonly scopes: readonly string[];
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RoleInput {
  readonly name: string;
  readonly description?: string | null;
  readonly scopes: readonly string[];
  readonly createdBy: string;
}

export interface RoleRepo {
  list(tenantId: string): Promise<TenantRole[]>;
  get(tenantId: string, name: string): Promise<TenantRole | null>;
  /** name -> scopes of the tenant's roles (the role resolver caches it). */
  definitions(tenantId: string): Promise<ReadonlyMap<string, readonly string[]>>;
  /** Creates or replaces; answers the role and what it was before (null: new). */
  put(tenantId: string, input: RoleInput): Promise<{ role: TenantRole; before: TenantRole | null }>;
  /** The deleted role, or null when the tenant has none by that name. */
  delete(tenantId: string, name: string): Promise<TenantRole | null>;
}

export const ROLE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const COLS = 'name, description, scopes, created_by, created_at, updated_at';

export function createRoleRepo(db: Queryable & { transaction?: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> }): RoleRepo {
  const get = async (q: Queryable, tenantId: string, name: string) => {
    const rows = await q.query(`SELECT ${COLS} FROM tenant_roles WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
    return rows[0] ? toRole(rows[0]) : null;
  };
  const tx = <T>(fn: (q: Queryable) => Promise<T>) => (db.transaction ? db.transaction(fn) : fn(db));
  return {
    async list(tenantId) {
      return (await db.query(`SELECT ${COLS} FROM tenant_roles WHERE tenant_id = $1 ORDER BY name`, [tenantId])).map(toRole);
    },
    get: (tenantId, name) => get(db, tenantId, name),
    async definitions(tenantId) {
      const rows = await db.query('SELECT name, scopes FROM tenant_roles WHERE tenant_id = $1', [tenantId]);
      return new Map(rows.map((r) => [String(r.name), (r.scopes as string[]) ?? []]));
    },
    put(tenantId, input) {
      if (!ROLE_NAME.test(input.name))
        throw new UserError('BAD_USER_INPUT', 'a role name is lower-case letters, digits, "_" or "-" (at most 63)', { name: input.name });
      const description = input.description ? input.description.slice(0, 500) : null;
      return tx(async (q) => {
        const before = await get(q, tenantId, input.name);
        const rows = await q.query(
          `INSERT INTO tenant_roles (tenant_id, name, description, scopes, created_by) VALUES ($1, $2, $3, $4::text[], $5)
           ON CONFLICT (tenant_id, name) DO UPDATE SET description = EXCLUDED.description, scopes = EXCLUDED.scopes, updated_at = now()
           RETURNING ${COLS}`,
          [tenantId, input.name, description, [...new Set(input.scopes)].sort(), input.createdBy],
        );
        return { role: toRole(rows[0]), before };
      });
    },
    async delete(tenantId, name) {
      const rows = await db.query(`DELETE FROM tenant_roles WHERE tenant_id = $1 AND name = $2 RETURNING ${COLS}`, [tenantId, name]);
      return rows[0] ? toRole(rows[0]) : null;
    },
  };
}

function toRole(r: Record<string, unknown>): TenantRole {
  return {
    name: String(r.name),
    description: r.description === null || r.description === undefined ? null : String(r.description),
    scopes: (r.scopes as string[]) ?? [],
    createdBy: String(r.created_by),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}
