/**
 * The reports service: exports, snapshots, schedules — and the job runner they share (jobs/).
 * Built once per instance by services.ts; the GraphQL door and the download door call it.
 */
import type { JobRunner } from '../jobs/runner.js';
import { ALERT_EVALUATE_JOB, ALERT_NOTIFY_JOB, createAlerts } from './alerts.js';
import type { ReportsDeps } from './deps.js';
import { createExports, EXPORT_JOB } from './exports.js';
import { createSchedules, SCHEDULE_JOB } from './schedules.js';
import { createSnapshots } from './snapshots.js';

export function createReportsService(deps: ReportsDeps) {
  const exports = createExports(deps);
  const snapshots = createSnapshots(deps);
  const schedules = createSchedules(deps, exports);
  const alerts = createAlerts(deps);
  return {
    exports,
    snapshots,
    schedules,
    alerts,
    webhookSecret: (tenantId: string) => deps.store.reports.webhookSecret(tenantId),
    rotateWebhookSecret: (tenantId: string) => deps.store.reports.rotateWebhookSecret(tenantId),
    /** Registers the job kinds on a runner; the scheduler enqueues due schedules before each poll. */
    attach(runner: JobRunner): void {
      runner.handle(EXPORT_JOB, exports.run);
      runner.handle(SCHEDULE_JOB, schedules.run);
      runner.handle(ALERT_EVALUATE_JOB, alerts.evaluate);
      runner.handle(ALERT_NOTIFY_JOB, alerts.notify);
    },
    /** Before each poll: due schedules and alert rules become jobs; expired exports and snapshots go (best effort). */
    async beforePoll(): Promise<void> {
      await schedules.enqueueDue();
      await alerts.enqueueDue();
    },
    async purge(): Promise<void> {
      await deps.store.exports.purgeExpired();
      await deps.store.reports.purgeSnapshots();
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
