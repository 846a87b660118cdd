/**
 * Read-only share links of dashboards (store/dashboard-links.ts; opened by the links door at
 * /v1/shared/dashboards/{token}, no JWT). Made, listed and revoked by whoever may manage the dashboard
 * (its owner or a tenant admin; the link's creator may revoke it too). A link carries the read scopes
 * of its creator at most (narrowed by `scopes`); the token is shown once and stored hashed.
 */
import { SCOPES } from '../../auth/principal.js';
import { UserError } from '../../errors.js';
import type { DashboardLink, DashboardLinkRepo } from '../../store/dashboard-links.js';
import type { SchemaExtension } from '../build-schema.js';
import type { StrataBuilder } from '../builder.js';
import { actorOf, dateTimeScalar, perBuilder } from './types.js';

export const LINK_PATH_PREFIX = '/v1/shared/dashboards/';
const DEFAULT_HOURS = 24 * 7;
const MAX_HOURS = 24 * 365;
const READ_SCOPES: readonly string[] = [SCOPES.METRICS_READ, SCOPES.FINANCE_READ, SCOPES.CLIENTS_READ];

const READ = { authScopes: { allOf: [SCOPES.METRICS_READ] }, extensions: { requiresScopes: [SCOPES.METRICS_READ] } } as const;
const WRITE = { authScopes: { allOf: [SCOPES.DASHBOARDS_WRITE] }, extensions: { requiresScopes: [SCOPES.DASHBOARDS_WRITE] } } as const;

const linkTypes = perBuilder((builder: StrataBuilder) => {
  const DateTime = dateTimeScalar(builder);
  const link = builder.objectRef<DashboardLink>('DashboardLink').implement({
    description: 'A read-only share link of a dashboard (the token itself is shown only when made).',
    fields: (t) => ({
      id: t.exposeID('id'),
      dashboardId: t.exposeID('dashboardId'),
      createdBy: t.exposeString('createdBy'),
      scopes: t.exposeStringList('scopes', { description: 'The read scopes the link runs with (its creator had them when making it).' }),
      createdAt: t.field({ type: DateTime, resolve: (l) => l.createdAt }),
      expiresAt: t.field({ type: DateTime, resolve: (l) => l.expiresAt }),
      revokedAt: t.field({ type: DateTime, nullable: true, resolve: (l) => l.revokedAt }),
      revokedBy: t.exposeString('revokedBy', { nullable: true }),
      active: t.boolean({ description: 'Neither revoked nor expired.', resolve: (l) => l.revokedAt === null && l.expiresAt.getTime() > Date.now() }),
    }),
  });
  const created = builder.objectRef<{ link: DashboardLink; token: string }>('DashboardLinkCreated').implement({
    fields: (t) => ({
      link: t.field({ type: link, resolve: (c) => c.link }),
      token: t.exposeString('token', { description: 'The credential of the link: shown now only (stored hashed).' }),
      path: t.string({
        description: `Where it opens, without a JWT: ${LINK_PATH_PREFIX}<token> (GET, or POST {view}).`,
        resolve: (c) => LINK_PATH_PREFIX + c.token,
      }),
    }),
  });
  return { link, created };
});

export function dashboardLinkExtension(links: DashboardLinkRepo): SchemaExtension {
  return {
    queries: (builder) => {
      const { link } = linkTypes(builder);
      builder.queryField('dashboardLinks', (t) =>
        t.field({
          type: [link],
          nullable: true,
          description: 'Share links of a dashboard you may manage (owner or tenant admin), revoked and expired ones included, newest first.',
          ...READ,
          args: { dashboardId: t.arg.id({ required: true }) },
          resolve: (_r, { dashboardId }, ctx) => links.list(actorOf(ctx.strata.principal), String(dashboardId)),
        }),
      );
    },
    mutations: (builder) => {
      const { created } = linkTypes(builder);
      builder.mutationField('createDashboardLink', (t) =>
        t.field({
          type: created,
          nullable: true,
          description:
            'Make a read-only share link of a dashboard you may manage. Opening it needs no JWT; it shows only this dashboard, as you see it, with your read scopes (or fewer), in your tenant.',
          ...WRITE,
          args: {
            dashboardId: t.arg.id({ required: true }),
            expiresInHours: t.arg.int({ description: `Default ${DEFAULT_HOURS} (a week), at most ${MAX_HOURS}.` }),
            scopes: t.arg.stringList({ description: 'Narrow the link to these of your read scopes (default: all of them).' }),
          },
          resolve: (_r, { dashboardId, expiresInHours, scopes }, ctx) => {
            const p = ctx.strata.principal;
            const hours = expiresInHours ?? DEFAULT_HOURS;
            if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS)
              throw new UserError('BAD_USER_INPUT', `expiresInHours must be between 1 and ${MAX_HOURS}`, { field: 'expiresInHours' });
            const mine = READ_SCOPES.filter((s) => p.scopes.has(s));
            for (const s of scopes ?? [])
              if (!mine.includes(s))
                throw new UserError('BAD_USER_INPUT', `a link can carry only read scopes you hold (${mine.join(', ')}), not "${s}"`, { field: 'scopes' });
            return links.create(actorOf(p), String(dashboardId), {
              scopes: scopes ? mine.filter((s) => scopes.includes(s)) : mine,
              expiresAt: new Date(Date.now() + hours * 3600_000),
            });
          },
        }),
      );
      builder.mutationField('revokeDashboardLink', (t) =>
        t.boolean({
          nullable: true,
          description: 'Revoke a share link (dashboard owner, tenant admin, or the link creator); it answers 404 from then on. false when no such active link.',
          ...WRITE,
          args: { id: t.arg.id({ required: true }) },
          resolve: (_r, { id }, ctx) => links.revoke(actorOf(ctx.strata.principal), String(id)),
        }),
      );
    },
  };
}
