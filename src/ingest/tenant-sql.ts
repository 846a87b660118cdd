/**
 * The one way ingest/ writes a tenant-scoped read (the compiler's tenant discipline, for the
 * ingestion ledger): the tenant filter is added here, first in WHERE, and the tenant id travels
 * only as the bound parameter {tenant:String}. Callers pass SQL fragments they wrote themselves
 * (table and column names, their own {name:Type} placeholders) and their values as params; they
 * cannot name the tenant parameter, and a tenant id that is not a valid id is refused.
 */
import { TENANT_ID_PATTERN } from '../auth/principal.js';
import { invariant } from '../errors.js';

export const TENANT_PARAM = 'tenant';

export interface TenantStatement {
  readonly sql: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface TenantSelect {
  /** Column list, e.g. "table_name, rows". */
  readonly select: string;
  /** Qualified table, e.g. "strata.ingest_batches". */
  readonly from: string;
  /** More conditions, ANDed after the tenant filter; values as {name:Type} placeholders. */
  readonly where?: string;
  readonly orderBy?: string;
  /** A literal number or a placeholder such as "{limit:UInt32}". */
  readonly limit?: string;
}

/** `SELECT … FROM … WHERE tenant_id = {tenant:String} [AND (…)] …` with the tenant bound. */
export function selectForTenant(tenantId: string, q: TenantSelect, params: Readonly<Record<string, unknown>> = {}): TenantStatement {
  invariant(typeof tenantId === 'string' && TENANT_ID_PATTERN.test(tenantId), 'a tenant-scoped read needs a valid tenant id');
  invariant(!Object.hasOwn(params, TENANT_PARAM), `"${TENANT_PARAM}" is bound by selectForTenant, not by its caller`);
  const fragments = [q.select, q.from, q.where ?? '', q.orderBy ?? '', q.limit ?? ''];
  invariant(!fragments.some((f) => f.includes(`{${TENANT_PARAM}:`)), 'the tenant placeholder is written by selectForTenant only');
  const sql = [
    `SELECT ${q.select} FROM ${q.from} WHERE tenant_id = {${TENANT_PARAM}:String}`,
    q.where ? ` AND (${q.where})` : '',
    q.orderBy ? ` ORDER BY ${q.orderBy}` : '',
    q.limit ? ` LIMIT ${q.limit}` : '',
  ].join('');
  return { sql, params: { ...params, [TENANT_PARAM]: tenantId } };
}

export interface TenantDelete {
  /** Qualified table, e.g. "strata.ad_performance". */
  readonly from: string;
  /** Which of the tenant's rows; required (never "all of a tenant's rows" by omission). */
  readonly where: string;
}

/** `DELETE FROM … WHERE tenant_id = {tenant:String} AND (…)` (a lightweight delete) with the tenant bound. */
export function deleteForTenant(tenantId: string, q: TenantDelete, params: Readonly<Record<string, unknown>> = {}): TenantStatement {
  invariant(typeof tenantId === 'string' && TENANT_ID_PATTERN.test(tenantId), 'a tenant-scoped delete needs a valid tenant id');
  invariant(!Object.hasOwn(params, TENANT_PARAM), `"${TENANT_PARAM}" is bound by deleteForTenant, not by its caller`);
  invariant(q.where.trim() !== '', 'a tenant-scoped delete needs a condition');
  invariant(![q.from, q.where].some((f) => f.includes(`{${TENANT_PARAM}:`)), 'the tenant placeholder is written by deleteForTenant only');
  return { sql: `DELETE FROM ${q.from} WHERE tenant_id = {${TENANT_PARAM}:String} AND (${q.where})`, params: { ...params, [TENANT_PARAM]: tenantId } };
}
