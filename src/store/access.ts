/**
 * Who may see and change a shared object (dashboard, saved query): the rules as SQL predicates, so
 * every read and write checks them in the same statement as the tenant. Another tenant's row, or one
 * the actor may not see, is "not found"; one the actor sees but may not change is FORBIDDEN.
 */
import { ForbiddenError, UserError } from '../errors.js';

/** The caller as the store sees it. `admin`: a tenant admin, who may see and change everything of the tenant. */
export interface Actor {
  readonly tenantId: string;
  readonly subject: string;
  readonly admin: boolean;
}

export type Visibility = 'private' | 'tenant';
export type ShareAccess = 'view' | 'edit';

export interface Share {
  readonly subject: string;
  readonly access: ShareAccess;
}

export const VISIBILITIES: readonly Visibility[] = ['private', 'tenant'];

/**
 * Predicates over alias `o` (the object row) with the actor's tenant, subject and admin flag at
 * $t, $s, $a. `shares` names the share table and its key column.
 */
export function accessSql(shares: { table: string; key: string }, t: number, s: number, a: number) {
  const shared = (access: string) => `EXISTS (SELECT 1 FROM ${shares.table} x WHERE x.${shares.key} = o.id AND x.subject = $${s}${access})`;
  return {
    canView: `o.tenant_id = $${t} AND ($${a}::boolean OR o.owner = $${s} OR o.visibility = 'tenant' OR ${shared('')})`,
    canEdit: `o.tenant_id = $${t} AND ($${a}::boolean OR o.owner = $${s} OR ${shared(" AND x.access = 'edit'")})`,
    /** Delete, share, change visibility: the owner or a tenant admin. */
    canManage: `o.tenant_id = $${t} AND ($${a}::boolean OR o.owner = $${s})`,
  };
}

export function checkVisibility(v: unknown): Visibility {
  if (v === 'private' || v === 'tenant') return v;
  throw new UserError('BAD_USER_INPUT', `visibility must be one of ${VISIBILITIES.join(', ')}`);
}

export function checkShares(shares: readonly Share[]): Share[] {
  if (!Array.isArray(shares)) throw new UserError('BAD_USER_INPUT', 'shares must be an array');
  if (shares.length > 200) throw new UserError('BAD_USER_INPUT', 'at most 200 shares');
  const seen = new Set<string>();
  return shares.map((sh) => {
    const subject = typeof sh?.subject === 'string' ? sh.subject.trim() : '';
    if (!subject || subject.length > 200) throw new UserError('BAD_USER_INPUT', 'a share needs a subject (the user id of their token), at most 200 characters');
    if (seen.has(subject)) throw new UserError('BAD_USER_INPUT', `subject "${subject}" is shared twice`);
    seen.add(subject);
    if (sh.access !== 'view' && sh.access !== 'edit') throw new UserError('BAD_USER_INPUT', `share access must be "view" or "edit" (subject "${subject}")`);
    return { subject, access: sh.access };
  });
}

/** Thrown when the actor sees an object but may not change it this way. */
export function notAllowed(what: string, id: string, action: string): ForbiddenError {
  return new ForbiddenError(
    `you may not ${action} ${what} "${id}": only its owner${action === 'edit' ? ', a user it is shared with for editing' : ''} or a tenant admin may`,
    {
      id,
    },
  );
}
