/**
 * The model's data-quality rules (semantic/quality.ts) as per-row checks for one batch. Lookups
 * (reference values, the tenant's campaign ids, trailing maxima) run once per batch, before the
 * rows; the per-row check is a few closures over the encoded value array. Identifiers in the SQL
 * come from the model (validated identifiers), values and the tenant only as bound parameters.
 */
import type { Engine } from '../engine/engine.js';
import type { Model } from '../semantic/model.js';
import { type ColumnRef, cubeQuality, cubeTable, ISO_COUNTRY_LIST, type QualityRule } from '../semantic/quality.js';
import { ISO_COUNTRIES } from './iso-countries.js';
import type { TableSchema } from './table-schema.js';
import { selectForTenant } from './tenant-sql.js';
import { TENANT_COLUMN } from './validate.js';

export interface QualityFailure {
  readonly rule: string;
  readonly reason: string;
}

/** Returns the first rule a row breaks. */
export type QualityCheck = (values: readonly unknown[]) => QualityFailure | undefined;

/** Reference lists above this size are not loaded (the rule is skipped, and said so in the log). */
const MAX_REFERENCE_VALUES = 1_000_000;
/**
 * Lookups need no FINAL (the engine's default): distinct values and maxima over replaced rows are
 * the same sets, or a looser bound; skipping it keeps the per-batch cost off the merge path.
 */
const NO_FINAL = ' SETTINGS final = 0';
/** Shared reference values (platforms) change rarely: cached per process for this long. */
const SHARED_TTL_MS = 60_000;

/** The rules of every cube that reads `table`, first declaration of a name wins. */
export function rulesForTable(model: Model, table: string): QualityRule[] {
  const out = new Map<string, QualityRule>();
  for (const cube of Object.values(model.cubes)) {
    if (cubeTable(cube) !== table) continue;
    for (const r of cubeQuality(model, cube).quality.rules) if (!out.has(r.name)) out.set(r.name, r);
  }
  return [...out.values()];
}

export interface QualityLookups {
  /** Values of a reference column (tenant-scoped when the reference cube is). */
  values(ref: ColumnRef, tenantId: string): Promise<ReadonlySet<string> | undefined>;
  /** The tenant's largest value of `column` over the trailing days (by the table's date column). */
  trailingMax(table: string, column: string, dateColumn: string, days: number, tenantId: string): Promise<number | undefined>;
}

export function createQualityLookups(engine: Engine): QualityLookups {
  const shared = new Map<string, { at: number; values: Promise<ReadonlySet<string> | undefined> }>();
  const db = engine.database;
  const load = async (sql: string, params: Record<string, unknown>): Promise<ReadonlySet<string> | undefined> => {
    const { rows } = await engine.query<{ v: string }>(sql, params);
    return rows.length >= MAX_REFERENCE_VALUES ? undefined : new Set(rows.map((r) => String(r.v)));
  };
  return {
    values(ref, tenantId) {
      if (ref.tenantColumn === TENANT_COLUMN) {
        const q = selectForTenant(tenantId, { select: `DISTINCT ${ref.column} AS v`, from: `${db}.${ref.table}`, limit: String(MAX_REFERENCE_VALUES) });
        return load(`${q.sql}${NO_FINAL}`, q.params);
      }
      const hit = shared.get(ref.member);
      if (hit && Date.now() - hit.at < SHARED_TTL_MS) return hit.values;
      const values = load(`SELECT DISTINCT ${ref.column} AS v FROM ${db}.${ref.table} LIMIT ${MAX_REFERENCE_VALUES}${NO_FINAL}`, {});
      shared.set(ref.member, { at: Date.now(), values });
      values.catch(() => shared.delete(ref.member));
      return values;
    },
    async trailingMax(table, column, dateColumn, days, tenantId) {
      const q = selectForTenant(
        tenantId,
        { select: `max(${column}) AS m, count() AS n`, from: `${db}.${table}`, where: `${dateColumn} >= today() - {days:UInt32}` },
        { days },
      );
      const { rows } = await engine.query<{ m: number | null; n: number }>(`${q.sql}${NO_FINAL}`, q.params);
      return rows[0] && Number(rows[0].n) > 0 && rows[0].m !== null ? Number(rows[0].m) : undefined;
    },
  };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Loads what the rules need for this tenant and returns the per-row check (undefined: no rules apply). */
export async function compileQualityCheck(
  rules: readonly QualityRule[],
  schema: TableSchema,
  columns: readonly string[],
  tenantId: string,
  lookups: QualityLookups,
  now: number = Date.now(),
): Promise<QualityCheck | undefined> {
  const checks: ((values: readonly unknown[]) => QualityFailure | undefined)[] = [];
  const dateColumn = schema.columns.find((c) => c.kind.kind === 'date')?.name;
  for (const rule of rules) {
    const at = columns.indexOf(rule.column);
    if (at < 0) continue; // the table has no such column: validate-models knows the cube, not the table
    const { name, column } = rule;
    const fail = (reason: string): QualityFailure => ({ rule: name, reason: `rule ${name}: ${reason}` });
    switch (rule.kind) {
      case 'accepted_values':
      case 'accepted_values_from':
      case 'references': {
        const set =
          rule.kind === 'accepted_values'
            ? rule.values === ISO_COUNTRY_LIST
              ? ISO_COUNTRIES
              : new Set(rule.values)
            : await lookups.values(rule.ref, tenantId);
        // A tenant that has loaded no reference rows yet (facts before dimensions) is not checked.
        if (!set || set.size === 0) break;
        const what = rule.kind === 'references' ? `does not exist in ${rule.ref.member} for this tenant` : 'is not an accepted value';
        checks.push((v) => {
          const x = v[at];
          return x === undefined || x === null || set.has(String(x)) ? undefined : fail(`${column} "${String(x)}" ${what}`);
        });
        break;
      }
      case 'date_bounds': {
        const min = rule.min;
        const max = rule.maxDaysAhead === undefined ? undefined : isoDay(now + rule.maxDaysAhead * 86_400_000);
        checks.push((v) => {
          const x = v[at];
          if (typeof x !== 'string') return undefined;
          const day = x.slice(0, 10);
          if (min !== undefined && day < min) return fail(`${column} ${day} is before ${min}`);
          if (max !== undefined && day > max) return fail(`${column} ${day} is more than ${rule.maxDaysAhead} day(s) in the future (after ${max})`);
          return undefined;
        });
        break;
      }
      case 'bounds': {
        let max = rule.max;
        if (rule.maxFactorOfTrailingMax !== undefined && dateColumn) {
          const trailing = await lookups.trailingMax(schema.table, column, dateColumn, rule.trailingDays ?? 28, tenantId);
          // No history yet: only the absolute bounds apply.
          if (trailing !== undefined && trailing > 0) max = Math.min(max ?? Number.POSITIVE_INFINITY, trailing * rule.maxFactorOfTrailingMax);
        }
        const min = rule.min;
        const limit = max;
        checks.push((v) => {
          const x = v[at];
          if (typeof x !== 'number') return undefined;
          if (min !== undefined && x < min) return fail(`${column} ${x} is below ${min}`);
          if (limit !== undefined && x > limit) return fail(`${column} ${x} is above ${limit}`);
          return undefined;
        });
        break;
      }
    }
  }
  if (checks.length === 0) return undefined;
  return (values) => {
    for (const c of checks) {
      const f = c(values);
      if (f) return f;
    }
    return undefined;
  };
}
