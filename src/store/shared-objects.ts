/**
 * The parts every shared object (dashboard, saved query) has alike: the access predicates bound to
 * the actor, the row lock that says NOT_FOUND or FORBIDDEN, and delete / share / list-shares. Table
 * and column names come from the spec (constants of this folder), never from a caller.
 */
import { UserError } from '../errors.js';
import { type Actor, accessSql, checkShares, checkVisibility, notAllowed, type Share, type Visibility } from './access.js';
import type { Conn, Queryable } from './db.js';
import { isUuid } from './sql.js';

export interface SharedObjectSpec {
  /** The objects' table (alias `o` in every statement). */
  readonly table: string;
  /** How errors name one ("dashboard", "saved query"). */
  readonly label: string;
  readonly shares: { readonly table: string; readonly key: string };
}

export function sharedObjects(spec: SharedObjectSpec) {
  // $1 tenant, $2 subject, $3 admin in every statement.
  const access = accessSql(spec.shares, 1, 2, 3);
  const rights = `(${access.canEdit}) AS can_edit, (${access.canManage}) AS can_manage`;
  const actorParams = (a: Actor): unknown[] => [a.tenantId, a.subject, a.admin];
  const notFound = (id: string) => new UserError('NOT_FOUND', `${spec.label} "${id}" not found`, { id });

  /** Locks the row the actor may see (FOR UPDATE) and returns it with `columns`; NOT_FOUND / FORBIDDEN by what they may do. */
  const lock = async (tx: Queryable, actor: Actor, id: string, need: 'edit' | 'manage', columns = ''): Promise<Record<string, unknown>> => {
    if (!isUuid(id)) throw notFound(id);
    const rows = await tx.query(`SELECT ${columns ? `${columns}, ` : ''}${rights} FROM ${spec.table} o WHERE o.id = $4 AND ${access.canView} FOR UPDATE`, [
      ...actorParams(actor),
      id,
    ]);
    if (!rows[0]) throw notFound(id);
    if (need === 'edit' && !rows[0].can_edit) throw notAllowed(spec.label, id, 'edit');
    if (need === 'manage' && !rows[0].can_manage) throw notAllowed(spec.label, id, 'share or delete');
    return rows[0];
  };

  const writeShares = async (tx: Queryable, id: string, shares: readonly Share[]) => {
    await tx.query(`DELETE FROM ${spec.shares.table} WHERE ${spec.shares.key} = $1`, [id]);
    for (const sh of shares) {
      await tx.query(`INSERT INTO ${spec.shares.table} (${spec.shares.key}, subject, access) VALUES ($1, $2, $3)`, [id, sh.subject, sh.access]);
    }
  };

  return {
    access,
    rights,
    actorParams,
    notFound,
    lock,
    writeShares,

    /** Deletes what the actor may manage; false when they cannot see it (never reveals it exists). */
    async remove(db: Conn, actor: Actor, id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      return db.transaction(async (tx) => {
        try {
          await lock(tx, actor, id, 'manage');
        } catch (e) {
          if (e instanceof UserError && e.code === 'NOT_FOUND') return false;
          throw e;
        }
        return (await tx.query(`DELETE FROM ${spec.table} WHERE id = $1 AND tenant_id = $2 RETURNING id`, [id, actor.tenantId])).length === 1;
      });
    },

    /** Changes visibility and/or the share list (owner or tenant admin). */
    async share(db: Conn, actor: Actor, id: string, change: { visibility?: Visibility; shares?: readonly Share[] }): Promise<void> {
      const visibility = change.visibility === undefined ? undefined : checkVisibility(change.visibility);
      const shares = change.shares === undefined ? undefined : checkShares(change.shares);
      await db.transaction(async (tx) => {
        await lock(tx, actor, id, 'manage');
        if (visibility) {
          await tx.query(`UPDATE ${spec.table} SET visibility = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2`, [id, actor.tenantId, visibility]);
        }
        if (shares) await writeShares(tx, id, shares);
      });
    },

    /** The shares of an object the actor may see. */
    async listShares(db: Queryable, actor: Actor, id: string): Promise<Share[]> {
      if (!isUuid(id)) return [];
      const rows = await db.query(
        `SELECT x.subject, x.access FROM ${spec.shares.table} x JOIN ${spec.table} o ON o.id = x.${spec.shares.key} WHERE o.id = $4 AND ${access.canView} ORDER BY x.subject`,
        [...actorParams(actor), id],
      );
      return rows.map((r) => ({ subject: String(r.subject), access: r.access as Share['access'] }));
    },
  };
}
