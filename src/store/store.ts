/**
 * The metadata store: tenants, API keys, dashboards, saved queries, audit trail, change signals.
 * A Postgres server through `pg` when a url is given, embedded PGlite otherwise. Same SQL, same migrations.
 */
import type { Config } from '../config.js';
import { createApiKeyRepo, type ApiKeyRepo } from './api-keys.js';
import { createAuditLog, type AuditLog, type AuditOptions } from './audit.js';
import { createDashboardLinkRepo, type DashboardLinkRepo } from './dashboard-links.js';
import { createDashboardRepo, type DashboardRepo } from './dashboards.js';
import { silentLogger, type Db, type StoreLogger } from './db.js';
import { createMigrationCheck, runMigrations, type MigrationResult } from './migrate.js';
import { openPgDb } from './pg-db.js';
import { openPgliteDb } from './pglite-db.js';
import { createPrincipalRepo, type PrincipalRepo } from './principals.js';
import { createRoleRepo, type RoleRepo } from './roles.js';
import { createSavedQueryRepo, type SavedQueryRepo } from './saved-queries.js';
import { createUsageRepo, type UsageRepo } from './usage.js';
import { createJobQueue, type JobQueue } from './job-queue.js';
import { type AlertRepo, createAlertRepo } from './alerts.js';
import { createExportRepo, type ExportRepo } from './report-exports.js';
import { createReportRepo, type ReportRepo } from './report-schedules.js';
import { createTenantRepo, DEMO_TENANTS, type TenantRepo } from './tenants.js';

export interface Store {
  readonly kind: 'postgres' | 'pglite';
  /** Applies pending migrations under a lock. Safe to call from several instances at once. */
  migrate(options?: { dir?: string }): Promise<MigrationResult>;
  /** Creates acme, globex and initech if missing. */
  ensureDemoTenants(): Promise<void>;
  readonly tenants: TenantRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly dashboards: DashboardRepo;
  /** Read-only share links of dashboards (token = credential, expiring, revocable). */
  readonly dashboardLinks: DashboardLinkRepo;
  readonly savedQueries: SavedQueryRepo;
  readonly audit: AuditLog;
  /** Principals seen per tenant (batched upserts). */
  readonly principals: PrincipalRepo;
  /** Tenants' own roles. */
  readonly roles: RoleRepo;
  /** Monthly usage per tenant (batched increments). */
  readonly usage: UsageRepo;
  /** The durable job queue (FOR UPDATE SKIP LOCKED; jobs/ runs it). */
  readonly jobs: JobQueue;
  /** Exports, their files and download links (reports/). */
  readonly exports: ExportRepo;
  /** Schedules, runs, snapshots, webhook secrets (reports/). */
  readonly reports: ReportRepo;
  /** Alert rules, states and history (reports/alerts.ts). */
  readonly alerts: AlertRepo;
  /**
   * Cross-instance change signals: LISTEN/NOTIFY on the server, PGlite's in-process
   * notifications when embedded. Channel: lower-case identifier. Resolves once listening.
   */
  listen(channel: string, handler: (payload: string) => void, onResync?: () => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /** True when the database answers (readiness). */
  ping(): Promise<boolean>;
  /** True when every migration file is applied (readiness; cached once true). */
  migrationsApplied(): Promise<boolean>;
  /** Flushes the audit buffer, waits for background writes, closes connections. */
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly audit?: AuditOptions;
}

export async function createStore(options: Config['postgres'], logger: StoreLogger = silentLogger, extra: StoreOptions = {}): Promise<Store> {
  return storeOnDb(await openDb(options, logger), logger, extra);
}

export function openDb(options: Config['postgres'], logger: StoreLogger = silentLogger): Promise<Db> {
  return options.url ? openPgDb(options.url, logger) : openPgliteDb(options.pglitePath);
}

/** Builds the repos on an open Db (tests use it to reach the Db underneath). */
export function storeOnDb(db: Db, logger: StoreLogger = silentLogger, extra: StoreOptions = {}): Store {
  const tenants = createTenantRepo(db);
  const apiKeys = createApiKeyRepo(db, logger);
  const audit = createAuditLog(db, logger, extra.audit);
  const principals = createPrincipalRepo(db, logger);
  const usage = createUsageRepo(db, logger);
  const migrationCheck = createMigrationCheck(db);
  let closing: Promise<void> | null = null;
  return {
    kind: db.kind,
    migrate: (opts) => runMigrations(db, { dir: opts?.dir, logger }),
    async ensureDemoTenants() {
      for (const t of DEMO_TENANTS) await tenants.ensure(t);
    },
    tenants,
    apiKeys,
    dashboards: createDashboardRepo(db),
    dashboardLinks: createDashboardLinkRepo(db),
    savedQueries: createSavedQueryRepo(db),
    audit,
    principals,
    roles: createRoleRepo(db),
    usage,
    jobs: createJobQueue(db),
    exports: createExportRepo(db),
    reports: createReportRepo(db),
    alerts: createAlertRepo(db),
    listen: (channel, handler, onResync) => db.listen(channel, handler, onResync),
    notify: (channel, payload) => db.notify(channel, payload),
    ping: () =>
      db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
    migrationsApplied: () => migrationCheck().catch(() => false),
    close() {
      closing ??= (async () => {
        await Promise.all([audit.close(), principals.close(), usage.close()]);
        await apiKeys.settle();
        await db.close();
      })();
      return closing;
    },
  };
}
