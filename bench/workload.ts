/**
 * The dashboard: 8 widgets over the demo warehouse (tenant acme, analyst role), each written
 * once per door — a Cube query (compile, floor, REST), a typed GraphQL field, and SQL for the
 * Postgres proxy. The forms ask for the same members in the same order, so the typed GraphQL
 * field and the REST query compile to the floor's SQL; run.ts checks every door's result
 * against the floor's (row count + numeric checksum) before it times anything.
 * Members are those of cube-models/ (absolute date ranges: results never depend on the clock).
 */
import type { SemanticQuery } from '../src/semantic/query.js';

export interface Widget {
  readonly id: string;
  readonly title: string;
  readonly cube: SemanticQuery;
  /** One root field (no alias), e.g. `adPerformance(...) { clicks }`. */
  readonly graphql: string;
  readonly sql: string;
}

const LAST_QUARTER = ['2026-08-01', '2026-10-31'] as const;
const LAST_YEAR = ['2025-11-01', '2026-10-31'] as const;
const range = (r: readonly [string, string]) => `{inDateRange: ["${r[0]}", "${r[1]}"]}`;
const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const sqlRange = (col: string, r: readonly [string, string]) => `${col} >= '${r[0]}' AND ${col} < '${nextDay(r[1])}'`;

export const WIDGETS: readonly Widget[] = [
  {
    id: 'kpis',
    title: 'KPI tiles (6 measures, 92 days)',
    cube: {
      measures: [
        'ad_performance.impressions',
        'ad_performance.clicks',
        'ad_performance.cost',
        'ad_performance.conversions',
        'ad_performance.ctr',
        'ad_performance.roas',
      ],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: [...LAST_QUARTER] }],
    },
    graphql: `adPerformance(where: {date: ${range(LAST_QUARTER)}}) { impressions clicks cost conversions ctr roas }`,
    sql: `SELECT SUM(impressions), SUM(clicks), SUM(cost), SUM(conversions), MEASURE(ctr), MEASURE(roas) FROM ad_performance WHERE ${sqlRange('date', LAST_QUARTER)}`,
  },
  {
    id: 'trend',
    title: 'Daily clicks and cost (92 rows)',
    cube: {
      measures: ['ad_performance.clicks', 'ad_performance.cost'],
      timeDimensions: [{ dimension: 'ad_performance.date', granularity: 'day', dateRange: [...LAST_QUARTER] }],
    },
    graphql: `adPerformance(where: {date: ${range(LAST_QUARTER)}}) { date(granularity: DAY) clicks cost }`,
    sql: `SELECT date_trunc('day', date) AS day, SUM(clicks), SUM(cost) FROM ad_performance WHERE ${sqlRange('date', LAST_QUARTER)} GROUP BY 1 ORDER BY 1`,
  },
  {
    id: 'platforms',
    title: 'Spend, conversions, ROAS by platform',
    cube: {
      measures: ['ad_performance.cost', 'ad_performance.conversions', 'ad_performance.roas'],
      dimensions: ['ad_performance.platform'],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: [...LAST_QUARTER] }],
      order: [['ad_performance.cost', 'desc']],
    },
    graphql: `adPerformance(where: {date: ${range(LAST_QUARTER)}}, orderBy: [{cost: DESC}]) { platform cost conversions roas }`,
    sql: `SELECT platform, SUM(cost) AS cost, SUM(conversions), MEASURE(roas) FROM ad_performance WHERE ${sqlRange('date', LAST_QUARTER)} GROUP BY 1 ORDER BY 2 DESC`,
  },
  {
    id: 'top-campaigns',
    title: 'Top 10 campaigns by spend (join)',
    cube: {
      measures: ['campaign_performance.cost', 'campaign_performance.clicks'],
      dimensions: ['campaign_performance.campaigns_name'],
      timeDimensions: [{ dimension: 'campaign_performance.date', dateRange: [...LAST_QUARTER] }],
      order: [['campaign_performance.cost', 'desc']],
      limit: 10,
    },
    graphql: `campaignPerformance(where: {date: ${range(LAST_QUARTER)}}, orderBy: [{cost: DESC}], limit: 10) { campaignsName cost clicks }`,
    sql: `SELECT campaigns_name, SUM(cost) AS cost, SUM(clicks) FROM campaign_performance WHERE ${sqlRange('date', LAST_QUARTER)} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
  },
  {
    id: 'geo-device',
    title: 'Country x device',
    cube: {
      measures: ['ad_performance.impressions', 'ad_performance.clicks', 'ad_performance.ctr'],
      dimensions: ['ad_performance.country', 'ad_performance.device'],
      timeDimensions: [{ dimension: 'ad_performance.date', dateRange: [...LAST_QUARTER] }],
    },
    graphql: `adPerformance(where: {date: ${range(LAST_QUARTER)}}) { country device impressions clicks ctr }`,
    sql: `SELECT country, device, SUM(impressions), SUM(clicks), MEASURE(ctr) FROM ad_performance WHERE ${sqlRange('date', LAST_QUARTER)} GROUP BY 1, 2`,
  },
  {
    id: 'web-weekly',
    title: 'Web sessions by week and medium',
    cube: {
      measures: ['web_sessions.sessions', 'web_sessions.bounce_rate', 'web_sessions.revenue'],
      dimensions: ['web_sessions.medium'],
      timeDimensions: [{ dimension: 'web_sessions.started_at', granularity: 'week', dateRange: [...LAST_QUARTER] }],
    },
    graphql: `webSessions(where: {startedAt: ${range(LAST_QUARTER)}}) { startedAt(granularity: WEEK) medium sessions bounceRate revenue }`,
    sql: `SELECT date_trunc('week', started_at) AS week, medium, COUNT(*), MEASURE(bounce_rate), SUM(revenue) FROM web_sessions WHERE ${sqlRange('started_at', LAST_QUARTER)} GROUP BY 1, 2`,
  },
  {
    id: 'conversions-monthly',
    title: 'Conversions by month and type (1 year)',
    cube: {
      measures: ['conversions.count', 'conversions.value'],
      dimensions: ['conversions.conversion_type'],
      timeDimensions: [{ dimension: 'conversions.occurred_at', granularity: 'month', dateRange: [...LAST_YEAR] }],
    },
    graphql: `conversions(where: {occurredAt: ${range(LAST_YEAR)}}) { occurredAt(granularity: MONTH) conversionType count value }`,
    sql: `SELECT date_trunc('month', occurred_at) AS month, conversion_type, COUNT(*), SUM(value) FROM conversions WHERE ${sqlRange('occurred_at', LAST_YEAR)} GROUP BY 1, 2`,
  },
  {
    id: 'email',
    title: 'Top 20 email campaigns by sends',
    cube: {
      measures: ['email_activity.sent', 'email_activity.opened', 'email_activity.open_rate'],
      dimensions: ['email_activity.email_campaign_name'],
      timeDimensions: [{ dimension: 'email_activity.date', dateRange: [...LAST_QUARTER] }],
      order: [['email_activity.sent', 'desc']],
      limit: 20,
    },
    graphql: `emailActivity(where: {date: ${range(LAST_QUARTER)}}, orderBy: [{sent: DESC}], limit: 20) { emailCampaignName sent opened openRate }`,
    sql: `SELECT email_campaign_name, SUM(sent) AS sent, SUM(opened), MEASURE(open_rate) FROM email_activity WHERE ${sqlRange('date', LAST_QUARTER)} GROUP BY 1 ORDER BY 2 DESC LIMIT 20`,
  },
];

/** The tenant and role every door query runs as. */
export const BENCH_TENANT = 'acme';
export const BENCH_ROLES = ['analyst'];

export function graphqlDocument(widgets: readonly Widget[]): string {
  return `{ ${widgets.map((w, i) => `w${i}: ${w.graphql}`).join(' ')} }`;
}

/** Live subscriptions: each widget over a few trailing windows gives distinct shared queries. */
export function liveQueries(variants: number): SemanticQuery[] {
  const out: SemanticQuery[] = [];
  for (let v = 0; v < variants; v++) {
    const from = new Date(Date.UTC(2026, 7, 1 - 7 * v)).toISOString().slice(0, 10);
    for (const w of WIDGETS) {
      const td = w.cube.timeDimensions?.map((t) => ({ ...t, dateRange: [from, '2026-10-31'] as [string, string] }));
      out.push({ ...w.cube, timeDimensions: td });
    }
  }
  return out;
}
