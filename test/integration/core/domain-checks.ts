/**
 * Checks of the email-outreach and client-health members (issue #22), registered by kpis.test.ts on
 * its warehouse (no second seed): every new measure is non-zero for at least one demo tenant and
 * plausible (rates and scores within their range, counts whole and not negative), and the billing
 * usage per month equals a computation in JS over the raw rows.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_TENANT_IDS } from '../../../src/demo/tenants.js';
import { type Core, day, num } from './harness.js';
import { CLIENT_HEALTH_ORACLES, OUTREACH_ORACLES } from './kpi-sql-domains.js';

const NEW_MEASURES: readonly string[] = [
  ...Object.entries({ ...OUTREACH_ORACLES, ...CLIENT_HEALTH_ORACLES }).flatMap(([cube, o]) => Object.keys(o.measures).map((m) => `${cube}.${m}`)),
  'email_activity.mailboxes_used',
  'email_activity.campaigns_used',
  'email_activity.domains_used',
  'email_activity.emails_per_mailbox',
  'email_activity.emails_per_campaign',
  'clients.average_lead_score',
  'clients.hot_leads',
];
/** Measures on a 0-100 scale besides the percent-formatted ones. */
const SCORES = /health_score|lead_score|average_progress/;

export function registerDomainChecks(getCore: () => Core): void {
  describe('email outreach and client health measures', () => {
    it('every new measure is non-zero for some demo tenant, and plausible for all', async () => {
      const core = getCore();
      const byCube = new Map<string, string[]>();
      for (const m of NEW_MEASURES) byCube.set(m.split('.')[0], [...(byCube.get(m.split('.')[0]) ?? []), m]);
      const best = new Map<string, number>();
      const problems: string[] = [];
      for (const tenant of DEMO_TENANT_IDS) {
        for (const [, members] of byCube) {
          const { rows } = await core.load(tenant, { measures: members });
          for (const m of members) {
            const v = num(rows[0][m]);
            const measure = core.model.cubes[m.split('.')[0]].measures[m.split('.')[1]];
            if (v === null) continue;
            best.set(m, Math.max(best.get(m) ?? 0, Math.abs(v)));
            if (v < 0) problems.push(`${tenant} ${m} = ${v} < 0`);
            if ((measure.format === 'percent' || SCORES.test(m)) && v > 100) problems.push(`${tenant} ${m} = ${v} > 100`);
            if (measure.format === 'integer' && !Number.isInteger(v)) problems.push(`${tenant} ${m} = ${v} is not whole`);
          }
        }
      }
      for (const m of NEW_MEASURES) if (!((best.get(m) ?? 0) > 0)) problems.push(`${m} is zero or empty for every demo tenant`);
      expect(problems).toEqual([]);
      // shapes the data must have: health that falls as bounces climb, both A/B variants of a step
      const health = await core.sql<{ hi: number; lo: number }>(
        `SELECT avgIf(health_score, bounced * 100 < sent) AS hi, avgIf(health_score, bounced * 100 >= sent * 2) AS lo FROM mailbox_warmup WHERE warmup_status = 'warmed'`,
      );
      expect(Number(health[0].hi)).toBeGreaterThan(Number(health[0].lo));
      const variants = new Set<unknown>();
      for (const tenant of DEMO_TENANT_IDS) {
        const { rows } = await core.load(tenant, { measures: ['email_activity.sent'], dimensions: ['email_activity.variant'] });
        for (const r of rows) variants.add(r['email_activity.variant']);
      }
      expect([...variants].sort()).toEqual(['A', 'B']);
    });

    it.each(DEMO_TENANT_IDS)('billing usage per month of %s equals a count over the raw rows', async (tenant) => {
      const core = getCore();
      const { rows } = await core.load(tenant, {
        measures: [
          'billing_usage.emails_sent',
          'billing_usage.mailboxes_used',
          'billing_usage.domains_used',
          'billing_usage.campaigns_used',
          'billing_usage.leads_used',
          'billing_usage.warmups_active',
        ],
        timeDimensions: [{ dimension: 'billing_usage.date', granularity: 'month' }],
      });
      // Independent: the raw (month, key) pairs, counted in JS.
      const expected = new Map<
        string,
        { emails: number; mailboxes: Set<string>; domains: Set<string>; campaigns: Set<string>; leads: Set<string>; warmups: Set<string> }
      >();
      const slot = (month: string) => {
        let e = expected.get(month);
        if (!e) expected.set(month, (e = { emails: 0, mailboxes: new Set(), domains: new Set(), campaigns: new Set(), leads: new Set(), warmups: new Set() }));
        return e;
      };
      const sends = await core.sql<{ m: string; mailbox: string; cmp: string; n: number }>(
        `SELECT toString(toStartOfMonth(date)) AS m, mailbox, email_campaign_id AS cmp, sum(sent) AS n FROM email_activity WHERE tenant_id = '${tenant}' GROUP BY m, mailbox, cmp`,
      );
      for (const r of sends) {
        const e = slot(r.m);
        e.emails += Number(r.n);
        e.mailboxes.add(r.mailbox);
        e.domains.add(r.mailbox.split('@')[1]);
        e.campaigns.add(r.cmp);
      }
      const leads = await core.sql<{ m: string; lead: string }>(
        `SELECT DISTINCT toString(toStartOfMonth(imported_at)) AS m, lead_id AS lead FROM lead_engagement WHERE tenant_id = '${tenant}'`,
      );
      for (const r of leads) slot(r.m).leads.add(r.lead);
      const warm = await core.sql<{ m: string; mb: string }>(
        `SELECT DISTINCT toString(toStartOfMonth(date)) AS m, mailbox AS mb FROM mailbox_warmup WHERE tenant_id = '${tenant}' AND sent > 0`,
      );
      for (const r of warm) slot(r.m).warmups.add(r.mb);

      expect(rows.length).toBe(expected.size);
      expect(rows.length).toBeGreaterThan(20);
      for (const row of rows) {
        const e = expected.get(day(row['billing_usage.date.month'])!);
        expect(e, String(row['billing_usage.date.month'])).toBeDefined();
        expect(Number(row['billing_usage.emails_sent'])).toBe(e!.emails);
        expect(Number(row['billing_usage.mailboxes_used'])).toBe(e!.mailboxes.size);
        expect(Number(row['billing_usage.domains_used'])).toBe(e!.domains.size);
        expect(Number(row['billing_usage.campaigns_used'])).toBe(e!.campaigns.size);
        expect(Number(row['billing_usage.leads_used'])).toBe(e!.leads.size);
        expect(Number(row['billing_usage.warmups_active'])).toBe(e!.warmups.size);
      }
      // a quarter is not the sum of its months for distinct counts
      const [quarter] = (
        await core.load(tenant, {
          measures: ['billing_usage.mailboxes_used', 'billing_usage.leads_used'],
          timeDimensions: [{ dimension: 'billing_usage.date', dateRange: ['2026-01-01', '2026-03-31'] }],
        })
      ).rows;
      const months = ['2026-01-01', '2026-02-01', '2026-03-01'].map((m) => expected.get(m));
      const union = (k: 'mailboxes' | 'leads') => new Set(months.flatMap((e) => [...(e?.[k] ?? [])])).size;
      expect(Number(quarter['billing_usage.mailboxes_used'])).toBe(union('mailboxes'));
      expect(Number(quarter['billing_usage.leads_used'])).toBe(union('leads'));
    });
  });
}
