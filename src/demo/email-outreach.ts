/**
 * Email outreach demo data (specification 002, PenguinMails): sending domains, mailboxes with a
 * warmup ramp, health that degrades with bounces, email campaigns with a status, A/B variants of
 * sequence steps, and per-lead engagement. Entities are built here in JS (a few dozen rows per
 * tenant); the daily warmup rows and the lead rows are expanded inside ClickHouse from small plan
 * tables, like facts.ts (randomness = hashes of the seed and the row's natural key).
 */
import { demoCalendar } from './dates.js';
import type { Row } from './demo-plan.js';
import { createRng } from './prng.js';
import { DEMO_DAYS, DEMO_TENANTS } from './tenants.js';
import type { DemoWindow } from './window.js';

/** Lead rows (lead x email campaign) at scale 1; `scale` multiplies them. */
const LEAD_ROWS_AT_SCALE_1 = 60_000;
const DAY_MS = 86_400_000;
/** Mailboxes per tenant, and how many exist before the window (they carry the always-on campaigns). */
const MAILBOXES: Readonly<Record<string, number>> = { acme: 12, globex: 18, initech: 13 };
const EARLY_MAILBOXES = 3;

export interface EmailOutreachPlan {
  /** The email plan rows of demo-plan.ts with each campaign's mailbox pool and A/B step. */
  readonly emailPlan: Row[];
  readonly sendingDomains: Row[];
  readonly mailboxes: Row[];
  readonly emailCampaigns: Row[];
  readonly warmupPlan: Row[];
  readonly leadPlan: Row[];
}

interface Mailbox {
  readonly row: Row;
  readonly createdDay: number;
  readonly pausedDay: number | null;
}

const u = (hash: string, salt: number) => `((intHash64(${hash} + ${salt}) % 1000000) / 1000000.0)`;

export const OUTREACH_PLAN_TABLES = {
  _demo_warmup_plan: `CREATE TABLE IF NOT EXISTS _demo_warmup_plan (
    tenant_id String, mailbox String, first_day Date, last_day Date, age_at_first UInt32, ramp_days UInt32,
    start_volume Float64, max_volume Float64, base_bounce Float64, degrade Float64, spam_rate Float64
  ) ENGINE = Memory`,
  _demo_lead_plan: `CREATE TABLE IF NOT EXISTS _demo_lead_plan (
    tenant_id String, tenant_idx UInt8, email_campaign_id String, campaign_local UInt32, steps UInt8,
    first_day Date, last_day Date, running UInt8, leads UInt32, open_rate Float64, click_rate Float64,
    reply_rate Float64, bounce_rate Float64, unsub_rate Float64, spam_rate Float64
  ) ENGINE = Memory`,
} as const;

/** Health: ramps from 50 to 100 over the warmup, minus 15 points per percent of bounces. */
export function healthAt(progress: number, bounceRate: number): number {
  return Math.max(0, Math.min(100, Math.round(50 + 50 * Math.min(1, progress) - 1500 * bounceRate)));
}

export const WARMUP_SQL = `
INSERT INTO mailbox_warmup (tenant_id, date, mailbox, warmup_status, sent, delivered, inboxed, opened, replied, bounced,
  spam_complaints, daily_target, health_score, progress_percentage)
SELECT tenant_id, date, mailbox, if(progress >= 1, 'warmed', 'warming') AS warmup_status, sent_n, sent_n - bounced_n,
  toUInt32(floor((sent_n - bounced_n) * least(1, 0.55 + 0.4 * progress + 0.05 * ${u('h', 3)}))) AS inboxed_n,
  toUInt32(floor(inboxed_n * (0.35 + 0.3 * ${u('h', 4)}))) AS opened_n,
  toUInt32(floor(opened_n * (0.2 + 0.3 * ${u('h', 5)}))) AS replied_n,
  bounced_n, toUInt32(least(toFloat64(sent_n - bounced_n), floor((sent_n - bounced_n) * spam_rate + ${u('h', 6)}))),
  target, toUInt8(greatest(0, least(100, round(50 + 50 * progress - 1500 * bounce_p + 6 * (${u('h', 7)} - 0.5))))),
  toUInt8(round(100 * progress))
FROM (
  SELECT *, toUInt32(round(start_volume + (max_volume - start_volume) * progress)) AS target,
    toUInt32(greatest(1, round(target * (0.85 + 0.3 * ${u('h', 1)})))) AS sent_n,
    base_bounce + degrade * age AS bounce_p,
    toUInt32(least(sent_n, floor(sent_n * bounce_p + ${u('h', 2)}))) AS bounced_n
  FROM (
    SELECT *, addDays(first_day, d) AS date, age_at_first + d AS age, least(1, (age_at_first + d) / ramp_days) AS progress,
      sipHash64({seed:UInt64}, mailbox, addDays(first_day, d)) AS h
    FROM _demo_warmup_plan
    ARRAY JOIN range(toUInt32(dateDiff('day', first_day, last_day) + 1)) AS d
  )
)`;

/**
 * A lead gets the sequence's steps one by one until it bounces, unsubscribes or replies, or the
 * sequence ends (leads of a running campaign imported lately are still in it). 30 % of a campaign's
 * leads come from the tenant's shared pool, so a lead can be in several campaigns.
 */
export const LEADS_SQL = `
INSERT INTO lead_engagement (tenant_id, email_campaign_id, lead_id, imported_at, last_activity_at, lead_source, status,
  sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_complaints, lead_score)
SELECT tenant_id, email_campaign_id, lead_id, imported, last_activity, source, status,
  sent_n, delivered_n, opened_n, clicked_n, replied_n, bounced_n, unsub_n, spam_n,
  toUInt8(least(100, 12 * opened_n + 20 * clicked_n + 45 * replied_n + if(status = 'interested', 15, 0)))
FROM (
  SELECT *,
    toUInt8(if(bounced_n = 1, 1, least(reach, if(replied_n = 1, reply_step, if(unsub_n = 1, unsub_step, reach))))) AS sent_n,
    toUInt32(sent_n - bounced_n) AS delivered_n,
    toUInt32(least(delivered_n, floor(delivered_n * open_rate * (0.6 + 0.8 * ${u('h', 14)}) + ${u('h', 15)}))) AS opened_n,
    toUInt32(least(opened_n, floor(opened_n * click_rate * 2 * ${u('h', 16)} + ${u('h', 17)} * 0.3))) AS clicked_n,
    toUInt32(replied_n = 1 AND ${u('h', 18)} < 0.4) AS interested,
    toUInt32(unsub_n = 0 AND bounced_n = 0 AND ${u('h', 19)} < spam_rate) AS spam_n,
    multiIf(bounced_n = 1, 'bounced', unsub_n = 1, 'unsubscribed', interested = 1, 'interested', replied_n = 1, 'replied',
      sent_n >= steps, 'completed', 'in_sequence') AS status,
    least(toDateTime(concat(toString(last_day), ' 23:00:00'), 'UTC'), imported + toIntervalSecond(toUInt32((sent_n - 1) * 3 * 86400 + 3600 + ${u('h', 20)} * 86400))) AS last_activity
  FROM (
    SELECT *,
      toUInt32(${u('h', 10)} < bounce_rate) AS bounced_n,
      toUInt8(1 + floor(${u('h', 11)} * steps)) AS reply_step,
      toUInt32(bounced_n = 0 AND ${u('h', 12)} < reply_rate * steps) AS replied_n,
      toUInt8(1 + floor(${u('h', 13)} * steps)) AS unsub_step,
      toUInt32(bounced_n = 0 AND replied_n = 0 AND ${u('h', 21)} < unsub_rate * steps) AS unsub_n
    FROM (
      SELECT *,
        sipHash64({seed:UInt64}, email_campaign_id, i) AS h,
        concat(tenant_id, '-lead-', toString(if(${u('h', 8)} < 0.3,
          tenant_idx * 10000000 + 9000000 + (i * 7919 + campaign_local * 104729) % 5000,
          tenant_idx * 10000000 + campaign_local * 10000 + i))) AS lead_id,
        toDateTime(first_day, 'UTC') + toIntervalSecond(toUInt32(pow(${u('h', 9)}, 1.5) * (dateDiff('second', toDateTime(first_day, 'UTC'), toDateTime(last_day, 'UTC')) + 86000))) AS imported,
        -- days left in the campaign after the import: 3 days per step
        toUInt8(if(running = 1, least(steps, 1 + intDiv(dateDiff('day', imported, toDateTime(last_day, 'UTC')), 3)), steps)) AS reach,
        ['csv_import', 'crm_sync', 'api', 'form'][1 + (intHash64(h + 22) % 4)] AS source
      FROM _demo_lead_plan
      ARRAY JOIN range(leads) AS i
    )
  )
)`;

const day = (date: string, startMs: number) => Math.round((Date.parse(`${date}T00:00:00Z`) - startMs) / DAY_MS);

export function buildEmailOutreach(seed: number, scale: number, window: DemoWindow, emailPlan: readonly Row[]): EmailOutreachPlan {
  const cal = demoCalendar(window.startMs);
  const last = DEMO_DAYS - 1;
  const sendingDomains: Row[] = [];
  const mailboxes: Row[] = [];
  const emailCampaigns: Row[] = [];
  const warmupPlan: Row[] = [];
  const leadPlan: Row[] = [];
  const outPlan: Row[] = [];
  const totalDays = emailPlan.reduce((s, p) => s + day(String(p.last_day), window.startMs) - day(String(p.first_day), window.startMs) + 1, 0);

  for (const [ti, t] of DEMO_TENANTS.entries()) {
    const rng = createRng(seed, `outreach:${t.id}`);
    const domains = [t.domain, `mail.${t.domain}`, `go.${t.domain}`];
    // The brand domain predates the window; the other two are added during it (mail.* in autumn, go.* in winter).
    const domainDays = [-400, rng.int(300, 325), rng.int(400, 470)];
    for (const [k, domain] of domains.entries()) {
      const verified = k < 2 || rng.chance(0.5);
      sendingDomains.push({
        tenant_id: t.id,
        domain,
        status: verified ? 'verified' : 'pending',
        spf: verified ? 1 : 0,
        dkim: verified ? 1 : 0,
        dmarc: k === 0 || (verified && rng.chance(0.6)) ? 1 : 0,
        created_at: cal.dayToDateTime(domainDays[k], rng.int(8 * 3600, 18 * 3600)),
      });
    }
    const pool: Mailbox[] = [];
    const n = MAILBOXES[t.id] ?? 8;
    for (let i = 0; i < n; i++) {
      // A mailbox added every few weeks, evenly over the window, on a domain that exists by then; the
      // newest one was connected last week and is still warming up.
      const slot = (last - 30) / (n - EARLY_MAILBOXES);
      const createdDay =
        i < EARLY_MAILBOXES ? -rng.int(60, 200) : i === n - 1 ? last - rng.int(5, 15) : Math.round((i - EARLY_MAILBOXES + 0.35 + 0.3 * rng.next()) * slot);
      const domain = createdDay > domainDays[1] && rng.chance(0.5) ? domains[1] : domains[0];
      const pausedDay = i >= EARLY_MAILBOXES && i < n - 1 && rng.chance(0.15) ? Math.min(last - 1, createdDay + rng.int(20, 200)) : null;
      const rampDays = rng.int(21, 45);
      const dailyLimit = rng.pick([40, 50, 60]);
      const maxVolume = Math.round(dailyLimit * (0.7 + 0.25 * rng.next()));
      const baseBounce = 0.004 + 0.012 * rng.next();
      // One mailbox in five has a worsening list: bounces climb and its health falls.
      const degrade = rng.chance(0.2) ? 0.00004 + 0.00004 * rng.next() : 0;
      const lastDay = pausedDay ?? last;
      const firstDay = Math.max(0, createdDay);
      const age = lastDay - createdDay;
      const progress = Math.min(1, age / rampDays);
      const mailbox = `sender-${String(i + 1).padStart(2, '0')}@${domain}`;
      const row: Row = {
        tenant_id: t.id,
        mailbox,
        sending_domain: domain,
        provider: rng.weighted({ google: 0.55, microsoft: 0.35, smtp: 0.1 }),
        created_at: cal.dayToDateTime(createdDay, rng.int(8 * 3600, 18 * 3600)),
        warmup_status: pausedDay !== null ? 'paused' : progress >= 1 ? 'warmed' : 'warming',
        health_score: healthAt(progress, baseBounce + degrade * age),
        current_volume: pausedDay !== null ? 0 : Math.round(5 + (maxVolume - 5) * progress),
        daily_limit: dailyLimit,
        campaign_status: 'idle',
      };
      pool.push({ row, createdDay, pausedDay });
      mailboxes.push(row);
      warmupPlan.push({
        tenant_id: t.id,
        mailbox,
        first_day: cal.dayToDate(firstDay),
        last_day: cal.dayToDate(lastDay),
        age_at_first: firstDay - createdDay,
        ramp_days: rampDays,
        start_volume: 5,
        max_volume: maxVolume,
        base_bounce: Math.round(baseBounce * 1e5) / 1e5,
        degrade: Math.round(degrade * 1e7) / 1e7,
        spam_rate: Math.round((0.001 + 0.004 * rng.next()) * 1e5) / 1e5,
      });
    }

    const plans = emailPlan.filter((p) => p.tenant_id === t.id);
    for (const [local, p] of plans.entries()) {
      const firstDay = day(String(p.first_day), window.startMs);
      const lastDay = day(String(p.last_day), window.startMs);
      // Mailboxes warmed (3+ weeks old) when the campaign starts and not paused before it ends.
      const ready = pool.filter((m) => m.createdDay <= firstDay - 21 && (m.pausedDay === null || m.pausedDay >= lastDay));
      const candidates = ready.length > 0 ? ready : pool.slice(0, EARLY_MAILBOXES);
      const size = Math.min(candidates.length, rng.int(2, 4));
      const chosen = [...candidates].sort(() => rng.next() - 0.5).slice(0, size);
      const steps = Number(p.steps);
      const abStep = steps > 1 && rng.chance(0.6) ? rng.int(1, steps) : 0;
      const running = lastDay === last;
      // The tenant's last running campaign besides the newsletter is paused.
      const paused = running && local > 0 && !plans.slice(local + 1).some((q) => q.last_day === p.last_day);
      const status = running ? (paused ? 'paused' : 'active') : 'completed';
      if (status === 'active') for (const m of chosen) m.row.campaign_status = 'active';
      outPlan.push({ ...p, mailboxes: chosen.map((m) => m.row.mailbox), ab_step: abStep, variant_lift: Math.round((0.8 + 0.45 * rng.next()) * 1000) / 1000 });
      emailCampaigns.push({
        tenant_id: t.id,
        email_campaign_id: p.email_campaign_id,
        name: p.email_campaign_name,
        status,
        steps,
        ab_test: abStep > 0 ? 1 : 0,
        created_at: cal.dayToDateTime(firstDay - rng.int(2, 14), rng.int(8 * 3600, 18 * 3600)),
        started_at: cal.dayToDateTime(firstDay, 8 * 3600),
        completed_at: status === 'completed' ? cal.dayToDateTime(lastDay, 18 * 3600) : null,
      });
      const days = lastDay - firstDay + 1;
      leadPlan.push({
        tenant_id: t.id,
        tenant_idx: ti + 1,
        email_campaign_id: p.email_campaign_id,
        campaign_local: local + 1,
        steps,
        first_day: p.first_day,
        last_day: p.last_day,
        running: running ? 1 : 0,
        leads: Math.max(12, Math.min(9_999, Math.round((LEAD_ROWS_AT_SCALE_1 * scale * days) / totalDays))),
        open_rate: p.open_rate,
        click_rate: p.click_rate,
        reply_rate: p.reply_rate,
        bounce_rate: p.bounce_rate,
        unsub_rate: p.unsub_rate,
        spam_rate: p.spam_rate,
      });
    }
    // Drafts: written, not started (no sends yet).
    for (let k = 0; k < 2; k++) {
      emailCampaigns.push({
        tenant_id: t.id,
        email_campaign_id: `${t.id}-eml-${t.idPrefix * 1_000 + plans.length + k + 1}`,
        name: `${t.brand} ${rng.pick(['Q1 outbound', 'Re-engagement', 'Partner intro', 'Case study drip'])} (draft) #${plans.length + k + 1}`,
        status: 'draft',
        steps: rng.int(3, 5),
        ab_test: 0,
        created_at: cal.dayToDateTime(last - rng.int(1, 20), rng.int(8 * 3600, 18 * 3600)),
        started_at: null,
        completed_at: null,
      });
    }
  }
  return { emailPlan: outPlan, sendingDomains, mailboxes, emailCampaigns, warmupPlan, leadPlan };
}
