/**
 * Dashboards, versioned: every update appends a dashboard_versions row and bumps current_version,
 * so earlier layouts stay readable. Every call is tenant-scoped: an id of another tenant is "not found".
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import type { SemanticQuery } from '../semantic/query.js';
import type { Conn, Queryable } from './db.js';
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
}

export interface Dashboard extends DashboardSummary {
  readonly widgets: readonly DashboardWidget[];
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
  readonly createdBy: string;
}

export interface DashboardUpdate {
  readonly name?: string;
  readonly description?: string | null;
  /** Omitted: the new version keeps the current widgets. */
  readonly widgets?: readonly DashboardWidget[];
  readonly updatedBy: string;
  /** Optimistic concurrency: refuse with CONFLICT unless the current version is this one. */
  readonly expectedVersion?: number;
}

export interface DashboardRepo {
  create(tenantId: string, input: NewDashboard): Promise<Dashboard>;
  /** The current version, or the given one. */
  get(tenantId: string, id: string, version?: number): Promise<Dashboard | null>;
  list(tenantId: string): Promise<DashboardSummary[]>;
  /** Appends a version; NOT_FOUND for another tenant's or a missing dashboard. */
  update(tenantId: string, id: string, change: DashboardUpdate): Promise<Dashboard>;
  versions(tenantId: string, id: string): Promise<DashboardVersionInfo[]>;
  delete(tenantId: string, id: string): Promise<boolean>;
}

const SUMMARY = 'd.id, d.tenant_id, d.name, d.description, d.current_version, d.created_by, d.created_at, d.updated_at';

export function createDashboardRepo(db: Conn): DashboardRepo {
  const get = async (q: Queryable, tenantId: string, id: string, version?: number): Promise<Dashboard | null> => {
    if (!isUuid(id)) return null;
    const rows = await q.query(
      `SELECT ${SUMMARY}, v.version, v.widgets, v.created_by AS version_created_by
         FROM dashboards d JOIN dashboard_versions v ON v.dashboard_id = d.id
        WHERE d.id = $1 AND d.tenant_id = $2 AND v.version = COALESCE($3::int, d.current_version)`,
      [id, tenantId, version ?? null],
    );
    return rows[0] ? toDashboard(rows[0]) : null;
  };

  return {
    async create(tenantId, input) {
      const name = requireName(input.name, 'dashboard name');
      const widgets = checkWidgets(input.widgets ?? []);
      const id = randomUUID();
      await db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO dashboards (id, tenant_id, name, description, current_version, created_by) VALUES ($1, $2, $3, $4, 1, $5)', [
            id,
            tenantId,
            name,
            input.description ?? null,
            input.createdBy,
          ]);
          await tx.query('INSERT INTO dashboard_versions (dashboard_id, version, widgets, created_by) VALUES ($1, 1, $2::jsonb, $3)', [
            id,
            JSON.stringify(widgets),
            input.createdBy,
          ]);
        })
        .catch((e) => rethrowMissingTenant(e, tenantId));
      return (await get(db, tenantId, id))!;
    },
    get: (tenantId, id, version) => get(db, tenantId, id, version),
    async list(tenantId) {
      const rows = await db.query(`SELECT ${SUMMARY} FROM dashboards d WHERE d.tenant_id = $1 ORDER BY d.created_at, d.id`, [tenantId]);
      return rows.map(toSummary);
    },
    async update(tenantId, id, change) {
      const notFound = () => new UserError('NOT_FOUND', `dashboard "${id}" not found`, { id });
      if (!isUuid(id)) throw notFound();
      const widgets = change.widgets ? checkWidgets(change.widgets) : undefined;
      const name = change.name === undefined ? undefined : requireName(change.name, 'dashboard name');
      await db.transaction(async (tx) => {
        // FOR UPDATE serialises concurrent updates so versions stay dense and unique.
        const rows = await tx.query('SELECT current_version FROM dashboards WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [id, tenantId]);
        if (!rows[0]) throw notFound();
        const current = toNumber(rows[0].current_version);
        if (change.expectedVersion !== undefined && change.expectedVersion !== current) {
          throw new UserError('CONFLICT', `dashboard "${id}" is at version ${current}, not ${change.expectedVersion}; reload and retry`, {
            id,
            currentVersion: current,
          });
        }
        const next = current + 1;
        await tx.query(
          `INSERT INTO dashboard_versions (dashboard_id, version, widgets, created_by)
           SELECT $1, $2, COALESCE($3::jsonb, widgets), $4 FROM dashboard_versions WHERE dashboard_id = $1 AND version = $5`,
          [id, next, widgets ? JSON.stringify(widgets) : null, change.updatedBy, current],
        );
        await tx.query(
          `UPDATE dashboards SET current_version = $2, updated_at = now(), name = COALESCE($3, name),
             description = CASE WHEN $4::boolean THEN $5 ELSE description END
           WHERE id = $1`,
          [id, next, name ?? null, change.description !== undefined, change.description ?? null],
        );
      });
      return (await get(db, tenantId, id))!;
    },
    async versions(tenantId, id) {
      if (!isUuid(id)) return [];
      const rows = await db.query(
        `SELECT v.version, v.created_by, v.created_at, jsonb_array_length(v.widgets) AS widget_count
           FROM dashboard_versions v JOIN dashboards d ON d.id = v.dashboard_id
          WHERE d.id = $1 AND d.tenant_id = $2 ORDER BY v.version`,
        [id, tenantId],
      );
      return rows.map((r) => ({
        version: toNumber(r.version),
        createdBy: String(r.created_by),
        createdAt: toDate(r.created_at),
        widgetCount: toNumber(r.widget_count),
      }));
    },
    async delete(tenantId, id) {
      if (!isUuid(id)) return false;
      return (await db.query('DELETE FROM dashboards WHERE id = $1 AND tenant_id = $2 RETURNING id', [id, tenantId])).length === 1;
    },
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
  };
}

function toDashboard(r: Record<string, unknown>): Dashboard {
  return { ...toSummary(r), widgets: r.widgets as DashboardWidget[], versionCreatedBy: String(r.version_created_by) };
}
