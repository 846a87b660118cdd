/**
 * The tenant registry over GraphQL. Platform operators (scope platform:admin, held by no tenant role)
 * list, create, suspend, resume and re-plan tenants; they see the registry, never a tenant's data.
 * A tenant admin (scope tenant:admin) reads their own tenant and updates its name and settings,
 * except the operator-owned ones (rateLimit). A suspended or churned tenant is refused at every door
 * from the next request, and its open sessions end (tenancy/access-watch.ts).
 */
import { PLATFORM_SCOPES, SCOPES } from '../../auth/principal.js';
import { ForbiddenError, UserError } from '../../errors.js';
import type { Tenant, TenantRepo, TenantSettings, TenantStatus } from '../../store/tenants.js';
import type { StrataBuilder } from '../builder.js';
import type { SchemaExtension } from '../build-schema.js';
import { dateTimeScalar, perBuilder } from './types.js';

const PLATFORM = { authScopes: { allOf: [PLATFORM_SCOPES.ADMIN] }, extensions: { requiresScopes: [PLATFORM_SCOPES.ADMIN] } } as const;
const TENANT_ADMIN = { authScopes: { allOf: [SCOPES.TENANT_ADMIN] }, extensions: { requiresScopes: [SCOPES.TENANT_ADMIN] } } as const;

/** Settings only an operator may set (a tenant raising its own rate limit would defeat it). */
const OPERATOR_SETTINGS = ['rateLimit', 'quota'];
const MAX_SETTINGS_BYTES = 16_384;
/** The store's TENANT_STATUSES (the door may import only its types); the type keeps the two in step. */
const STATUSES: readonly TenantStatus[] = ['active', 'trial', 'suspended', 'churned'] satisfies readonly TenantStatus[];

export function tenantExtension(tenants: TenantRepo): SchemaExtension {
  const must = async (id: string, patch: Parameters<TenantRepo['update']>[1]): Promise<Tenant> => {
    const t = await tenants.update(id, patch);
    if (!t) throw new UserError('NOT_FOUND', `no tenant "${id}"`, { id });
    return t;
  };
  return {
    queries: (builder) => {
      const tenant = tenantType(builder);
      builder.queryField('tenants', (t) =>
        t.field({ type: [tenant], nullable: true, description: 'Every registered tenant (platform operators).', ...PLATFORM, resolve: () => tenants.list() }),
      );
      builder.queryField('tenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'One tenant of the registry (platform operators); null when unknown.',
          ...PLATFORM,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }) => tenants.get(String(id)),
        }),
      );
      builder.queryField('myTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'Your own tenant: status, plan and settings.',
          ...TENANT_ADMIN,
          resolve: (_r, _a, ctx) => tenants.get(ctx.strata.principal.tenantId),
        }),
      );
    },
    mutations: (builder) => {
      const tenant = tenantType(builder);
      const status = tenantStatusEnum(builder);
      const createInput = builder.inputType('CreateTenantInput', {
        fields: (t) => ({
          id: t.string({ required: true, description: 'Lower-case letters, digits, "-" and "_" ("umbrella"); the tenant_id of its credentials.' }),
          name: t.string({ required: true }),
          plan: t.string({ description: 'free (default), pro, enterprise.' }),
          status: t.field({ type: status, description: 'active (default) or trial.' }),
          settings: t.field({ type: 'JSON', description: 'Free-form settings, e.g. {"rateLimit": {"perSecond": 10, "burst": 40}}.' }),
        }),
      });
      const updateInput = builder.inputType('UpdateTenantInput', {
        fields: (t) => ({
          name: t.string(),
          plan: t.string({ description: 'Applies from the next request.' }),
          status: t.field({ type: status, description: 'suspended / churned: refused everywhere, open sessions end.' }),
          settings: t.field({ type: 'JSON', description: 'Replaces the settings object.' }),
        }),
      });
      const myInput = builder.inputType('UpdateMyTenantInput', {
        fields: (t) => ({
          name: t.string(),
          settings: t.field({
            type: 'JSON',
            description: `Replaces your settings; operator-owned keys (${OPERATOR_SETTINGS.join(', ')}) are kept and may not be sent.`,
          }),
        }),
      });

      builder.mutationField('createTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'Register a tenant (platform operators). CONFLICT when the id is taken.',
          ...PLATFORM,
          args: { input: t.arg({ type: createInput, required: true }) },
          resolve: async (_r, { input }) => {
            if (await tenants.get(input.id)) throw new UserError('CONFLICT', `tenant "${input.id}" already exists`, { id: input.id });
            return tenants.ensure({
              id: input.id,
              name: input.name,
              plan: input.plan ?? undefined,
              status: input.status ?? undefined,
              settings: input.settings === undefined || input.settings === null ? undefined : settingsOf(input.settings),
            });
          },
        }),
      );
      builder.mutationField('updateTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'Change a tenant: re-plan, suspend, churn, rename, settings (platform operators).',
          ...PLATFORM,
          args: { id: t.arg.id({ required: true }), input: t.arg({ type: updateInput, required: true }) },
          resolve: (_r, { id, input }) =>
            must(String(id), {
              ...(input.name != null ? { name: input.name } : {}),
              ...(input.plan != null ? { plan: input.plan } : {}),
              ...(input.status != null ? { status: input.status } : {}),
              ...(input.settings != null ? { settings: settingsOf(input.settings) } : {}),
            }),
        }),
      );
      builder.mutationField('suspendTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'Suspend a tenant: every door refuses it (TENANT_SUSPENDED) and its open sessions end (platform operators).',
          ...PLATFORM,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }) => must(String(id), { status: 'suspended' }),
        }),
      );
      builder.mutationField('resumeTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: 'Serve a suspended or churned tenant again (status active; platform operators).',
          ...PLATFORM,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }) => must(String(id), { status: 'active' }),
        }),
      );
      builder.mutationField('updateMyTenant', (t) =>
        t.field({
          type: tenant,
          nullable: true,
          description: "Update your own tenant's name and settings.",
          ...TENANT_ADMIN,
          args: { input: t.arg({ type: myInput, required: true }) },
          resolve: async (_r, { input }, ctx) => {
            const id = ctx.strata.principal.tenantId;
            const current = await tenants.get(id);
            if (!current) throw new UserError('NOT_FOUND', 'your tenant is not registered');
            let settings: TenantSettings | undefined;
            if (input.settings != null) {
              const next = settingsOf(input.settings);
              const owned = OPERATOR_SETTINGS.filter((k) => k in next);
              if (owned.length)
                throw new ForbiddenError(`settings ${owned.map((k) => `"${k}"`).join(', ')} are set by the platform operator`, { key: owned[0] });
              const kept = Object.fromEntries(OPERATOR_SETTINGS.filter((k) => k in current.settings).map((k) => [k, current.settings[k]]));
              settings = { ...next, ...kept };
            }
            return must(id, { ...(input.name != null ? { name: input.name } : {}), ...(settings ? { settings } : {}) });
          },
        }),
      );
    },
  };
}

function settingsOf(v: unknown): TenantSettings {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UserError('BAD_USER_INPUT', 'settings must be a JSON object');
  if (Buffer.byteLength(JSON.stringify(v)) > MAX_SETTINGS_BYTES) {
    throw new UserError('BAD_USER_INPUT', `settings must stay under ${MAX_SETTINGS_BYTES} bytes of JSON`, { maxBytes: MAX_SETTINGS_BYTES });
  }
  return v as TenantSettings;
}

const tenantStatusEnum = perBuilder((builder: StrataBuilder) =>
  builder.enumType('TenantStatus', {
    description: 'active and trial are served; suspended and churned are refused at every door (TENANT_SUSPENDED).',
    values: STATUSES,
  }),
);

const tenantType = perBuilder((builder: StrataBuilder) => {
  const DateTime = dateTimeScalar(builder);
  const status = tenantStatusEnum(builder);
  return builder.objectRef<Tenant>('Tenant').implement({
    description: 'A company served by Strata: the tenant_id of its credentials, its status, plan and settings.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      status: t.field({ type: status, resolve: (x) => x.status }),
      plan: t.exposeString('plan', { description: 'Sets the rate limits (free, pro, enterprise); applies from the first request.' }),
      settings: t.field({ type: 'JSON', resolve: (x) => x.settings }),
      createdAt: t.field({ type: DateTime, resolve: (x) => x.createdAt }),
    }),
  });
});
