/**
 * Monthly usage: `usage` for a tenant admin (their own tenant: queries, rows read, bytes returned,
 * refusals, the plan's quota), `platformUsage` for platform operators (every tenant and the totals).
 */
import { PLATFORM_SCOPES, SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { MonthUsage, UsageRepo } from '../../store/usage.js';
import type { TenantRepo } from '../../store/tenants.js';
import type { UsageMeter } from '../../tenancy/usage-meter.js';
import type { StrataBuilder } from '../builder.js';
import type { SchemaExtension } from '../build-schema.js';
import { perBuilder } from './types.js';

const TENANT_ADMIN = { authScopes: { allOf: [SCOPES.TENANT_ADMIN] }, extensions: { requiresScopes: [SCOPES.TENANT_ADMIN] } } as const;
const PLATFORM = { authScopes: { allOf: [PLATFORM_SCOPES.ADMIN] }, extensions: { requiresScopes: [PLATFORM_SCOPES.ADMIN] } } as const;

interface UsageView extends MonthUsage {
  /** null: unlimited. */
  readonly queryQuota: number | null;
}

/** "2026-12" -> its first day (UTC); absent -> this month. */
function monthArg(v: string | null | undefined, now = new Date()): Date {
  if (v == null) return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const m = /^(\d{4})-(\d{2})$/.exec(v);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new UserError('BAD_USER_INPUT', 'month must look like "2026-12"');
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

export function usageExtension(deps: { usage: UsageRepo; meter?: UsageMeter; tenants: TenantRepo }): SchemaExtension {
  return {
    queries: (builder) => {
      const usage = usageType(builder);
      const totals = builder.objectRef<{ month: Date; tenants: UsageView[] }>('PlatformUsage').implement({
        description: 'Usage of every tenant in a month, and the totals.',
        fields: (t) => ({
          month: t.string({ resolve: (u) => u.month.toISOString().slice(0, 7) }),
          queries: t.float({ resolve: (u) => sum(u.tenants, 'queries') }),
          rowsRead: t.float({ resolve: (u) => sum(u.tenants, 'rowsRead') }),
          bytesReturned: t.float({ resolve: (u) => sum(u.tenants, 'bytesReturned') }),
          refused: t.float({ resolve: (u) => sum(u.tenants, 'refused') }),
          tenants: t.field({ type: [usage], resolve: (u) => u.tenants }),
        }),
      });
      builder.queryField('usage', (t) =>
        t.field({
          type: usage,
          nullable: true,
          description: "Your tenant's usage in a month (default: this one) and its plan quota. Counts arrive within a few seconds.",
          ...TENANT_ADMIN,
          args: { month: t.arg.string({ description: '"2026-12"; this month when omitted.' }) },
          resolve: async (_r, { month }, ctx) => {
            const id = ctx.strata.principal.tenantId;
            await deps.usage.flush();
            const [u, tenant] = await Promise.all([deps.usage.get(id, monthArg(month)), deps.tenants.get(id)]);
            return withQuota(u, deps.meter?.quotaOf(tenant ?? undefined).queriesPerMonth);
          },
        }),
      );
      builder.queryField('platformUsage', (t) =>
        t.field({
          type: totals,
          nullable: true,
          description: "Every tenant's usage in a month (default: this one), largest first, and the totals (platform operators).",
          ...PLATFORM,
          args: { month: t.arg.string({ description: '"2026-12"; this month when omitted.' }) },
          resolve: async (_r, { month }) => {
            const m = monthArg(month);
            await deps.usage.flush();
            const [rows, tenants] = await Promise.all([deps.usage.list(m), deps.tenants.list()]);
            const byId = new Map(tenants.map((x) => [x.id, x]));
            return { month: m, tenants: rows.map((u) => withQuota(u, deps.meter?.quotaOf(byId.get(u.tenantId)).queriesPerMonth)) };
          },
        }),
      );
    },
  };
}

function withQuota(u: MonthUsage, quota: number | undefined): UsageView {
  return { ...u, queryQuota: quota === undefined || !Number.isFinite(quota) ? null : quota };
}

function sum(rows: readonly UsageView[], k: 'queries' | 'rowsRead' | 'bytesReturned' | 'refused'): number {
  return rows.reduce((n, r) => n + r[k], 0);
}

const usageType = perBuilder((builder: StrataBuilder) =>
  builder.objectRef<UsageView>('TenantUsage').implement({
    description: "A tenant's usage in one UTC month.",
    fields: (t) => ({
      tenant: t.string({ description: 'The tenant id.', resolve: (u) => u.tenantId }),
      month: t.string({ resolve: (u) => u.month.toISOString().slice(0, 7) }),
      queries: t.float({
        description: 'Semantic queries answered (a GraphQL root field, a REST query, a SQL statement, a widget).',
        resolve: (u) => u.queries,
      }),
      rowsRead: t.float({ description: 'Rows the engine returned to Strata for them.', resolve: (u) => u.rowsRead }),
      bytesReturned: t.float({ description: 'JSON bytes of the rows answered.', resolve: (u) => u.bytesReturned }),
      refused: t.float({ description: 'Requests refused (rate limit, quota, scope).', resolve: (u) => u.refused }),
      queryQuota: t.float({ nullable: true, description: "The plan's monthly query quota; null: unlimited.", resolve: (u) => u.queryQuota }),
    }),
  }),
);
