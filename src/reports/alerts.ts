/**
 * Metric alerts: a rule = a report source (one query) + a condition (alert-conditions.ts), fired
 * after N consecutive evaluations, one state per dimension value. A rule is evaluated when the data
 * behind it changes (the change signals of live/ make it due now: `changed`) and every
 * intervalSeconds as a fallback. Due rules become `alert.evaluate` jobs (dedupe key
 * alert:<id>:<due>) in the transaction that moves their next time, so N instances evaluate once;
 * each firing/resolved transition is an event written under the rule's row lock together with its
 * `alert.notify` job (dedupe key alert-notify:<event>), so it is notified once.
 */
import { SCOPES } from '../auth/principal.js';
import { UserError } from '../errors.js';
import type { JobContext } from '../jobs/runner.js';
import type { RequestContext } from '../query/types.js';
import type { AlertEventRecord, AlertRuleRecord } from '../store/alerts.js';
import { currentRunAs } from './author-access.js';
import { type AlertCondition, checkCondition, evaluationQuery, observe } from './alert-conditions.js';
import { auditReport, backgroundContext, type ReportsDeps, runAsOf } from './deps.js';
import { deliverWebhook } from './destinations/webhook.js';
import { sourceDeps } from './exports.js';
import { checkDestinations, type Destination } from './schedules.js';
import { checkSource, resolveSource } from './sources.js';

export const ALERT_EVALUATE_JOB = 'alert.evaluate';
export const ALERT_NOTIFY_JOB = 'alert.notify';

export interface AlertRuleInputValue {
  readonly name?: string;
  readonly source?: unknown;
  readonly condition?: unknown;
  readonly consecutive?: number;
  readonly intervalSeconds?: number;
  readonly destinations?: unknown;
  readonly enabled?: boolean;
}

const DEFAULT_INTERVAL_SECONDS = 300;

export function createAlerts(deps: ReportsDeps) {
  const { store, logger } = deps;

  async function check(ctx: RequestContext, v: AlertRuleInputValue, current?: AlertRuleRecord) {
    const source = checkSource(v.source ?? current?.source);
    const queries = await resolveSource(sourceDeps(deps), ctx.principal, source);
    if (queries.length !== 1) throw new UserError('BAD_USER_INPUT', 'an alert watches one query: give the dashboard widget (widgetId)');
    const condition = checkCondition(v.condition ?? current?.condition, queries[0].query);
    // Unknown members, scopes, a query that cannot be compared: the query service's coded errors.
    const compiled = deps.query.compile(ctx.principal, evaluationQuery(queries[0].query, condition));
    const consecutive = v.consecutive ?? current?.consecutive ?? 1;
    if (!Number.isInteger(consecutive) || consecutive < 1 || consecutive > 100) {
      throw new UserError('BAD_USER_INPUT', 'consecutive must be an integer from 1 to 100', { reason: 'bad_condition' });
    }
    const intervalSeconds = v.intervalSeconds ?? current?.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
    const min = Math.max(1, deps.settings.minScheduleIntervalSeconds);
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < min || intervalSeconds > 7 * 86_400) {
      throw new UserError('BAD_USER_INPUT', `intervalSeconds must be an integer from ${min} to ${7 * 86_400}`);
    }
    const destinations = checkDestinations(v.destinations ?? current?.destinations);
    return { source, condition, consecutive, intervalSeconds, destinations, cubes: [...compiled.compiled.cubes] };
  }

  async function create(ctx: RequestContext, v: AlertRuleInputValue): Promise<AlertRuleRecord> {
    const c = await check(ctx, v);
    const rule = await store.alerts.createRule({
      tenantId: ctx.principal.tenantId,
      owner: ctx.principal.subject,
      name: typeof v.name === 'string' && v.name.trim() ? v.name.trim().slice(0, 200) : 'Alert',
      source: c.source as unknown as Record<string, unknown>,
      condition: c.condition as unknown as Record<string, unknown>,
      consecutive: c.consecutive,
      destinations: c.destinations as unknown as Record<string, unknown>[],
      enabled: v.enabled ?? true,
      cubes: c.cubes,
      intervalSeconds: c.intervalSeconds,
      nextEvalAt: new Date(), // a first evaluation now: the baseline state
      runAs: runAsOf(ctx.principal),
    });
    auditReport(deps, ctx, { action: 'alert.create', target: rule.id, after: publicRule(rule) });
    deps.poke?.();
    return rule;
  }

  async function update(ctx: RequestContext, id: string, v: AlertRuleInputValue): Promise<AlertRuleRecord> {
    const before = await store.alerts.getRule(ctx.principal.tenantId, id);
    if (!before) throw new UserError('NOT_FOUND', `alert rule "${id}" not found`, { id });
    const c = await check(ctx, v, before);
    const rule = await store.alerts.updateRule(ctx.principal.tenantId, id, {
      name: typeof v.name === 'string' && v.name.trim() ? v.name.trim().slice(0, 200) : undefined,
      source: c.source as unknown as Record<string, unknown>,
      condition: c.condition as unknown as Record<string, unknown>,
      consecutive: c.consecutive,
      destinations: c.destinations as unknown as Record<string, unknown>[],
      enabled: v.enabled,
      cubes: c.cubes,
      intervalSeconds: c.intervalSeconds,
      nextEvalAt: new Date(),
      runAs: runAsOf(ctx.principal),
    });
    if (!rule) throw new UserError('NOT_FOUND', `alert rule "${id}" not found`, { id });
    auditReport(deps, ctx, { action: 'alert.update', target: id, before: publicRule(before), after: publicRule(rule) });
    deps.poke?.();
    return rule;
  }

  async function remove(ctx: RequestContext, id: string): Promise<boolean> {
    const before = await store.alerts.getRule(ctx.principal.tenantId, id);
    const ok = await store.alerts.deleteRule(ctx.principal.tenantId, id);
    if (ok && before) auditReport(deps, ctx, { action: 'alert.delete', target: id, before: publicRule(before) });
    return ok;
  }

  /** A change signal (every instance gets it): the tenant's rules reading these cubes are due now. */
  async function changed(tenantId: string, cubes: readonly string[]): Promise<void> {
    try {
      if ((await store.alerts.markChanged(tenantId, cubes)) > 0) deps.poke?.();
    } catch (e) {
      logger.warn({ err: (e as Error).message, tenantId }, 'alerts: could not mark rules due (the schedule will evaluate them)');
    }
  }

  /** Before every poll: each due rule becomes one evaluation job. */
  function enqueueDue(now = new Date()): Promise<number> {
    return store.alerts.takeDue(now, 50, async (r, tx) => {
      const due = r.nextEvalAt.toISOString();
      await store.jobs.enqueue(
        { kind: ALERT_EVALUATE_JOB, tenantId: r.tenantId, payload: { ruleId: r.id, dueAt: due }, dedupeKey: `alert:${r.id}:${due}` },
        tx,
      );
    });
  }

  async function evaluate(job: JobContext): Promise<unknown> {
    const { ruleId } = job.job.payload as { ruleId: string };
    const tenantId = job.job.tenantId as string;
    const rule = await store.alerts.getRule(tenantId, ruleId);
    if (!rule?.enabled) return { skipped: 'rule deleted or disabled' };
    const started = new Date();
    try {
      // The tenant still served, the author's access as it is now (author-access.ts).
      const ctx = backgroundContext(tenantId, await currentRunAs(deps, tenantId, rule.runAs, SCOPES.ALERTS_WRITE), job.signal);
      const [q] = await resolveSource(sourceDeps(deps), ctx.principal, checkSource(rule.source));
      const condition = rule.condition as unknown as AlertCondition;
      const result = await deps.query.load(ctx, evaluationQuery(q.query, condition));
      const events = await store.alerts.apply(rule, started, observe(condition, result), async (e, tx) => {
        await store.jobs.enqueue({ kind: ALERT_NOTIFY_JOB, tenantId, payload: { eventId: e.id }, dedupeKey: `alert-notify:${e.id}` }, tx);
      });
      if (events?.length) deps.poke?.();
      if (rule.lastError) await store.alerts.recordError(tenantId, rule.id, null);
      return { rows: result.rows.length, events: events?.length ?? 0 };
    } catch (e) {
      if (job.signal.aborted || !(e instanceof UserError) || e.code === 'STORE_UNAVAILABLE') throw e; // retried
      // The rule no longer runs (tenant paused, access revoked, saved query gone): nothing a retry can fix;
      // recorded on the rule, and the next tick tries again.
      logger.warn({ ruleId, tenantId, code: e.code, err: e.message }, 'alert evaluation failed');
      await store.alerts.recordError(tenantId, rule.id, { code: e.code, message: e.message, at: new Date().toISOString() });
      return { failed: e.code };
    }
  }

  async function notify(job: JobContext): Promise<unknown> {
    const { eventId } = job.job.payload as { eventId: string };
    const tenantId = job.job.tenantId as string;
    const event = await store.alerts.getEvent(tenantId, eventId);
    const rule = event && (await store.alerts.getRule(tenantId, event.ruleId));
    if (!event || !rule) return { skipped: 'rule deleted' };
    try {
      // Checked again: the tenant or the author may have lost access since the evaluation.
      await currentRunAs(deps, tenantId, rule.runAs, SCOPES.ALERTS_WRITE);
    } catch (e) {
      if (!(e instanceof UserError) || e.code === 'STORE_UNAVAILABLE') throw e; // retried
      const skipped = (rule.destinations as unknown as Destination[]).map((d) => ({ kind: d.kind, status: 'skipped', errorCode: e.code, error: e.message }));
      await store.alerts.recordDeliveries(tenantId, event.id, skipped);
      return { failed: e.code };
    }
    const deliveries: Record<string, unknown>[] = [];
    for (const d of rule.destinations as unknown as Destination[]) deliveries.push(await deliver(d, rule, event, job.signal));
    // Recorded, not retried: a destination that got it must not get it twice.
    await store.alerts.recordDeliveries(tenantId, event.id, deliveries);
    return { deliveries: deliveries.length };
  }

  async function deliver(d: Destination, rule: AlertRuleRecord, e: AlertEventRecord, signal: AbortSignal): Promise<Record<string, unknown>> {
    const what = Object.entries(e.dimensions)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    try {
      if (d.kind === 'email') {
        if (!deps.mailer) throw new Error('no SMTP server is configured (SMTP_URL)');
        await deps.mailer.send({
          to: d.to,
          subject: `[${e.event}] ${rule.name}${what ? ` — ${what}` : ''}`,
          text: `Alert "${rule.name}" is ${e.event}${what ? ` for ${what}` : ''} (value ${e.value ?? 'none'}) at ${e.at.toISOString()}.\nCondition: ${JSON.stringify(rule.condition)}`,
        });
        return { kind: 'email', to: d.to, status: 'delivered' };
      }
      const r = await deliverWebhook(
        { url: d.url, secret: await store.reports.webhookSecret(rule.tenantId), deliveryId: e.id, payload: webhookPayload(rule, e) },
        { ...deps.settings.webhook, signal },
      );
      return { kind: 'webhook', url: d.url, status: 'delivered', httpStatus: r.status, attempts: r.attempts };
    } catch (err) {
      if (signal.aborted) throw err;
      return { kind: d.kind, status: 'failed', error: (err as Error).message.slice(0, 500) };
    }
  }

  return {
    create,
    update,
    remove,
    changed,
    enqueueDue,
    evaluate,
    notify,
    list: (ctx: RequestContext) => store.alerts.listRules(ctx.principal.tenantId),
    get: (ctx: RequestContext, id: string) => store.alerts.getRule(ctx.principal.tenantId, id),
    states: (ctx: RequestContext, ruleId: string) => store.alerts.listStates(ctx.principal.tenantId, ruleId),
    history: (ctx: RequestContext, ruleId: string, limit?: number) => store.alerts.listEvents(ctx.principal.tenantId, ruleId, limit),
  };
}

export type Alerts = ReturnType<typeof createAlerts>;

function webhookPayload(rule: AlertRuleRecord, e: AlertEventRecord) {
  return {
    event: `alert.${e.event}`,
    rule: { id: rule.id, name: rule.name, condition: rule.condition },
    dimensions: e.dimensions,
    value: e.value,
    at: e.at.toISOString(),
  };
}

/** What the audit trail keeps of a rule (no principal scopes). */
function publicRule(r: AlertRuleRecord) {
  return {
    name: r.name,
    source: r.source,
    condition: r.condition,
    consecutive: r.consecutive,
    intervalSeconds: r.intervalSeconds,
    destinations: r.destinations,
    enabled: r.enabled,
  };
}
