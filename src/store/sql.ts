/** Small helpers shared by the repos: row mapping, input checks, Postgres error translation. */
import { UserError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs can't exist; checking first avoids a Postgres cast error. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

export function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}

export function toDateOrNull(v: unknown): Date | null {
  return v === null || v === undefined ? null : toDate(v);
}

/** int8 comes back as a string from `pg` and as a number from PGlite. */
export function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export function requireName(value: unknown, what: string, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UserError('BAD_USER_INPUT', `${what} must be a non-empty string`);
  if (value.length > max) throw new UserError('BAD_USER_INPUT', `${what} must be at most ${max} characters`);
  return value.trim();
}

export function pgCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Foreign key to tenants violated: the tenant does not exist. */
export function rethrowMissingTenant(e: unknown, tenantId: string): never {
  if (pgCode(e) === '23503') throw new UserError('NOT_FOUND', `tenant "${tenantId}" does not exist`, { tenantId });
  throw e;
}
