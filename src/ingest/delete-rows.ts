/**
 * Deleting a tenant's rows by a dimension value (a client, a campaign, an ad account) across every
 * ingestible table that holds it: right-to-be-forgotten requests and mistaken loads. ClickHouse
 * lightweight DELETE (rows masked at once, removed by later merges; chDB supports it on the
 * ReplacingMergeTree fact tables), one statement per table, the tenant bound by deleteForTenant.
 * Tables are matched by column (client_id, campaign_id, account_id, read from system.columns); no
 * table links campaigns to clients today, so a client's deletion reaches the client tables only.
 * Quarantined rows hold the raw text sent: those of the tenant whose JSON has the value under that
 * field (or, for a line that is not valid JSON, e.g. cut at 16 KiB, that mentions it as a JSON
 * string) are deleted too. The rest of the ledger (claims, batches, resolutions) holds no row data.
 */
import type { Engine } from '../engine/engine.js';
import { UserError } from '../errors.js';
import { QUARANTINE_TABLE } from './ledger.js';
import type { TableSchema } from './table-schema.js';
import { INGESTIBLE_TABLES } from './tables.js';
import { deleteForTenant, selectForTenant } from './tenant-sql.js';

/** The dimensions one can delete by, and the column that holds each. */
export const DELETABLE_DIMENSIONS = { client: 'client_id', campaign: 'campaign_id', ad_account: 'account_id' } as const;
export type DeletableDimension = keyof typeof DELETABLE_DIMENSIONS;

export interface DeletionReport {
  readonly dimension: DeletableDimension;
  readonly value: string;
  /** Rows deleted per table (tables with none are left out). */
  readonly tables: readonly { readonly table: string; readonly deleted: number }[];
  readonly deleted: number;
}

export interface DeleteRowsDeps {
  readonly engine: Engine;
  schemaOf(table: string): Promise<TableSchema>;
}

const MAX_VALUE_LENGTH = 256;

export function isDeletableDimension(d: string): d is DeletableDimension {
  return Object.hasOwn(DELETABLE_DIMENSIONS, d);
}

export async function deleteRowsByDimension(deps: DeleteRowsDeps, tenantId: string, dimension: string, value: string): Promise<DeletionReport> {
  if (!isDeletableDimension(dimension)) {
    throw new UserError('BAD_USER_INPUT', `cannot delete by "${dimension}"; one of: ${Object.keys(DELETABLE_DIMENSIONS).join(', ')}`, { dimension });
  }
  if (typeof value !== 'string' || value === '' || value.length > MAX_VALUE_LENGTH) {
    throw new UserError('BAD_USER_INPUT', `value must be 1-${MAX_VALUE_LENGTH} characters`);
  }
  const column = DELETABLE_DIMENSIONS[dimension];
  const schemas = await Promise.all(INGESTIBLE_TABLES.map((t) => deps.schemaOf(t).catch(() => null)));
  const tables: { table: string; deleted: number }[] = [];
  for (const schema of schemas) {
    if (!schema?.columns.some((c) => c.name === column)) continue;
    // The column name comes from DELETABLE_DIMENSIONS (constants); the value only as a parameter.
    const n = await deleteWhere(deps.engine, tenantId, schema.table, `${column} = {v:String}`, { v: value });
    if (n === 0) continue;
    tables.push({ table: schema.table, deleted: n });
  }
  const quarantined = await deleteWhere(deps.engine, tenantId, QUARANTINE_TABLE, quarantineHolding(column), { v: value, quoted: JSON.stringify(value) });
  if (quarantined > 0) tables.push({ table: QUARANTINE_TABLE, deleted: quarantined });
  return { dimension, value, tables, deleted: tables.reduce((a, t) => a + t.deleted, 0) };
}

/** Counts the tenant's rows matching `where`, deletes them when there are any; returns the count. */
async function deleteWhere(engine: Engine, tenantId: string, table: string, where: string, params: Record<string, unknown>): Promise<number> {
  const from = `${engine.database}.${table}`;
  const count = selectForTenant(tenantId, { select: 'count() AS n', from, where }, params);
  const n = Number((await engine.query<{ n: string | number }>(count.sql, count.params)).rows[0]?.n ?? 0);
  if (n === 0) return 0;
  const del = deleteForTenant(tenantId, { from, where }, params);
  await engine.command(del.sql, del.params);
  return n;
}

/**
 * Quarantine rows whose raw text holds the value under `column`: as a string or a bare number in
 * valid JSON; in text that is not JSON, as the JSON string `"value"` ({quoted}) anywhere.
 */
function quarantineHolding(column: string): string {
  const raw = "JSONExtractString(row_json, 'raw')";
  return `if(isValidJSON(${raw}), JSONExtractString(${raw}, '${column}') = {v:String} OR JSONExtractRaw(${raw}, '${column}') = {v:String}, position(${raw}, {quoted:String}) > 0)`;
}
