/**
 * GET|POST /v1/shared/dashboards/{token} — a dashboard opened through a read-only share link. The
 * link token is the credential (no JWT): the edge turns it into a principal of the link's tenant with
 * the read scopes its creator had (link-principal.ts, behind the tenant gate), and the dashboard is read
 * as its creator would see it. Only that dashboard answers; a widget whose members the link may not
 * read answers a bare FORBIDDEN, never the members or the query. POST takes `{view}` (as GraphQL's
 * `dashboard(view:)`); GET takes `?view=<json>`. An unknown, revoked or expired link is 404.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { toPublicError } from '../edge/errors.js';
import { authenticateHttpCredential, type HttpPeer, httpRequestId, jsonErrorBody, jsonResponse } from '../edge/http.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type FilterValues, resolveDeclared } from '../query/dashboard-filters.js';
import { applyView, checkView, type DashboardView, type ViewService } from '../query/dashboard-view.js';
import type { QueryService, RequestContext } from '../query/types.js';
import type { AuditLog } from '../store/audit.js';
import type { DashboardLinkRepo } from '../store/dashboard-links.js';
import type { DashboardRepo } from '../store/dashboards.js';

export const LINKS_PATH_PREFIX = '/v1/shared/';
const OPEN = /^\/v1\/shared\/dashboards\/([A-Za-z0-9_-]{20,200})$/;
const MAX_BODY = 64 * 1024;

export interface LinkDoorDeps {
  /** Link token -> principal (link-principal.ts), wrapped by the tenant gate. */
  readonly authenticator: Authenticator;
  readonly links: Pick<DashboardLinkRepo, 'open'>;
  readonly dashboards: Pick<DashboardRepo, 'get'>;
  readonly query: QueryService & ViewService;
  readonly audit?: Pick<AuditLog, 'record'>;
  readonly trustProxy: number;
  readonly logger: Logger;
  readonly isDev: boolean;
}

export function createLinkHandler(deps: LinkDoorDeps) {
  return async (request: Request, peer: HttpPeer): Promise<Response> => {
    const requestId = httpRequestId(request);
    const headers = { 'x-request-id': requestId, 'cache-control': 'private, no-store', 'referrer-policy': 'no-referrer' };
    try {
      const url = new URL(request.url);
      const match = OPEN.exec(url.pathname);
      if (!match || (request.method !== 'GET' && request.method !== 'POST')) {
        return jsonResponse(404, { error: `no route for ${request.method} ${url.pathname}`, code: 'NOT_FOUND', requestId }, headers);
      }
      const ctx = await authenticateHttpCredential(match[1], request, 'link', peer, { ...deps, requestId });
      const link = await deps.links.open(match[1]);
      if (!link || link.tenantId !== ctx.principal.tenantId) throw linkNotFound();
      const dashboard = await deps.dashboards.get({ tenantId: link.tenantId, subject: link.createdBy, admin: link.creatorAdmin }, link.dashboardId);
      if (!dashboard) throw linkNotFound();
      const raw = await viewOf(request, url);
      const { values, ...adhoc } = raw ?? {};
      const viewFor = resolveDeclared(dashboard.filters ?? [], values, checkView(deps.query, ctx.principal, raw ? adhoc : undefined));
      deps.audit?.record({
        tenantId: link.tenantId,
        subject: ctx.principal.subject,
        door: 'link',
        status: 'ok',
        kind: 'read',
        action: 'dashboard_link.open',
        target: link.id,
        after: { dashboardId: dashboard.id, createdBy: link.createdBy },
        clientAddress: ctx.clientAddress ?? null,
        requestId: ctx.requestId,
        userAgent: ctx.userAgent ?? null,
      });
      // Every widget in the same tick: the query service batches them (one statement per row set).
      const widgets = await Promise.all(dashboard.widgets.map((w) => runWidget(deps, ctx, w, viewFor(w))));
      const body = {
        dashboard: { id: dashboard.id, name: dashboard.name, description: dashboard.description, version: dashboard.version },
        expiresAt: link.expiresAt.toISOString(),
        widgets,
      };
      return jsonResponse(200, body, headers);
    } catch (e) {
      const pub = toPublicError(e, { logger: deps.logger, requestId, door: 'link' });
      return jsonResponse(pub.status, jsonErrorBody(pub, requestId, deps.isDev), { ...pub.headers, ...headers });
    }
  };
}

/** The one answer for an unknown, revoked or expired link (which of them is not told). */
export const linkNotFound = () => new UserError('NOT_FOUND', 'no such share link (it may have been revoked or have expired)');

async function viewOf(request: Request, url: URL): Promise<(DashboardView & { values?: FilterValues }) | undefined> {
  let raw: unknown;
  if (request.method === 'POST') {
    const text = await request.text();
    if (text.length > MAX_BODY) throw new UserError('PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY} bytes`);
    raw = text.trim() ? parse(text).view : undefined;
  } else {
    const v = url.searchParams.get('view');
    raw = v ? parse(v) : undefined;
  }
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('BAD_USER_INPUT', 'view must be an object {values, dateRange, filters, compareTo}');
  return raw as DashboardView & { values?: FilterValues };
}

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? v : {};
  } catch {
    throw new UserError('BAD_USER_INPUT', 'the view is not valid JSON');
  }
}

type Widget = { readonly id: string; readonly title: string; readonly query: import('../semantic/query.js').SemanticQuery; readonly display?: unknown };

async function runWidget(deps: LinkDoorDeps, ctx: RequestContext, w: Widget, view: DashboardView | undefined) {
  const shown = { id: w.id, title: w.title, display: w.display ?? null };
  try {
    const applied = applyView(deps.query, ctx.principal, w.query, view);
    const r = await deps.query.load(ctx, applied.query);
    return {
      ...shown,
      columns: r.columns.map((c) => c.key),
      data: r.rows,
      ...(r.comparison ? { comparison: { ...r.comparison, previous: { data: r.comparison.previous.rows } } } : {}),
      lastRefreshTime: r.lastRefreshTime,
      skipped: applied.skipped,
      error: null,
    };
  } catch (e) {
    const pub = toPublicError(e, { logger: deps.logger, requestId: ctx.requestId, door: 'link' });
    // A refusal would name what the link may not read: say only that it may not.
    const error =
      pub.code === 'FORBIDDEN'
        ? { code: 'FORBIDDEN', message: 'this widget needs access the share link does not carry' }
        : { code: pub.code, message: pub.message };
    return { ...shown, data: null, error };
  }
}
