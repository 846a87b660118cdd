/**
 * Read-only share links of dashboards. The token is the credential: random, shown once, stored as
 * its SHA-256. A link is made, listed and revoked by whoever may manage the dashboard (its owner or
 * a tenant admin; access.ts); the creator of a link may revoke it too. `open` finds a live link by
 * token (any tenant: the link names its tenant), never a revoked or expired one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import { type Actor, accessSql, notAllowed } from './access.js';
import type { Queryable } from './db.js';
import { hashToken } from './report-exports.js';
import { isUuid, toDate, toDateOrNull } from './sql.js';

export interface DashboardLink {
  readonly id: string;
  readonly tenantId: string;
  readonly dashboardId: string;
  readonly createdBy: string;
  /** The creator was a tenant admin (the link sees the dashboard as they did). */
  readonly creatorAdmin: boolean;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}

export interface NewDashboardLink {
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

export interface DashboardLinkRepo {
  /** NOT_FOUND when the actor cannot see the dashboard; FORBIDDEN unless they may manage it. */
  create(actor: Actor, dashboardId: string, input: NewDashboardLink): Promise<{ link: DashboardLink; token: string }>;
  /** Links of a dashboard the actor may manage (revoked and expired included), newest first. */
  list(actor: Actor, dashboardId: string): Promise<DashboardLink[]>;
  /** false when no such link of the tenant; FORBIDDEN unless dashboard manager or link creator. */
  revoke(actor: Actor, linkId: string): Promise<boolean>;
  /** The live link a token names, or null (unknown, revoked, expired). */
  open(token: string, now?: Date): Promise<DashboardLink | null>;
}

const COLUMNS = 'l.id, l.tenant_id, l.dashboard_id, l.created_by, l.creator_admin, l.scopes, l.created_at, l.expires_at, l.revoked_at, l.revoked_by';
const ACCESS = accessSql({ table: 'dashboard_shares', key: 'dashboard_id' }, 1, 2, 3);
const actorParams = (a: Actor) => [a.tenantId, a.subject, a.admin];
/** The scopes a link may carry: reads only (write scopes never reach a link). */
export const LINK_SCOPES: ReadonlySet<string> = new Set([SCOPES.METRICS_READ, SCOPES.FINANCE_READ, SCOPES.CLIENTS_READ]);

/** 32 random bytes, URL-safe. */
export const newLinkToken = (): string => `dl_${randomBytes(32).toString('base64url')}`;

export function createDashboardLinkRepo(db: Queryable): DashboardLinkRepo {
  const notFound = (what: string, id: string) => new UserError('NOT_FOUND', `${what} "${id}" not found`, { id });
  const managed = async (actor: Actor, dashboardId: string) => {
    if (!isUuid(dashboardId)) throw notFound('dashboard', dashboardId);
    const rows = await db.query(`SELECT (${ACCESS.canManage}) AS can_manage FROM dashboards o WHERE o.id = $4 AND ${ACCESS.canView}`, [
      ...actorParams(actor),
      dashboardId,
    ]);
    if (!rows[0]) throw notFound('dashboard', dashboardId);
    if (!rows[0].can_manage) throw notAllowed('dashboard', dashboardId, 'make or list share links of');
  };
  return {
    async create(actor, dashboardId, input) {
      await managed(actor, dashboardId);
      const id = randomUUID();
      const token = newLinkToken();
      const rows = await db.query(
        `INSERT INTO dashboard_links (id, tenant_id, dashboard_id, token_hash, created_by, creator_admin, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8) RETURNING *`,
        [id, actor.tenantId, dashboardId, hashToken(token), actor.subject, actor.admin, input.scopes.filter((x) => LINK_SCOPES.has(x)), input.expiresAt],
      );
      return { link: toLink(rows[0]), token };
    },
    async list(actor, dashboardId) {
      await managed(actor, dashboardId);
      const rows = await db.query(`SELECT ${COLUMNS} FROM dashboard_links l WHERE l.tenant_id = $1 AND l.dashboard_id = $2 ORDER BY l.created_at DESC, l.id`, [
        actor.tenantId,
        dashboardId,
      ]);
      return rows.map(toLink);
    },
    async revoke(actor, linkId) {
      if (!isUuid(linkId)) return false;
      const rows = await db.query(
        `SELECT l.created_by, (${ACCESS.canManage}) AS can_manage FROM dashboard_links l JOIN dashboards o ON o.id = l.dashboard_id
          WHERE l.id = $4 AND l.tenant_id = $1`,
        [...actorParams(actor), linkId],
      );
      if (!rows[0]) return false;
      if (!rows[0].can_manage && rows[0].created_by !== actor.subject) throw notAllowed('share link', linkId, 'revoke');
      const done = await db.query(
        'UPDATE dashboard_links SET revoked_at = now(), revoked_by = $3 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id',
        [linkId, actor.tenantId, actor.subject],
      );
      return done.length === 1;
    },
    async open(token, now = new Date()) {
      if (typeof token !== 'string' || !token.startsWith('dl_') || token.length < 20 || token.length > 200) return null;
      const rows = await db.query(`SELECT ${COLUMNS} FROM dashboard_links l WHERE l.token_hash = $1 AND l.revoked_at IS NULL AND l.expires_at > $2`, [
        hashToken(token),
        now,
      ]);
      return rows[0] ? toLink(rows[0]) : null;
    },
  };
}

function toLink(r: Record<string, unknown>): DashboardLink {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    dashboardId: String(r.dashboard_id),
    createdBy: String(r.created_by),
    creatorAdmin: r.creator_admin === true,
    // Reads only, whatever the row says.
    scopes: ((r.scopes as string[]) ?? []).filter((x) => LINK_SCOPES.has(x)),
    createdAt: toDate(r.created_at),
    expiresAt: toDate(r.expires_at),
    revokedAt: toDateOrNull(r.revoked_at),
    revokedBy: r.revoked_by === null || r.revoked_by === undefined ? null : String(r.revoked_by),
  };
}
