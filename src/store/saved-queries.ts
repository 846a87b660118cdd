/** Saved semantic queries, named per tenant (names unique within a tenant). Every call is tenant-scoped. */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import type { SemanticQuery } from '../semantic/query.js';
import type { Queryable } from './db.js';
import { isUuid, pgCode, requireName, rethrowMissingTenant, toDate } from './sql.js';

export interface SavedQuery {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly query: SemanticQuery;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SavedQueryRepo {
  create(tenantId: string, input: { name: string; query: SemanticQuery; createdBy: string }): Promise<SavedQuery>;
  get(tenantId: string, id: string): Promise<SavedQuery | null>;
  list(tenantId: string): Promise<SavedQuery[]>;
  /** NOT_FOUND for another tenant's or a missing query; CONFLICT on a duplicate name. */
  update(tenantId: string, id: string, change: { name?: string; query?: SemanticQuery }): Promise<SavedQuery>;
  delete(tenantId: string, id: string): Promise<boolean>;
}

const COLUMNS = 'id, tenant_id, name, query, created_by, created_at, updated_at';

export function createSavedQueryRepo(db: Queryable): SavedQueryRepo {
  const duplicate = (e: unknown, tenantId: string, name: string | undefined) => {
    if (pgCode(e) === '23505') throw new UserError('CONFLICT', `a saved query named "${name}" already exists`, { tenantId });
    return rethrowMissingTenant(e, tenantId);
  };
  return {
    async create(tenantId, input) {
      const name = requireName(input.name, 'saved query name');
      const rows = await db
        .query(`INSERT INTO saved_queries (id, tenant_id, name, query, created_by) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${COLUMNS}`, [
          randomUUID(),
          tenantId,
          name,
          JSON.stringify(checkQuery(input.query)),
          input.createdBy,
        ])
        .catch((e) => duplicate(e, tenantId, name));
      return toSaved(rows[0]);
    },
    async get(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${COLUMNS} FROM saved_queries WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
      return rows[0] ? toSaved(rows[0]) : null;
    },
    async list(tenantId) {
      return (await db.query(`SELECT ${COLUMNS} FROM saved_queries WHERE tenant_id = $1 ORDER BY name`, [tenantId])).map(toSaved);
    },
    async update(tenantId, id, change) {
      const name = change.name === undefined ? undefined : requireName(change.name, 'saved query name');
      const query = change.query === undefined ? null : JSON.stringify(checkQuery(change.query));
      const rows = isUuid(id)
        ? await db
            .query(
              `UPDATE saved_queries SET name = COALESCE($3, name), query = COALESCE($4::jsonb, query), updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
              [id, tenantId, name ?? null, query],
            )
            .catch((e) => duplicate(e, tenantId, name))
        : [];
      if (!rows[0]) throw new UserError('NOT_FOUND', `saved query "${id}" not found`, { id });
      return toSaved(rows[0]);
    },
    async delete(tenantId, id) {
      if (!isUuid(id)) return false;
      return (await db.query('DELETE FROM saved_queries WHERE id = $1 AND tenant_id = $2 RETURNING id', [id, tenantId])).length === 1;
    },
  };
}

function checkQuery(q: SemanticQuery): SemanticQuery {
  if (!q || typeof q !== 'object' || Array.isArray(q)) throw new UserError('BAD_USER_INPUT', 'query must be a semantic query object');
  return q;
}

function toSaved(r: Record<string, unknown>): SavedQuery {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    query: r.query as SemanticQuery,
    createdBy: String(r.created_by),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}
