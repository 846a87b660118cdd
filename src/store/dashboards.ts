/**
 * Dashboards, versioned: every update appends a dashboard_versions row and bumps current_version,
 * so earlier layouts stay readable. Every call is made as an Actor (tenant, subject, admin flag) and
 * checks access in the same statement (access.ts): an id of another tenant, or one the actor may not
 * see, is "not found"; changing one the actor sees but may not change is FORBIDDEN.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import type { DeclaredFilter } from '../semantic/dashboard-filter.js';
import type { SemanticQuery } from '../semantic/query.js';
import { type Actor, checkShares, checkVisibility, type Share, type Visibility } from './access.js';
import type { Conn, Queryable } from './db.js';
import { sharedObjects } from './shared-objects.js';
import { isUuid, requireName, rethrowMissingTenant, toDate, toNumber } from './sql.js';

export interface DashboardWidget {
  readonly id: string;
  readonly title: string;
  readonly query: SemanticQuery;
  /** Free-form display hints for the frontend (chart type, colours, size...). */
  readonly display?: Readonly<Record<string, unknown>>;
}

export interface DashboardSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string | null;
  readonly version: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly owner: string;
  readonly visibility: Visibility;
  /** What the actor who read it may do. */
  readonly canEdit: boolean;
  readonly canManage: boolean;
}

export interface Dashboard extends DashboardSummary {
  readonly widgets: readonly DashboardWidget[];
  /** Filters this version declares (checked by the caller when saved: query/dashboard-filters.ts). */
  readonly filters: readonly DeclaredFilter[];
  /** Author of this version. */
  readonly versionCreatedBy: string;
}

export interface DashboardVersionInfo {
  readonly version: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly widgetCount: number;
}

export interface NewDashboard {
  readonly name: string;
  readonly description?: string | null;
  readonly widgets?: readonly DashboardWidget[];
  readonly filters?: readonly DeclaredFilter[];
  /** Default 'tenant' (everyone of the tenant sees it; only the owner, editors and admins change it). */
  readonly visibility?: Visibility;
  readonly shares?: readonly Share[];
}

export interface DashboardUpdate {
  readonly name?: string;
  readonly description?: string | null;
  /** Omitted: the new version keeps the current widgets. */
  readonly widgets?: readonly DashboardWidget[];
  /** Omitted: the new version keeps the current filters. */
  readonly filters?: readonly DeclaredFilter[];
  /** Optimistic concurrency: refuse with CONFLICT unless the current version is this one. */
  readonly expectedVersion?: number;
}

export interface DashboardRepo {
  /** The actor becomes the owner. */
  create(actor: Actor, input: NewDashboard): Promise<Dashboard>;
  /** The current version, or the given one; null when the actor may not see it. */
  get(actor: Actor, id: string, version?: number): Promise<Dashboard | null>;
  /** Dashboards the actor may see. */
  list(actor: Actor): Promise<DashboardSummary[]>;
  /** Appends a version; NOT_FOUND when the actor cannot see it, FORBIDDEN when they may not edit it. */
  update(actor: Actor, id: string, change: DashboardUpdate): Promise<Dashboard>;
  versions(actor: Actor, id: string): Promise<DashboardVersionInfo[]>;
  /** false when the actor cannot see it; FORBIDDEN when they see it but are not its owner or an admin. */
  delete(actor: Actor, id: string): Promise<boolean>;
  /** Visibility and shares (owner or admin); shares replace the current list. */
  share(actor: Actor, id: string, change: { visibility?: Visibility; shares?: readonly Share[] }): Promise<Dashboard>;
  /** Who it is shared with (the actor must see it). */
  shares(actor: Actor, id: string): Promise<Share[]>;
}

const SUMMARY = 'o.id, o.tenant_id, o.name, o.description, o.current_version, o.created_by, o.created_at, o.updated_at, o.owner, o.visibility';
// $1 tenant, $2 subject, $3 admin in every statement below.
const OBJECTS = sharedObjects({ table: 'dashboards', label: 'dashboard', shares: { table: 'dashboard_shares', key: 'dashboard_id' } });
const { access: ACCESS, rights: RIGHTS, actorParams, writeShares } = OBJECTS;

export function createDashboardRepo(db: Conn): DashboardRepo {
  const get = async (q: Queryable, actor: Actor, id: string, version?: number): Promise<Dashboard | null> => {
    if (!isUuid(id)) return null;
    const rows = await q.query(
      `SELECT ${SUMMARY}, ${RIGHTS}, v.version, v.widgets, v.filters, v.created_by AS version_created_by
         FROM dashboards o JOIN dashboard_versions v ON v.dashboard_id = o.id
        WHERE o.id = $4 AND ${ACCESS.canView} AND v.version = COALESCE($5::int, o.current_version)`,
      [...actorParams(actor), id, version ?? null],
    );
    return rows[0] ? toDashboard(rows[0]) : null;
  };
  /** Locks the row the actor may see (FOR UPDATE) and returns its current version. */
  const lockFor = async (tx: Queryable, actor: Actor, id: string, need: 'edit' | 'manage') =>
    toNumber((await OBJECTS.lock(tx, actor, id, need, 'o.current_version')).current_version);

  return {
    async create(actor, input) {
      const name = requireName(input.name, 'dashboard name');
      const widgets = checkWidgets(input.widgets ?? []);
      const visibility = input.visibility === undefined ? 'tenant' : checkVisibility(input.visibility);
      const shares = checkShares(input.shares ?? []);
      const id = randomUUID();
      await db
        .transaction(async (tx) => {
          await tx.query(
            'INSERT INTO dashboards (id, tenant_id, name, description, current_version, created_by, owner, visibility) VALUES ($1, $2, $3, $4, 1, $5, $5, $6)',
            [id, actor.tenantId, name, input.description ?? null, actor.subject, visibility],
          );
          await tx.query('INSERT INTO dashboard_versions (dashboard_id, version, widgets, filters, created_by) VALUES ($1, 1, $2::jsonb, $4::jsonb, $3)', [
            id,
            JSON.stringify(widgets),
            actor.subject,
            JSON.stringify(input.filters ?? []),
          ]);
          await writeShares(tx, id, shares);
        })
        .catch((e) => rethrowMissingTenant(e, actor.tenantId));
      return (await get(db, actor, id))!;
    },
    get: (actor, id, version) => get(db, actor, id, version),
    async list(actor) {
      const rows = await db.query(`SELECT ${SUMMARY}, ${RIGHTS} FROM dashboards o WHERE ${ACCESS.canView} ORDER BY o.created_at, o.id`, actorParams(actor));
      return rows.map(toSummary);
    },
    async update(actor, id, change) {
      const widgets = change.widgets ? checkWidgets(change.widgets) : undefined;
      const name = change.name === undefined ? undefined : requireName(change.name, 'dashboard name');
      await db.transaction(async (tx) => {
        // FOR UPDATE serialises concurrent updates so versions stay dense and unique.
        const current = await lockFor(tx, actor, id, 'edit');
        if (change.expectedVersion !== undefined && change.expectedVersion !== current) {
          throw new UserError('CONFLICT', `dashboard "${id}" is at version ${current}, not ${change.expectedVersion}; reload and retry`, {
            id,
            currentVersion: current,
          });
        }
        const next = current + 1;
        await tx.query(
          `INSERT INTO dashboard_versions (dashboard_id, version, widgets, filters, created_by)
           SELECT $1, $2, COALESCE($3::jsonb, widgets), COALESCE($6::jsonb, filters), $4 FROM dashboard_versions WHERE dashboard_id = $1 AND version = $5`,
          [id, next, widgets ? JSON.stringify(widgets) : null, actor.subject, current, change.filters ? JSON.stringify(change.filters) : null],
        );
        await tx.query(
          `UPDATE dashboards SET current_version = $2, updated_at = now(), name = COALESCE($3, name),
             description = CASE WHEN $4::boolean THEN $5 ELSE description END
           WHERE id = $1 AND tenant_id = $6`,
          [id, next, name ?? null, change.description !== undefined, change.description ?? null, actor.tenantId],
        );
      });
      return (await get(db, actor, id))!;
    },
    async versions(actor, id) {
      if (!isUuid(id)) return [];
      const rows = await db.query(
        `SELECT v.version, v.created_by, v.created_at, jsonb_array_length(v.widgets) AS widget_count
           FROM dashboard_versions v JOIN dashboards o ON o.id = v.dashboard_id
          WHERE o.id = $4 AND ${ACCESS.canView} ORDER BY v.version`,
        [...actorParams(actor), id],
      );
      return rows.map((r) => ({
        version: toNumber(r.version),
        createdBy: String(r.created_by),
        createdAt: toDate(r.created_at),
        widgetCount: toNumber(r.widget_count),
      }));
    },
    delete: (actor, id) => OBJECTS.remove(db, actor, id),
    async share(actor, id, change) {
      await OBJECTS.share(db, actor, id, change);
      return (await get(db, actor, id))!;
    },
    shares: (actor, id) => OBJECTS.listShares(db, actor, id),
  };
}

function checkWidgets(widgets: readonly DashboardWidget[]): DashboardWidget[] {
  if (!Array.isArray(widgets)) throw new UserError('BAD_USER_INPUT', 'dashboard widgets must be an array');
  const ids = new Set<string>();
  return widgets.map((w, i) => {
    const id = requireName(w?.id, `widgets[${i}].id`, 100);
    if (ids.has(id)) throw new UserError('BAD_USER_INPUT', `widget id "${id}" appears twice`);
    ids.add(id);
    if (!w.query || typeof w.query !== 'object' || Array.isArray(w.query)) {
      throw new UserError('BAD_USER_INPUT', `widgets[${i}].query must be a semantic query object`);
    }
    return { id, title: typeof w.title === 'string' ? w.title : '', query: w.query, ...(w.display ? { display: w.display } : {}) };
  });
}

function toSummary(r: Record<string, unknown>): DashboardSummary {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    description: r.description === null ? null : String(r.description),
    version: toNumber(r.version ?? r.current_version),
    createdBy: String(r.created_by),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    owner: String(r.owner),
    visibility: r.visibility as Visibility,
    canEdit: r.can_edit === true,
    canManage: r.can_manage === true,
  };
}

function toDashboard(r: Record<string, unknown>): Dashboard {
  return {
    ...toSummary(r),
    widgets: r.widgets as DashboardWidget[],
    filters: (r.filters ?? []) as DeclaredFilter[],
    versionCreatedBy: String(r.version_created_by),
  };
}
