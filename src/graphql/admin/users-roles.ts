/**
 * Users and roles as data, for a tenant admin (scope tenant:admin): the principals seen by the
 * tenant (users and API keys), and the tenant's own roles (sets of scopes). A token's `roles` resolve
 * through these first, then the built-in ones; changing or deleting a role ends the open sessions
 * that used it. A role grants tenant scopes only, and only scopes its author holds (no escalation).
 */
import { type Principal, ROLE_SCOPES, SCOPES, TENANT_SCOPES } from '../../auth/principal.js';
import { ForbiddenError, UserError } from '../../errors.js';
import type { PrincipalRepo, SeenPrincipal } from '../../store/principals.js';
import type { RoleRepo, TenantRole } from '../../store/roles.js';
import type { StrataBuilder } from '../builder.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder } from './types.js';

const TENANT_ADMIN = { authScopes: { allOf: [SCOPES.TENANT_ADMIN] }, extensions: { requiresScopes: [SCOPES.TENANT_ADMIN] } } as const;
const MAX_PAGE = 1_000;

interface RoleView {
  readonly name: string;
  readonly description: string | null;
  readonly scopes: readonly string[];
  readonly builtIn: boolean;
  readonly role?: TenantRole;
}

export function usersAndRolesExtension(deps: { roles: RoleRepo; principals: PrincipalRepo }): SchemaExtension {
  return {
    queries: (builder) => {
      const user = userType(builder);
      const role = roleType(builder);
      builder.queryField('users', (t) =>
        t.field({
          type: [user],
          nullable: true,
          description: 'Who used your tenant: token subjects and API keys, most recently seen first (recorded within a few seconds).',
          ...TENANT_ADMIN,
          args: { limit: t.arg.int({ defaultValue: 100, description: `1-${MAX_PAGE}` }) },
          resolve: (_r, { limit }, ctx) => {
            const n = limit ?? 100;
            if (n < 1 || n > MAX_PAGE) throw new UserError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_PAGE}`, { limit: n });
            return deps.principals.list(ctx.strata.principal.tenantId, { limit: n });
          },
        }),
      );
      builder.queryField('roles', (t) =>
        t.field({
          type: [role],
          nullable: true,
          description: "Your tenant's roles, then the built-in ones it does not redefine. A token's roles resolve in this order.",
          ...TENANT_ADMIN,
          resolve: async (_r, _a, ctx) => {
            const own = await deps.roles.list(ctx.strata.principal.tenantId);
            const names = new Set(own.map((r) => r.name));
            const builtIn = Object.entries(ROLE_SCOPES)
              .filter(([n]) => !names.has(n))
              .map(([name, scopes]): RoleView => ({ name, description: null, scopes: scopes.filter((s) => TENANT_SCOPES.has(s)), builtIn: true }));
            return [...own.map((r): RoleView => ({ ...r, builtIn: false, role: r })), ...builtIn];
          },
        }),
      );
    },
    mutations: (builder) => {
      const role = roleType(builder);
      const input = builder.inputType('PutRoleInput', {
        fields: (t) => ({
          name: t.string({ required: true, description: 'Lower-case letters, digits, "_" and "-" ("campaign_manager"); the name tokens carry in `roles`.' }),
          description: t.string(),
          scopes: t.stringList({ required: true, description: 'Scopes the role grants ("metrics:read"); each must be one you hold.' }),
        }),
      });
      builder.mutationField('putRole', (t) =>
        t.field({
          type: role,
          nullable: true,
          description: "Create or replace one of your tenant's roles. Open sessions that used it end (they sign in again with the new grant).",
          ...TENANT_ADMIN,
          args: { input: t.arg({ type: input, required: true }) },
          resolve: async (_r, { input }, ctx) => {
            const principal = ctx.strata.principal;
            const scopes = checkScopes(principal, input.scopes);
            const { role: r } = await deps.roles.put(principal.tenantId, {
              name: input.name,
              description: input.description,
              scopes,
              createdBy: principal.subject,
            });
            return { ...r, builtIn: false, role: r };
          },
        }),
      );
      builder.mutationField('deleteRole', (t) =>
        t.boolean({
          nullable: true,
          description: "Delete one of your tenant's roles (the built-in role of the same name applies again). Open sessions that used it end.",
          ...TENANT_ADMIN,
          args: { name: t.arg.string({ required: true }) },
          resolve: async (_r, { name }, ctx) => (await deps.roles.delete(ctx.strata.principal.tenantId, name)) !== null,
        }),
      );
    },
  };
}

function checkScopes(principal: Principal, requested: readonly string[]): string[] {
  const scopes = [...new Set(requested)];
  if (scopes.length === 0) throw new UserError('BAD_USER_INPUT', 'a role needs at least one scope (e.g. "metrics:read")');
  if (scopes.length > 50) throw new UserError('BAD_USER_INPUT', 'a role has at most 50 scopes', { limit: 50 });
  const unknown = scopes.filter((s) => !TENANT_SCOPES.has(s));
  if (unknown.length)
    throw new UserError('BAD_USER_INPUT', `unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}; a role grants tenant scopes only`, { scopes: unknown });
  const beyond = scopes.filter((s) => !principal.scopes.has(s));
  if (beyond.length)
    throw new ForbiddenError(`you cannot grant scope ${beyond.map((s) => `"${s}"`).join(', ')}: a role may only carry scopes you hold`, { scopes: beyond });
  return scopes;
}

const userType = perBuilder((builder: StrataBuilder) => {
  const DateTime = dateTimeScalar(builder);
  return builder.objectRef<SeenPrincipal>('TenantUser').implement({
    description: 'A principal seen by your tenant: a token subject (user) or an API key id.',
    fields: (t) => ({
      subject: t.exposeString('subject'),
      via: t.exposeString('via', { description: 'jwt, api_key or cli.' }),
      name: t.exposeString('name', { nullable: true, description: 'The token\'s "name" claim, when it has one.' }),
      email: t.exposeString('email', { nullable: true, description: 'The token\'s "email" claim, when it has one.' }),
      firstSeen: t.field({ type: DateTime, resolve: (u) => u.firstSeen }),
      lastSeen: t.field({ type: DateTime, resolve: (u) => u.lastSeen }),
      lastDoor: t.exposeString('lastDoor'),
      doors: t.exposeStringList('doors', { description: 'Every door it came through (graphql, rest, sqlproxy, live, ...).' }),
    }),
  });
});

const roleType = perBuilder((builder: StrataBuilder) => {
  const DateTime = dateTimeScalar(builder);
  return builder.objectRef<RoleView>('Role').implement({
    description: 'A role: the scopes a token with it in `roles` gets.',
    fields: (t) => ({
      name: t.exposeString('name'),
      description: t.exposeString('description', { nullable: true }),
      scopes: t.exposeStringList('scopes'),
      builtIn: t.exposeBoolean('builtIn', { description: "true: Strata's own role (your tenant has not redefined it)." }),
      updatedAt: t.field({ type: DateTime, nullable: true, resolve: (r) => r.role?.updatedAt ?? null }),
    }),
  });
});
