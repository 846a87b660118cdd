/**
 * What an agent needs beside the members to ask right the first time, shared by the GraphQL
 * catalog, REST /meta (as extra fields) and MCP: the query grammar (operators per member type,
 * granularities, relative dates with their time zone and week start, comparisons), per-member
 * extras from the model (currency, rolling window, synonyms and "see also" notes from `meta`),
 * example queries by pattern, a word search over the catalog, and a compact form for a first call.
 *
 * Model convention (README "Models"): a member's `meta.synonyms` lists words people use for it;
 * `meta.see_also: [{member, note}]` names look-alike members and how they differ.
 */
import type { Measure, Model, RollingWindow } from '../semantic/model.js';
import { COMPARISON_PERIODS, GRANULARITIES, type SemanticQuery } from '../semantic/query.js';
import { resolveMember } from '../semantic/resolve.js';
import type { CatalogCube, CatalogMember } from './types.js';

/** Filter operators by the member's type (measures filter after aggregation, like SQL HAVING). */
export const FILTER_OPERATORS_BY_TYPE = {
  string: ['equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith', 'set', 'notSet'],
  number: ['equals', 'notEquals', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet'],
  time: ['inDateRange', 'notInDateRange', 'beforeDate', 'beforeOrOnDate', 'afterDate', 'afterOrOnDate', 'set', 'notSet'],
  boolean: ['equals', 'notEquals', 'set', 'notSet'],
  measure: ['equals', 'notEquals', 'gt', 'gte', 'lt', 'lte', 'set', 'notSet'],
} as const;

export const OPERATOR_MEANINGS: Readonly<Record<string, string>> = {
  equals: 'value is one of `values` (OR)',
  notEquals: 'value is none of `values`',
  contains: 'contains any of `values` (case-insensitive)',
  notContains: 'contains none of `values`',
  startsWith: 'starts with any of `values`',
  notStartsWith: 'starts with none of `values`',
  endsWith: 'ends with any of `values`',
  notEndsWith: 'ends with none of `values`',
  gt: '> values[0]',
  gte: '>= values[0]',
  lt: '< values[0]',
  lte: '<= values[0]',
  set: 'is not null (no values)',
  notSet: 'is null (no values)',
  inDateRange: 'within [from, to] (values: two dates)',
  notInDateRange: 'outside [from, to]',
  beforeDate: '< values[0]',
  beforeOrOnDate: '<= values[0]',
  afterDate: '> values[0]',
  afterOrOnDate: '>= values[0]',
};

/** The grammar every query door accepts (Cube's query format plus compareTo). */
export const QUERY_GRAMMAR = {
  timeZone: 'UTC unless the query sets "timezone" (an IANA zone, e.g. "Europe/Berlin"); relative ranges and day/week/month buckets are computed in it',
  weekStart: 'Monday',
  granularities: [...GRANULARITIES],
  relativeDateRanges: [
    '"today", "yesterday", "tomorrow": that whole day',
    '"this|last|next <unit>" (day, week, month, quarter, year): that whole unit; "last month" is the previous calendar month',
    '"last N <units>": the N complete units before the current one, today excluded ("last 7 days" ends yesterday)',
    '"next N <units>": the N complete units after the current one',
    '"from X to Y": X and Y are dates, "now", "today", "N days ago"',
    '["2026-10-01", "2026-10-31"]: absolute, both days included',
  ],
  comparison: `compareTo: {period: ${COMPARISON_PERIODS.map((p) => `"${p}"`).join(' | ')}} or {dateRange: [from, to]}; needs exactly one time dimension with a dateRange. previousPeriod = the same length right before (whole months shift by months); results carry current, previous, change, percentChange per measure`,
  emptyAnswer:
    'no matching row = "rows": [] plus notes (RANGE_OUTSIDE_DATA with the data\'s first/last date, VALUE_NOT_PRESENT with the values the tenant has); ROW_LIMIT_REACHED when rows = limit',
  units: 'format "percent" values are already x 100 (12.5 means 12.5 %); "currency" values are in the member\'s currency',
  limits: 'limit defaults to 10000 rows (max 50000)',
} as const;

export interface SeeAlso {
  readonly member: string;
  readonly note: string;
}

export interface MemberExtras {
  readonly synonyms: readonly string[];
  readonly seeAlso: readonly SeeAlso[];
  readonly currency?: string;
  /** Measures with a rolling window: "trailing 7 day", "unbounded" (cumulative). */
  readonly rollingWindow?: string;
  readonly cumulative: boolean;
  readonly filterOperators: readonly string[];
  readonly granularities?: readonly string[];
}

function definition(model: Model, path: string) {
  try {
    return resolveMember(model, path).member;
  } catch {
    return undefined;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function memberExtras(model: Model, m: CatalogMember): MemberExtras {
  const def = definition(model, m.path);
  const measure = def?.kind === 'measure' ? (def as Measure) : undefined;
  const rolling = measure?.rollingWindow;
  const span = (i: RollingWindow['trailing']) => (i === undefined || i === 'unbounded' ? 'unbounded' : `${i.amount} ${i.unit}`);
  const window = rolling
    ? rolling.trailing !== undefined
      ? rolling.trailing === 'unbounded'
        ? 'unbounded'
        : `trailing ${span(rolling.trailing)}`
      : `leading ${span(rolling.leading)}`
    : undefined;
  const seeAlso = Array.isArray(m.meta.see_also)
    ? (m.meta.see_also as unknown[]).flatMap((s) => {
        const o = s as { member?: unknown; note?: unknown };
        return typeof o?.member === 'string' && typeof o.note === 'string' ? [{ member: o.member, note: o.note }] : [];
      })
    : [];
  const ops = m.kind === 'measure' ? FILTER_OPERATORS_BY_TYPE.measure : m.kind === 'segment' ? [] : FILTER_OPERATORS_BY_TYPE[m.type];
  return {
    synonyms: strings(m.meta.synonyms),
    seeAlso,
    ...(measure?.currency ? { currency: measure.currency } : {}),
    ...(window ? { rollingWindow: window } : {}),
    cumulative: window === 'unbounded',
    filterOperators: [...ops],
    ...(m.type === 'time' && m.kind === 'dimension' ? { granularities: [...GRANULARITIES] } : {}),
  };
}

export interface ExampleQuery {
  readonly pattern: 'top-n' | 'trend' | 'segment' | 'filter' | 'rolling-window' | 'join' | 'comparison';
  readonly question: string;
  readonly query: SemanticQuery;
}

/** Examples by pattern, built from members the caller may read (a pattern without fitting members is left out). */
export function exampleQueries(model: Model, catalog: readonly CatalogCube[]): ExampleQuery[] {
  const out: ExampleQuery[] = [];
  const cubes = catalog.filter((c) => c.kind === 'cube');
  const withTime = cubes.filter((c) => c.dimensions.some((d) => d.type === 'time') && c.measures.some((m) => m.aggType === 'sum'));
  const main = withTime[0];
  if (!main) return out;
  const time = main.dimensions.find((d) => d.type === 'time')!.path;
  const sum = main.measures.find((m) => m.aggType === 'sum')!;
  const ratio = main.measures.find((m) => m.format === 'percent') ?? sum;
  const dim = main.dimensions.find((d) => d.type === 'string' && !d.primaryKey);
  const range = { dimension: time, dateRange: 'last month' };
  if (dim) {
    out.push({
      pattern: 'top-n',
      question: `Top 5 ${dim.title.toLowerCase()} values by ${sum.title.toLowerCase()} last month`,
      query: { measures: [sum.path], dimensions: [dim.path], timeDimensions: [range], order: { [sum.path]: 'desc' }, limit: 5 },
    });
  }
  out.push({
    pattern: 'trend',
    question: `${ratio.title} per week over the last 12 weeks`,
    query: { measures: [ratio.path], timeDimensions: [{ dimension: time, granularity: 'week', dateRange: 'last 12 weeks' }] },
  });
  const segment = main.segments[0];
  if (segment)
    out.push({
      pattern: 'segment',
      question: `${sum.title} of ${segment.title.toLowerCase()} this year`,
      query: { measures: [sum.path], segments: [segment.path], timeDimensions: [{ dimension: time, dateRange: 'this year' }] },
    });
  if (dim) {
    out.push({
      pattern: 'filter',
      question: `${sum.title} where ${dim.title.toLowerCase()} is one of two values, last 30 days`,
      query: {
        measures: [sum.path],
        filters: [{ member: dim.path, operator: 'equals', values: ['<value 1>', '<value 2>'] }],
        timeDimensions: [{ dimension: time, dateRange: 'last 30 days' }],
      },
    });
  }
  const rolling = cubes.flatMap((c) => c.measures).find((m) => memberExtras(model, m).rollingWindow?.startsWith('trailing'));
  if (rolling) {
    const cube = cubes.find((c) => c.measures.includes(rolling))!;
    const t = cube.dimensions.find((d) => d.type === 'time');
    if (t)
      out.push({
        pattern: 'rolling-window',
        question: `${rolling.title} per day last month`,
        query: { measures: [rolling.path], timeDimensions: [{ dimension: t.path, granularity: 'day', dateRange: 'last month' }] },
      });
  }
  const join = main.joins
    .map((j) => cubes.find((c) => c.name === j.target && j.relationship === 'many_to_one'))
    .find((c) => c?.dimensions.some((d) => d.type === 'string' && !d.primaryKey));
  if (join) {
    const jd = join.dimensions.find((d) => d.type === 'string' && !d.primaryKey && d.name !== 'name') ?? join.dimensions.find((d) => d.type === 'string')!;
    out.push({
      pattern: 'join',
      question: `${sum.title} by ${join.title.toLowerCase()} ${jd.title.toLowerCase()} (a joined cube) last month`,
      query: { measures: [sum.path], dimensions: [jd.path], timeDimensions: [range] },
    });
  }
  out.push({
    pattern: 'comparison',
    question: `${sum.title} last month vs the month before`,
    query: { measures: [sum.path], ...(dim ? { dimensions: [dim.path] } : {}), timeDimensions: [range], compareTo: { period: 'previousPeriod' } },
  });
  return out;
}

export interface SearchHit {
  readonly path: string;
  readonly kind: CatalogMember['kind'] | 'cube' | 'view';
  readonly title: string;
  readonly score: number;
  /** Which words matched where ("synonym: spend", "title: clicks"). */
  readonly why: readonly string[];
  readonly description?: string;
}

const STOP = new Set([
  'the',
  'a',
  'an',
  'of',
  'per',
  'by',
  'in',
  'on',
  'for',
  'and',
  'or',
  'to',
  'what',
  'how',
  'is',
  'are',
  'was',
  'my',
  'our',
  'we',
  'last',
  'this',
  'which',
  'with',
]);

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9%]+/)
    .filter((w) => w.length > 1 && !STOP.has(w));
}

/** Ranked members (and cubes) for free words: name and synonyms weigh most, then title, then description. */
export function searchCatalog(catalog: readonly CatalogCube[], text: string, limit = 10): SearchHit[] {
  const q = [...new Set(words(text))];
  if (!q.length) return [];
  const stem = (w: string) => w.replace(/(ies|es|s)$/, '');
  const hits: SearchHit[] = [];
  const score = (fields: readonly [string, string, number][]) => {
    let s = 0;
    const why: string[] = [];
    for (const w of q) {
      let best = 0;
      let where = '';
      for (const [label, value, weight] of fields) {
        const ws = words(value).map(stem);
        if (ws.includes(stem(w)) && weight > best) {
          best = weight;
          where = `${label}: ${w}`;
        }
      }
      if (best) {
        s += best;
        why.push(where);
      }
    }
    // A synonym or title matching the whole phrase counts on its own.
    const phrase = q.join(' ');
    for (const [label, value, weight] of fields) {
      if (q.length > 1 && words(value).join(' ').includes(phrase)) {
        s += weight * 2;
        why.push(`${label}: "${phrase}"`);
        break;
      }
    }
    return { s, why };
  };
  for (const c of catalog) {
    const cs = score([
      ['name', c.name.replace(/_/g, ' '), 3],
      ['title', c.title, 3],
      ['description', c.description ?? '', 1],
    ]);
    if (cs.s > 0) hits.push({ path: c.name, kind: c.kind, title: c.title, score: cs.s, why: cs.why, description: c.description });
    for (const m of [...c.measures, ...c.dimensions, ...c.segments]) {
      const ms = score([
        ['name', m.name.replace(/_/g, ' '), 4],
        ['synonym', strings(m.meta.synonyms).join(' | '), 4],
        ['title', m.title, 3],
        ['cube', c.title, 1],
        ['description', m.description ?? '', 1],
      ]);
      if (ms.s > 0) hits.push({ path: m.path, kind: m.kind, title: m.title, score: ms.s, why: ms.why, description: m.description });
    }
  }
  // Cubes before views on ties: views repeat cube members.
  return hits
    .sort(
      (a, b) =>
        b.score - a.score ||
        Number(a.path.includes('_performance.') === false) - Number(b.path.includes('_performance.') === false) ||
        a.path.localeCompare(b.path),
    )
    .slice(0, limit);
}

function oneLine(text: string | undefined, max = 90): string {
  if (!text) return '';
  const s = text.replace(/\s+/g, ' ').trim();
  const first = s.split(/(?<=\.)\s/)[0];
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** The compact form stays under this many approximate tokens (the README quotes the measured size). */
export const COMPACT_TOKEN_BUDGET = 7_500;

/**
 * The compact catalog: per cube a header line, one line per measure (name, format, currency, rolling
 * window, one-line description), dimensions as `name:type`, segment names; views by name and size.
 * Descriptions shrink (then go) until it fits COMPACT_TOKEN_BUDGET; `describe` gives the rest.
 */
export function compactCatalog(model: Model, catalog: readonly CatalogCube[]): string {
  let text = '';
  for (const width of [70, 40, 0]) {
    text = compactAt(model, catalog, width);
    if (sizeOf(text).approxTokens <= COMPACT_TOKEN_BUDGET) return text;
  }
  return text;
}

function compactAt(model: Model, catalog: readonly CatalogCube[], width: number): string {
  const lines: string[] = [
    'Strata catalog (compact). Members are "cube.member". describe(cube or member) gives joins, segments, operators, values, coverage.',
    `Dates: ${QUERY_GRAMMAR.relativeDateRanges[2]}; "last month" = previous calendar month; weeks start ${QUERY_GRAMMAR.weekStart}; zone UTC unless "timezone".`,
    'm = measure [format,currency,window]; d = dimensions name:type; s = segments.',
  ];
  const views: string[] = [];
  for (const c of catalog) {
    const size = c.measures.length + c.dimensions.length + c.segments.length;
    if (c.kind === 'view') {
      views.push(`${c.name} (${size}): ${oneLine(c.description, 60)}`);
      continue;
    }
    lines.push(`## ${c.name}: ${oneLine(c.description, 80)}${c.joins.length ? ` Joins ${c.joins.map((j) => j.target).join(',')}.` : ''}`);
    for (const m of c.measures) {
      const x = memberExtras(model, m);
      const tag = [m.format, x.currency, x.rollingWindow].filter(Boolean).join(',');
      const about = width ? oneLine(m.description, width) : '';
      lines.push(`m ${m.name}${tag ? ` [${tag}]` : ''}${about ? `: ${about}` : ''}`);
    }
    if (c.dimensions.length) lines.push(`d ${c.dimensions.map((d) => `${d.name}:${d.type}`).join(' ')}`);
    if (c.segments.length) lines.push(`s ${c.segments.map((x) => x.name).join(' ')}`);
  }
  if (views.length) lines.push('## views (cube members under one name; describe a view for its members)', ...views);
  return lines.join('\n');
}

/** Bytes and an approximate token count (~4 characters per token for English and JSON). */
export function sizeOf(text: string): { bytes: number; approxTokens: number } {
  const bytes = Buffer.byteLength(text);
  return { bytes, approxTokens: Math.ceil(text.length / 4) };
}
