/** Tenants: the companies Strata serves. Ids are short slugs ("acme") used as the tenant scope everywhere. */
import { TENANT_ID_PATTERN } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { Queryable } from './db.js';
import { requireName, toDate } from './sql.js';

export type TenantStatus = 'active' | 'trial' | 'suspended' | 'churned';

export const TENANT_STATUSES: readonly TenantStatus[] = ['active', 'trial', 'suspended', 'churned'];

/** Statuses whose credentials are served; the others are refused with TENANT_SUSPENDED. */
export function tenantAdmits(status: TenantStatus): boolean {
  return status === 'active' || status === 'trial';
}

export interface TenantSettings {
  /** Overrides the plan's default rate limit. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  /** Overrides the plan's monthly quota (operator-owned, like rateLimit). */
  readonly quota?: { readonly queriesPerMonth?: number };
  readonly [key: string]: unknown;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly status: TenantStatus;
  readonly plan: string;
  readonly settings: TenantSettings;
  readonly createdAt: Date;
}

export interface TenantInput {
  readonly id: string;
  readonly name: string;
  readonly slug?: string;
  readonly status?: TenantStatus;
  readonly plan?: string;
  readonly settings?: TenantSettings;
}

export interface TenantRepo {
  /** Creates the tenant if missing; an existing tenant is returned unchanged. */
  ensure(input: TenantInput): Promise<Tenant>;
  /** Creates or overwrites name, slug, status, plan and settings. */
  upsert(input: TenantInput): Promise<Tenant>;
  get(id: string): Promise<Tenant | null>;
  /** The tenants among `ids` that exist (one statement; the access watch re-checks open sessions with it). */
  getMany(ids: readonly string[]): Promise<Tenant[]>;
  list(): Promise<Tenant[]>;
  /** Changes only the given fields; null when the tenant does not exist. */
  update(id: string, patch: TenantPatch): Promise<Tenant | null>;
}

export interface TenantPatch {
  readonly name?: string;
  readonly status?: TenantStatus;
  readonly plan?: string;
  /** Replaces the settings object as a whole. */
  readonly settings?: TenantSettings;
}

export const DEMO_TENANTS: readonly TenantInput[] = [
  { id: 'acme', name: 'Acme Corp', plan: 'pro' },
  { id: 'globex', name: 'Globex Corporation', plan: 'enterprise' },
  { id: 'initech', name: 'Initech', plan: 'free' },
];

const COLUMNS = 'id, name, slug, status, plan, settings, created_at';

export function createTenantRepo(db: Queryable): TenantRepo {
  const write = async (input: TenantInput, onConflict: string): Promise<Tenant> => {
    const t = checkInput(input);
    await db.query(`INSERT INTO tenants (id, name, slug, status, plan, settings) VALUES ($1, $2, $3, $4, $5, $6::jsonb) ${onConflict}`, [
      t.id,
      t.name,
      t.slug,
      t.status,
      t.plan,
      JSON.stringify(t.settings),
    ]);
    const row = await get(t.id);
    if (!row) throw new Error(`tenant ${t.id} vanished after write`);
    return row;
  };
  const get = async (id: string): Promise<Tenant | null> => {
    const rows = await db.query(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
    return rows[0] ? toTenant(rows[0]) : null;
  };
  return {
    ensure: (input) => write(input, 'ON CONFLICT (id) DO NOTHING'),
    upsert: (input) =>
      write(
        input,
        `ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, slug = EXCLUDED.slug, status = EXCLUDED.status,
           plan = EXCLUDED.plan, settings = EXCLUDED.settings`,
      ),
    get,
    async getMany(ids) {
      if (ids.length === 0) return [];
      return (await db.query(`SELECT ${COLUMNS} FROM tenants WHERE id = ANY($1::text[])`, [[...ids]])).map(toTenant);
    },
    async update(id, patch) {
      const current = await get(id);
      if (!current) return null;
      const t = checkInput({ ...current, ...patch });
      const rows = await db.query(`UPDATE tenants SET name = $2, status = $3, plan = $4, settings = $5::jsonb WHERE id = $1 RETURNING ${COLUMNS}`, [
        id,
        t.name,
        t.status,
        t.plan,
        JSON.stringify(t.settings),
      ]);
      return rows[0] ? toTenant(rows[0]) : null;
    },
    async list() {
      return (await db.query(`SELECT ${COLUMNS} FROM tenants ORDER BY id`)).map(toTenant);
    },
  };
}

function checkInput(input: TenantInput) {
  if (!TENANT_ID_PATTERN.test(input.id)) {
    throw new UserError('BAD_USER_INPUT', `tenant id "${input.id}" must match ${TENANT_ID_PATTERN}`);
  }
  if (input.status !== undefined && !TENANT_STATUSES.includes(input.status)) {
    throw new UserError('BAD_USER_INPUT', `tenant status must be one of ${TENANT_STATUSES.join(', ')}`);
  }
  if (input.plan !== undefined && !/^[a-z][a-z0-9_-]{0,31}$/.test(input.plan)) {
    throw new UserError('BAD_USER_INPUT', 'tenant plan must be a short lower-case name ("free", "pro", "enterprise")');
  }
  const rl = input.settings?.rateLimit;
  if (rl && !(rl.perSecond > 0 && rl.burst >= 1)) {
    throw new UserError('BAD_USER_INPUT', 'settings.rateLimit needs perSecond > 0 and burst >= 1');
  }
  return {
    id: input.id,
    name: requireName(input.name, 'tenant name'),
    slug: input.slug ?? input.id,
    status: input.status ?? 'active',
    plan: input.plan ?? 'free',
    settings: input.settings ?? {},
  };
}

function toTenant(r: Record<string, unknown>): Tenant {
  return {
    id: String(r.id),
    name: String(r.name),
    slug: String(r.slug),
    status: r.status as TenantStatus,
    plan: String(r.plan),
    settings: (r.settings ?? {}) as TenantSettings,
    createdAt: toDate(r.created_at),
  };
}
