/**
 * A share link's token as a credential: the principal of the link's tenant, with the read scopes its
 * creator had when making it (the repository keeps reads only: write scopes never reach a link), the link's expiry, and a
 * subject naming the link (audit trail: "link:<id>"). server.ts wraps it in the tenant gate, so a
 * suspended tenant's links stop answering like every other credential of the tenant.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { DashboardLinkRepo } from '../store/dashboard-links.js';
import { linkNotFound } from './http.js';

export function linkAuthenticator(links: Pick<DashboardLinkRepo, 'open'>): Authenticator {
  return {
    async authenticate(token) {
      const link = await links.open(token);
      if (!link) throw linkNotFound();
      const scopes = new Set(link.scopes);
      return {
        tenantId: link.tenantId,
        subject: `link:${link.id}`,
        via: 'link',
        scopes,
        grantedScopes: scopes,
        roles: [],
        expiresAt: Math.floor(link.expiresAt.getTime() / 1000),
      };
    },
  };
}
