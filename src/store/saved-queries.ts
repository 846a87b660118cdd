/**
 * Saved semantic queries, named per tenant (names unique within a tenant). Every call is made as an
 * Actor and checks access in the same statement (access.ts): another tenant's query, or a private one
 * of someone else, is "not found"; changing one the actor sees but may not change is FORBIDDEN.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import type { SemanticQuery } from '../semantic/query.js';
import { type Actor, checkShares, checkVisibility, type Share, type Visibility } from './access.js';
import type { Conn, Queryable } from './db.js';
import { sharedObjects } from './shared-objects.js';
import { isUuid, pgCode, requireName, rethrowMissingTenant, toDate } from './sql.js';

export interface SavedQuery {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly query: SemanticQuery;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly owner: string;
  readonly visibility: Visibility;
  readonly canEdit: boolean;
  readonly canManage: boolean;
}

export interface SavedQueryRepo {
  create(actor: Actor, input: { name: string; query: SemanticQuery; visibility?: Visibility; shares?: readonly Share[] }): Promise<SavedQuery>;
  get(actor: Actor, id: string): Promise<SavedQuery | null>;
  list(actor: Actor): Promise<SavedQuery[]>;
  /** NOT_FOUND when the actor cannot see it; FORBIDDEN when they may not edit it; CONFLICT on a duplicate name. */
  update(actor: Actor, id: string, change: { name?: string; query?: SemanticQuery }): Promise<SavedQuery>;
  /** false when the actor cannot see it; FORBIDDEN unless owner or admin. */
  delete(actor: Actor, id: string): Promise<boolean>;
  share(actor: Actor, id: string, change: { visibility?: Visibility; shares?: readonly Share[] }): Promise<SavedQuery>;
  shares(actor: Actor, id: string): Promise<Share[]>;
}

const COLUMNS = 'o.id, o.tenant_id, o.name, o.query, o.created_by, o.created_at, o.updated_at, o.owner, o.visibility';
// $1 tenant, $2 subject, $3 admin in every statement below.
const OBJECTS = sharedObjects({ table: 'saved_queries', label: 'saved query', shares: { table: 'saved_query_shares', key: 'saved_query_id' } });
const { access: ACCESS, rights: RIGHTS, actorParams, writeShares } = OBJECTS;

export function createSavedQueryRepo(db: Conn): SavedQueryRepo {
  const duplicate = (e: unknown, tenantId: string, name: string | undefined) => {
    if (pgCode(e) === '23505') throw new UserError('CONFLICT', `a saved query named "${name}" already exists`, { tenantId });
    return rethrowMissingTenant(e, tenantId);
  };
  const get = async (q: Queryable, actor: Actor, id: string): Promise<SavedQuery | null> => {
    if (!isUuid(id)) return null;
    const rows = await q.query(`SELECT ${COLUMNS}, ${RIGHTS} FROM saved_queries o WHERE o.id = $4 AND ${ACCESS.canView}`, [...actorParams(actor), id]);
    return rows[0] ? toSaved(rows[0]) : null;
  };
  const lockFor = (tx: Queryable, actor: Actor, id: string, need: 'edit' | 'manage') => OBJECTS.lock(tx, actor, id, need);
  return {
    async create(actor, input) {
      const name = requireName(input.name, 'saved query name');
      const visibility = input.visibility === undefined ? 'tenant' : checkVisibility(input.visibility);
      const shares = checkShares(input.shares ?? []);
      const id = randomUUID();
      await db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO saved_queries (id, tenant_id, name, query, created_by, owner, visibility) VALUES ($1, $2, $3, $4::jsonb, $5, $5, $6)', [
            id,
            actor.tenantId,
            name,
            JSON.stringify(checkQuery(input.query)),
            actor.subject,
            visibility,
          ]);
          await writeShares(tx, id, shares);
        })
        .catch((e) => duplicate(e, actor.tenantId, name));
      return (await get(db, actor, id))!;
    },
    get: (actor, id) => get(db, actor, id),
    async list(actor) {
      return (await db.query(`SELECT ${COLUMNS}, ${RIGHTS} FROM saved_queries o WHERE ${ACCESS.canView} ORDER BY o.name`, actorParams(actor))).map(toSaved);
    },
    async update(actor, id, change) {
      const name = change.name === undefined ? undefined : requireName(change.name, 'saved query name');
      const query = change.query === undefined ? null : JSON.stringify(checkQuery(change.query));
      await db
        .transaction(async (tx) => {
          await lockFor(tx, actor, id, 'edit');
          await tx.query(
            'UPDATE saved_queries SET name = COALESCE($3, name), query = COALESCE($4::jsonb, query), updated_at = now() WHERE id = $1 AND tenant_id = $2',
            [id, actor.tenantId, name ?? null, query],
          );
        })
        .catch((e) => duplicate(e, actor.tenantId, name));
      return (await get(db, actor, id))!;
    },
    delete: (actor, id) => OBJECTS.remove(db, actor, id),
    async share(actor, id, change) {
      await OBJECTS.share(db, actor, id, change);
      return (await get(db, actor, id))!;
    },
    shares: (actor, id) => OBJECTS.listShares(db, actor, id),
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
    owner: String(r.owner),
    visibility: r.visibility as Visibility,
    canEdit: r.can_edit === true,
    canManage: r.can_manage === true,
  };
}
