/**
 * Alert rules, their per-dimension-value states and their history (migration 0013). Due rules are
 * taken with FOR UPDATE SKIP LOCKED and their next time written in the transaction that enqueues
 * the evaluation job (dedupe key), like schedules. An evaluation's outcome is applied under the
 * rule's row lock, so two evaluations of one rule never both make the same transition.
 */
import { randomUUID } from 'node:crypto';
import type { Conn, Queryable } from './db.js';
import type { RunAs } from './report-schedules.js';
import { isUuid, toDate, toNumber } from './sql.js';

export interface AlertRuleRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly owner: string;
  readonly name: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly condition: Readonly<Record<string, unknown>>;
  readonly consecutive: number;
  readonly destinations: readonly Readonly<Record<string, unknown>>[];
  readonly enabled: boolean;
  readonly cubes: readonly string[];
  readonly intervalSeconds: number;
  readonly nextEvalAt: Date;
  readonly runAs: RunAs;
  /** Why the last evaluation did not run (migration 0015); null once one runs. */
  readonly lastError?: AlertRunError | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface AlertRunError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export type AlertRuleInput = Omit<AlertRuleRecord, 'id' | 'createdAt' | 'updatedAt' | 'lastError'>;

export type AlertStatus = 'pending' | 'firing' | 'resolved';

export interface AlertStateRecord {
  readonly ruleId: string;
  readonly key: string;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly status: AlertStatus;
  readonly streak: number;
  readonly value: number | null;
  readonly since: Date;
  readonly evaluatedAt: Date;
}

export interface AlertEventRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly key: string;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly event: 'firing' | 'resolved';
  readonly value: number | null;
  readonly at: Date;
  readonly deliveries: readonly Readonly<Record<string, unknown>>[] | null;
}

/** One observed row of an evaluation: does the condition hold for this dimension value? */
export interface Observation {
  readonly key: string;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly value: number | null;
  readonly holds: boolean;
}

export interface AlertRepo {
  createRule(input: AlertRuleInput): Promise<AlertRuleRecord>;
  getRule(tenantId: string, id: string): Promise<AlertRuleRecord | null>;
  listRules(tenantId: string): Promise<AlertRuleRecord[]>;
  updateRule(tenantId: string, id: string, change: Partial<AlertRuleInput>): Promise<AlertRuleRecord | null>;
  deleteRule(tenantId: string, id: string): Promise<boolean>;
  /** The data of these cubes changed (empty: all): the tenant's rules reading them are due now. */
  markChanged(tenantId: string, cubes: readonly string[], now?: Date): Promise<number>;
  takeDue(now: Date, limit: number, enqueue: (r: AlertRuleRecord, tx: Queryable) => Promise<void>): Promise<number>;
  /**
   * Applies an evaluation that started at `started` under the rule's lock (skipped when a later
   * one was applied already): states move, transitions become events; `onEvent` runs in the
   * same transaction (the notification job). Returns the events.
   */
  apply(
    rule: AlertRuleRecord,
    started: Date,
    observations: readonly Observation[],
    onEvent: (e: AlertEventRecord, tx: Queryable) => Promise<void>,
  ): Promise<AlertEventRecord[] | null>;
  listStates(tenantId: string, ruleId: string): Promise<AlertStateRecord[]>;
  listEvents(tenantId: string, ruleId: string, limit?: number): Promise<AlertEventRecord[]>;
  getEvent(tenantId: string, id: string): Promise<AlertEventRecord | null>;
  recordDeliveries(tenantId: string, id: string, deliveries: readonly object[]): Promise<void>;
  /** Records why an evaluation did not run (null: it ran). */
  recordError(tenantId: string, id: string, error: AlertRunError | null): Promise<void>;
}

const RULE =
  'id, tenant_id, owner, name, source, condition, consecutive, destinations, enabled, cubes, interval_seconds, next_eval_at, run_as, last_error, created_at, updated_at';
const STATE = 'rule_id, key, dimensions, status, streak, value, since, evaluated_at';
const EVENT = 'id, tenant_id, rule_id, key, dimensions, event, value, at, deliveries';

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const num = (v: unknown) => (v === null || v === undefined ? null : toNumber(v));

export function createAlertRepo(db: Conn): AlertRepo {
  return {
    async createRule(r) {
      const rows = await db.query(
        `INSERT INTO alert_rules (id, tenant_id, owner, name, source, condition, consecutive, destinations, enabled, cubes, interval_seconds, next_eval_at, run_as)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9, $10::jsonb, $11, $12, $13::jsonb) RETURNING ${RULE}`,
        [
          randomUUID(),
          r.tenantId,
          r.owner,
          r.name,
          JSON.stringify(r.source),
          JSON.stringify(r.condition),
          r.consecutive,
          JSON.stringify(r.destinations),
          r.enabled,
          JSON.stringify(r.cubes),
          r.intervalSeconds,
          r.nextEvalAt.toISOString(),
          JSON.stringify(r.runAs),
        ],
      );
      return toRule(rows[0]);
    },
    async getRule(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${RULE} FROM alert_rules WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toRule(rows[0]) : null;
    },
    async listRules(tenantId) {
      return (await db.query(`SELECT ${RULE} FROM alert_rules WHERE tenant_id = $1 ORDER BY name, id`, [tenantId])).map(toRule);
    },
    async updateRule(tenantId, id, c) {
      if (!isUuid(id)) return null;
      const rows = await db.query(
        `UPDATE alert_rules SET
            name = COALESCE($3, name), source = COALESCE($4::jsonb, source), condition = COALESCE($5::jsonb, condition),
            consecutive = COALESCE($6, consecutive), destinations = COALESCE($7::jsonb, destinations),
            enabled = COALESCE($8, enabled), cubes = COALESCE($9::jsonb, cubes),
            interval_seconds = COALESCE($10, interval_seconds), next_eval_at = COALESCE($11::timestamptz, next_eval_at),
            run_as = COALESCE($12::jsonb, run_as), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING ${RULE}`,
        [
          tenantId,
          id,
          c.name ?? null,
          c.source ? JSON.stringify(c.source) : null,
          c.condition ? JSON.stringify(c.condition) : null,
          c.consecutive ?? null,
          c.destinations ? JSON.stringify(c.destinations) : null,
          c.enabled ?? null,
          c.cubes ? JSON.stringify(c.cubes) : null,
          c.intervalSeconds ?? null,
          c.nextEvalAt?.toISOString() ?? null,
          c.runAs ? JSON.stringify(c.runAs) : null,
        ],
      );
      return rows[0] ? toRule(rows[0]) : null;
    },
    async deleteRule(tenantId, id) {
      if (!isUuid(id)) return false;
      return (await db.query('DELETE FROM alert_rules WHERE tenant_id = $1 AND id = $2 RETURNING id', [tenantId, id])).length > 0;
    },
    async markChanged(tenantId, cubes, now = new Date()) {
      // The app's clock, like takeDue's: the database's may differ.
      const rows = await db.query(
        `UPDATE alert_rules SET next_eval_at = $3
          WHERE tenant_id = $1 AND enabled AND next_eval_at > $3
            AND (jsonb_array_length($2::jsonb) = 0 OR cubes ?| ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))
          RETURNING id`,
        [tenantId, JSON.stringify(cubes), now.toISOString()],
      );
      return rows.length;
    },
    takeDue(now, limit, enqueue) {
      return db.transaction(async (tx) => {
        const due = await tx.query(
          `SELECT ${RULE} FROM alert_rules WHERE enabled AND next_eval_at <= $1 ORDER BY next_eval_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now.toISOString(), limit],
        );
        for (const row of due) {
          const r = toRule(row);
          await enqueue(r, tx);
          await tx.query(`UPDATE alert_rules SET next_eval_at = $2::timestamptz + make_interval(secs => interval_seconds) WHERE id = $1`, [
            r.id,
            now.toISOString(),
          ]);
        }
        return due.length;
      });
    },
    apply(rule, started, observations, onEvent) {
      return db.transaction(async (tx) => {
        const [lock] = await tx.query<{ applied_started: unknown }>('SELECT applied_started FROM alert_rules WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
          rule.tenantId,
          rule.id,
        ]);
        if (!lock) return null; // deleted meanwhile
        if (lock.applied_started && toDate(lock.applied_started) > started) return null; // a newer evaluation won
        await tx.query('UPDATE alert_rules SET applied_started = $2 WHERE id = $1', [rule.id, started.toISOString()]);
        const current = new Map((await tx.query(`SELECT ${STATE} FROM alert_states WHERE rule_id = $1`, [rule.id])).map((r) => [String(r.key), toState(r)]));
        const seen = new Set<string>();
        const events: AlertEventRecord[] = [];
        const step = async (o: Observation) => {
          seen.add(o.key);
          const before = current.get(o.key);
          const streak = o.holds ? (before?.streak ?? 0) + 1 : 0;
          const status: AlertStatus = o.holds ? (streak >= rule.consecutive || before?.status === 'firing' ? 'firing' : 'pending') : 'resolved';
          const changed = (before?.status ?? 'resolved') !== status;
          await tx.query(
            `INSERT INTO alert_states (rule_id, tenant_id, key, dimensions, status, streak, value, since, evaluated_at)
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, now(), now())
             ON CONFLICT (rule_id, key) DO UPDATE SET status = $5, streak = $6, value = $7, dimensions = $4::jsonb, evaluated_at = now(),
               since = CASE WHEN alert_states.status = $5 THEN alert_states.since ELSE now() END`,
            [rule.id, rule.tenantId, o.key, JSON.stringify(o.dimensions), status, streak, o.value],
          );
          const event = status === 'firing' && changed ? 'firing' : status === 'resolved' && before?.status === 'firing' ? 'resolved' : null;
          if (!event) return;
          const [row] = await tx.query(
            `INSERT INTO alert_events (id, tenant_id, rule_id, key, dimensions, event, value) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING ${EVENT}`,
            [randomUUID(), rule.tenantId, rule.id, o.key, JSON.stringify(o.dimensions), event, o.value],
          );
          const e = toEvent(row);
          events.push(e);
          await onEvent(e, tx);
        };
        for (const o of observations) await step(o);
        // A dimension value gone from the result no longer meets the condition.
        for (const s of current.values())
          if (!seen.has(s.key) && s.status !== 'resolved') await step({ key: s.key, dimensions: s.dimensions, value: null, holds: false });
        return events;
      });
    },
    async listStates(tenantId, ruleId) {
      if (!isUuid(ruleId)) return [];
      return (await db.query(`SELECT ${STATE} FROM alert_states WHERE tenant_id = $1 AND rule_id = $2 ORDER BY key`, [tenantId, ruleId])).map(toState);
    },
    async listEvents(tenantId, ruleId, limit = 100) {
      if (!isUuid(ruleId)) return [];
      const rows = await db.query(`SELECT ${EVENT} FROM alert_events WHERE tenant_id = $1 AND rule_id = $2 ORDER BY at DESC, id LIMIT $3`, [
        tenantId,
        ruleId,
        limit,
      ]);
      return rows.map(toEvent);
    },
    async getEvent(tenantId, id) {
      if (!isUuid(id)) return null;
      const rows = await db.query(`SELECT ${EVENT} FROM alert_events WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      return rows[0] ? toEvent(rows[0]) : null;
    },
    async recordDeliveries(tenantId, id, deliveries) {
      await db.query('UPDATE alert_events SET deliveries = $3::jsonb WHERE tenant_id = $1 AND id = $2', [tenantId, id, JSON.stringify(deliveries)]);
    },
    async recordError(tenantId, id, error) {
      await db.query('UPDATE alert_rules SET last_error = $3::jsonb WHERE tenant_id = $1 AND id = $2', [tenantId, id, error ? JSON.stringify(error) : null]);
    },
  };
}

function toRule(r: Record<string, unknown>): AlertRuleRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    owner: String(r.owner),
    name: String(r.name),
    source: json(r.source),
    condition: json(r.condition),
    consecutive: toNumber(r.consecutive),
    destinations: json(r.destinations),
    enabled: Boolean(r.enabled),
    cubes: json(r.cubes),
    intervalSeconds: toNumber(r.interval_seconds),
    nextEvalAt: toDate(r.next_eval_at),
    runAs: json(r.run_as),
    lastError: r.last_error == null ? null : json(r.last_error),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

function toState(r: Record<string, unknown>): AlertStateRecord {
  return {
    ruleId: String(r.rule_id),
    key: String(r.key),
    dimensions: json(r.dimensions),
    status: r.status as AlertStatus,
    streak: toNumber(r.streak),
    value: num(r.value),
    since: toDate(r.since),
    evaluatedAt: toDate(r.evaluated_at),
  };
}

function toEvent(r: Record<string, unknown>): AlertEventRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    ruleId: String(r.rule_id),
    key: String(r.key),
    dimensions: json(r.dimensions),
    event: r.event as 'firing' | 'resolved',
    value: num(r.value),
    at: toDate(r.at),
    deliveries: r.deliveries == null ? null : json(r.deliveries),
  };
}
