/**
 * The demo tenants and what makes each one look different. Ids never overlap between tenants
 * (acme numbers start with 1, globex with 2, initech with 3, and every id string starts with
 * the tenant id), so a row leaking across tenants is always visible in a test.
 */

export type PlatformCode = 'google_ads' | 'meta' | 'tiktok' | 'linkedin' | 'dv360' | 'microsoft_ads';
export type ConversionType = 'purchase' | 'signup' | 'lead' | 'demo_request';
export type AttributionModel = 'last_click' | 'first_click' | 'linear' | 'data_driven';

export interface DemoTenant {
  readonly id: string;
  readonly name: string;
  /** Leading digit of every numeric id of the tenant. */
  readonly idPrefix: number;
  readonly industry: string;
  readonly domain: string;
  readonly campaigns: number;
  readonly emailCampaigns: number;
  readonly clients: number;
  readonly platformMix: Readonly<Partial<Record<PlatformCode, number>>>;
  readonly countries: readonly (readonly [code: string, weight: number])[];
  /** Traffic on Saturday/Sunday relative to a weekday. */
  readonly weekendFactor: number;
  /** Yearly seasonality amplitude and the day of year it peaks. */
  readonly seasonAmplitude: number;
  readonly seasonPeakDay: number;
  /** Relative growth over the two years of data. */
  readonly growth: number;
  readonly mobileShare: number;
  readonly conversionMix: Readonly<Partial<Record<ConversionType, number>>>;
  readonly attributionMix: Readonly<Partial<Record<AttributionModel, number>>>;
  /** Average order (or pipeline) value of a conversion. */
  readonly averageValue: number;
  /** Share of non-bounced web sessions with a transaction. */
  readonly transactionRate: number;
  readonly landingPages: readonly string[];
  readonly brand: string;
}

export const DEMO_TENANTS: readonly DemoTenant[] = [
  {
    id: 'acme',
    name: 'Acme Retail',
    idPrefix: 1,
    industry: 'ecommerce',
    domain: 'acme.example',
    campaigns: 90,
    emailCampaigns: 14,
    clients: 1500,
    platformMix: { google_ads: 0.35, meta: 0.3, tiktok: 0.15, microsoft_ads: 0.1, dv360: 0.1 },
    countries: [
      ['US', 0.55],
      ['CA', 0.12],
      ['GB', 0.12],
      ['DE', 0.08],
      ['FR', 0.07],
      ['AU', 0.06],
    ],
    weekendFactor: 1.15,
    seasonAmplitude: 0.3,
    seasonPeakDay: 335,
    growth: 0.35,
    mobileShare: 0.66,
    conversionMix: { purchase: 0.85, signup: 0.15 },
    attributionMix: { data_driven: 0.6, last_click: 0.3, linear: 0.1 },
    averageValue: 85,
    transactionRate: 0.07,
    landingPages: ['/', '/sale', '/collections/new', '/products/runner-x', '/products/trail-pro', '/blog/size-guide'],
    brand: 'Acme',
  },
  {
    id: 'globex',
    name: 'Globex Software',
    idPrefix: 2,
    industry: 'b2b_saas',
    domain: 'globex.example',
    campaigns: 60,
    emailCampaigns: 22,
    clients: 800,
    platformMix: { linkedin: 0.35, google_ads: 0.35, microsoft_ads: 0.1, meta: 0.1, dv360: 0.1 },
    countries: [
      ['US', 0.45],
      ['GB', 0.15],
      ['DE', 0.15],
      ['NL', 0.1],
      ['SE', 0.08],
      ['IN', 0.07],
    ],
    weekendFactor: 0.45,
    seasonAmplitude: 0.12,
    seasonPeakDay: 75,
    growth: 0.6,
    mobileShare: 0.32,
    conversionMix: { lead: 0.45, signup: 0.3, demo_request: 0.25 },
    attributionMix: { last_click: 0.5, first_click: 0.25, linear: 0.25 },
    averageValue: 320,
    transactionRate: 0.004,
    landingPages: ['/', '/pricing', '/demo', '/features/analytics', '/blog/roi-calculator', '/customers'],
    brand: 'Globex',
  },
  {
    id: 'initech',
    name: 'Initech Travel',
    idPrefix: 3,
    industry: 'travel',
    domain: 'initech.example',
    campaigns: 75,
    emailCampaigns: 16,
    clients: 1200,
    platformMix: { google_ads: 0.3, meta: 0.2, tiktok: 0.1, linkedin: 0.1, dv360: 0.15, microsoft_ads: 0.15 },
    countries: [
      ['US', 0.3],
      ['ES', 0.2],
      ['IT', 0.15],
      ['FR', 0.15],
      ['MX', 0.1],
      ['BR', 0.1],
    ],
    weekendFactor: 0.8,
    seasonAmplitude: 0.35,
    seasonPeakDay: 170,
    growth: 0.15,
    mobileShare: 0.55,
    conversionMix: { purchase: 0.55, lead: 0.25, signup: 0.2 },
    attributionMix: { data_driven: 0.4, last_click: 0.4, first_click: 0.2 },
    averageValue: 640,
    transactionRate: 0.025,
    landingPages: ['/', '/deals', '/destinations/lisbon', '/destinations/cancun', '/flights', '/hotels'],
    brand: 'Initech',
  },
];

export const DEMO_TENANT_IDS: readonly string[] = DEMO_TENANTS.map((t) => t.id);

/** The demo covers two years of daily data; where they end is the seed's choice (window.ts). */
export const DEMO_DAYS = 730;
export const DEFAULT_DEMO_SEED = 42;

export interface PlatformProfile {
  readonly source: string;
  readonly medium: string;
  readonly ctr: number;
  readonly cpc: number;
  readonly cvr: number;
  readonly engagementRate: number;
  readonly types: Readonly<Record<string, number>>;
  readonly label: string;
}

export const PLATFORM_PROFILES: Readonly<Record<PlatformCode, PlatformProfile>> = {
  google_ads: {
    label: 'Google',
    source: 'google',
    medium: 'cpc',
    ctr: 0.045,
    cpc: 1.6,
    cvr: 0.045,
    engagementRate: 0,
    types: { search: 0.55, shopping: 0.12, performance_max: 0.15, display: 0.12, video: 0.06 },
  },
  microsoft_ads: { label: 'Bing', source: 'bing', medium: 'cpc', ctr: 0.035, cpc: 1.2, cvr: 0.04, engagementRate: 0, types: { search: 0.85, shopping: 0.15 } },
  meta: {
    label: 'Meta',
    source: 'facebook',
    medium: 'paid_social',
    ctr: 0.012,
    cpc: 0.85,
    cvr: 0.025,
    engagementRate: 0.03,
    types: { social: 0.75, video: 0.25 },
  },
  linkedin: {
    label: 'LinkedIn',
    source: 'linkedin',
    medium: 'paid_social',
    ctr: 0.006,
    cpc: 6.5,
    cvr: 0.06,
    engagementRate: 0.015,
    types: { social: 0.85, video: 0.15 },
  },
  tiktok: {
    label: 'TikTok',
    source: 'tiktok',
    medium: 'paid_social',
    ctr: 0.01,
    cpc: 0.45,
    cvr: 0.012,
    engagementRate: 0.05,
    types: { video: 0.7, social: 0.3 },
  },
  dv360: { label: 'DV360', source: 'dv360', medium: 'display', ctr: 0.0018, cpc: 2.8, cvr: 0.01, engagementRate: 0, types: { display: 0.6, video: 0.4 } },
};
