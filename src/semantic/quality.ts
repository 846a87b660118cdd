/**
 * Data-quality rules declared next to the model, under the Strata extension key of a cube:
 *
 *   meta:
 *     strata:
 *       natural_key: [date, ad_id, country, device]   # a re-sent row with this key replaces the old one
 *       quality:
 *         - { name: known_device, column: device, accepted_values: [mobile, desktop, tablet, ctv] }
 *         - { name: iso_country, column: country, accepted_values: iso_3166_alpha2 }
 *         - { name: known_platform, column: platform, accepted_values_from: platforms.platform }
 *         - { name: campaign_exists, column: campaign_id, references: campaigns.campaign_id }
 *         - { name: date_in_range, column: date, min: '2000-01-01', max_days_ahead: 1 }
 *         - { name: impressions_sane, column: impressions, max: 1e10, max_factor_of_trailing_max: 10 }
 *
 * Rules speak of the cube's table columns (ingestion sees rows, not members). Pure: parsing and
 * resolution only; ingestion enforces them, validate-models reports their problems.
 */
import type { Cube, Model } from './model.js';

export const STRATA_META_KEY = 'strata';
/** Built-in list name for `accepted_values`. */
export const ISO_COUNTRY_LIST = 'iso_3166_alpha2';

export interface ColumnRef {
  /** "cube.dimension" as written. */
  readonly member: string;
  readonly table: string;
  readonly column: string;
  /** The referenced cube is tenant-scoped: look values up within the tenant. */
  readonly tenantColumn?: string;
}

export type QualityRule =
  | { readonly kind: 'accepted_values'; readonly name: string; readonly column: string; readonly values: readonly string[] | typeof ISO_COUNTRY_LIST }
  | { readonly kind: 'accepted_values_from'; readonly name: string; readonly column: string; readonly ref: ColumnRef }
  | { readonly kind: 'references'; readonly name: string; readonly column: string; readonly ref: ColumnRef }
  | { readonly kind: 'date_bounds'; readonly name: string; readonly column: string; readonly min?: string; readonly maxDaysAhead?: number }
  | {
      readonly kind: 'bounds';
      readonly name: string;
      readonly column: string;
      readonly min?: number;
      readonly max?: number;
      /** Quarantine values above this factor times the tenant's largest value of the trailing window. */
      readonly maxFactorOfTrailingMax?: number;
      readonly trailingDays?: number;
    };

export interface CubeQuality {
  readonly naturalKey?: readonly string[];
  readonly rules: readonly QualityRule[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RULE_KEYS = new Set([
  'name',
  'column',
  'description',
  'accepted_values',
  'accepted_values_from',
  'references',
  'min',
  'max',
  'max_days_ahead',
  'max_factor_of_trailing_max',
  'trailing_days',
]);

/** The table a cube reads: `sql_table`, or a `sql` of the form SELECT * FROM table [FINAL]. */
export function cubeTable(cube: Cube): string | undefined {
  if (cube.sqlTable)
    return cube.sqlTable
      .trim()
      .split('.')
      .pop()
      ?.replace(/^[`"]|[`"]$/g, '');
  const text = cube.sql?.parts.length === 1 && cube.sql.parts[0].kind === 'text' ? cube.sql.parts[0].text : undefined;
  const name = text ? /^\s*SELECT\s+\*\s+FROM\s+((?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)(\s+FINAL)?\s*$/i.exec(text)?.[1] : undefined;
  return name?.split('.').pop();
}

/** The column behind a dimension whose SQL is `{CUBE}.col` or `col`. */
function dimensionColumn(cube: Cube, name: string): string | undefined {
  const d = cube.dimensions[name];
  if (!d) return undefined;
  const parts = d.sql?.parts ?? [];
  const text =
    parts.length === 2 && parts[0].kind === 'cube' && parts[1].kind === 'text'
      ? parts[1].text.replace(/^\./, '')
      : parts.length === 1 && parts[0].kind === 'text'
        ? parts[0].text
        : '';
  return IDENT.test(text.trim()) ? text.trim() : undefined;
}

function resolveRef(model: Model, ref: string): ColumnRef | string {
  const [cubeName, member, extra] = ref.split('.');
  const cube = model.cubes[cubeName ?? ''];
  if (!cube || !member || extra !== undefined) return `"${ref}" must name a dimension of a cube as cube.dimension`;
  const table = cubeTable(cube);
  const column = dimensionColumn(cube, member);
  if (!table) return `cube "${cubeName}" must read one table (sql_table, or sql: SELECT * FROM table [FINAL]) to be a reference`;
  if (!column) return `"${ref}" must be a dimension whose sql is a plain column`;
  return { member: ref, table, column, ...(cube.tenant.kind === 'column' ? { tenantColumn: cube.tenant.column } : {}) };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses one cube's extension; problems are messages without location (the caller adds it). */
export function cubeQuality(model: Model, cube: Cube): { quality: CubeQuality; problems: string[] } {
  const problems: string[] = [];
  const ext = cube.meta?.[STRATA_META_KEY];
  if (ext === undefined) return { quality: { rules: [] }, problems };
  if (!ext || typeof ext !== 'object' || Array.isArray(ext)) return { quality: { rules: [] }, problems: ['meta.strata must be a map'] };
  const e = ext as Record<string, unknown>;
  for (const k of Object.keys(e)) if (k !== 'natural_key' && k !== 'quality') problems.push(`unknown key meta.strata.${k} (natural_key, quality)`);
  let naturalKey: string[] | undefined;
  if (e.natural_key !== undefined) {
    if (!Array.isArray(e.natural_key) || e.natural_key.length === 0 || !e.natural_key.every((c) => typeof c === 'string' && IDENT.test(c))) {
      problems.push('meta.strata.natural_key must be a non-empty list of column names');
    } else naturalKey = e.natural_key as string[];
  }
  const rules: QualityRule[] = [];
  const list = e.quality ?? [];
  if (!Array.isArray(list)) problems.push('meta.strata.quality must be a list of rules');
  const seen = new Set<string>();
  for (const [i, raw] of (Array.isArray(list) ? list : []).entries()) {
    const at = `meta.strata.quality[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at} must be a map`);
      continue;
    }
    const r = raw as Record<string, unknown>;
    const name = typeof r.name === 'string' && IDENT.test(r.name) ? r.name : undefined;
    const column = typeof r.column === 'string' && IDENT.test(r.column) ? r.column : undefined;
    if (!name) problems.push(`${at} needs a name (an identifier)`);
    if (!column) problems.push(`${at} needs a column (a column name)`);
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) problems.push(`${at}: unknown key "${k}"`);
    if (!name || !column) continue;
    if (seen.has(name)) problems.push(`${at}: rule name "${name}" is used twice`);
    seen.add(name);
    const label = `rule "${name}"`;
    if (r.accepted_values !== undefined) {
      const v = r.accepted_values;
      if (v === ISO_COUNTRY_LIST) rules.push({ kind: 'accepted_values', name, column, values: ISO_COUNTRY_LIST });
      else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'))
        rules.push({ kind: 'accepted_values', name, column, values: v as string[] });
      else problems.push(`${label}: accepted_values must be a list of strings or "${ISO_COUNTRY_LIST}"`);
    } else if (r.accepted_values_from !== undefined || r.references !== undefined) {
      const kind = r.references !== undefined ? 'references' : 'accepted_values_from';
      const ref = r[kind];
      const resolved = typeof ref === 'string' ? resolveRef(model, ref) : `${kind} must be "cube.dimension"`;
      if (typeof resolved === 'string') problems.push(`${label}: ${resolved}`);
      else rules.push({ kind, name, column, ref: resolved });
    } else if (r.max_days_ahead !== undefined || typeof r.min === 'string') {
      const min = r.min;
      const ahead = r.max_days_ahead;
      if (min !== undefined && !(typeof min === 'string' && DATE.test(min))) problems.push(`${label}: min must be a date "YYYY-MM-DD"`);
      else if (ahead !== undefined && !(Number.isInteger(ahead) && (ahead as number) >= 0))
        problems.push(`${label}: max_days_ahead must be a whole number >= 0`);
      else
        rules.push({
          kind: 'date_bounds',
          name,
          column,
          ...(min ? { min: min as string } : {}),
          ...(ahead !== undefined ? { maxDaysAhead: ahead as number } : {}),
        });
    } else if (r.min !== undefined || r.max !== undefined || r.max_factor_of_trailing_max !== undefined) {
      const min = num(r.min);
      const max = num(r.max);
      const factor = num(r.max_factor_of_trailing_max);
      const days = r.trailing_days === undefined ? undefined : num(r.trailing_days);
      if ((r.min !== undefined && min === undefined) || (r.max !== undefined && max === undefined)) problems.push(`${label}: min and max must be numbers`);
      else if (r.max_factor_of_trailing_max !== undefined && !(factor !== undefined && factor > 1))
        problems.push(`${label}: max_factor_of_trailing_max must be a number > 1`);
      else if (r.trailing_days !== undefined && !(days !== undefined && Number.isInteger(days) && days > 0))
        problems.push(`${label}: trailing_days must be a whole number > 0`);
      else
        rules.push({
          kind: 'bounds',
          name,
          column,
          ...(min !== undefined ? { min } : {}),
          ...(max !== undefined ? { max } : {}),
          ...(factor !== undefined ? { maxFactorOfTrailingMax: factor, trailingDays: days ?? 28 } : {}),
        });
    } else {
      problems.push(
        `${label} checks nothing: give accepted_values, accepted_values_from, references, min/max_days_ahead (dates) or min/max/max_factor_of_trailing_max (numbers)`,
      );
    }
  }
  return { quality: { ...(naturalKey ? { naturalKey } : {}), rules }, problems };
}
