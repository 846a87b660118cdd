/**
 * The HTTP edge shared by every HTTP door: who is calling (credential -> principal, through the
 * authenticator), from where (client-address policy), under which request id, and the JSON error
 * body with its status. A door adds its own parsing and formatting, nothing of this.
 */
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { UnauthenticatedError, UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Door, RequestContext } from '../query/types.js';
import { clientAddressOf, type TrustProxy } from './client-address.js';
import { createRequestContext } from './context.js';
import { credentialFromHeader } from './credentials.js';
import type { PublicError } from './errors.js';
import { requestIdFrom } from './request-id.js';

export interface HttpEdgeOptions {
  readonly authenticator: Authenticator;
  /** Proxies trusted to set x-forwarded-for (config.trustProxy; 0 = none). */
  readonly trustProxy: TrustProxy;
  readonly logger: Logger;
}

/** What the node server knows of a request beyond the WHATWG Request. */
export interface HttpPeer {
  /** The socket's remote address. */
  readonly socketAddress?: string;
}

export const MISSING_CREDENTIAL = 'missing credential: the Authorization header isn\'t set; send "Authorization: Bearer <JWT or API key>"';

/** The request id of an HTTP request (x-request-id when safe), known before authentication. */
export function httpRequestId(request: Request): string {
  return requestIdFrom(request.headers.get('x-request-id'));
}

export function httpClientAddress(request: Request, peer: HttpPeer, trustProxy: TrustProxy): string | undefined {
  return clientAddressOf(request.headers.get('x-forwarded-for'), peer.socketAddress, trustProxy);
}

/** The credential of an HTTP request, or UNAUTHENTICATED (missing, or not a Bearer/bare token). */
export function httpCredential(request: Request): string {
  const header = request.headers.get('authorization');
  if (!header?.trim()) throw new UnauthenticatedError(MISSING_CREDENTIAL);
  const credential = credentialFromHeader(header);
  if (!credential) throw new UnauthenticatedError('the Authorization header must hold "Bearer <token>" or the token itself');
  return credential;
}

/** Authenticate an HTTP request and build its context (throws UNAUTHENTICATED / RATE_LIMITED ...). */
export async function authenticateHttp(
  request: Request,
  door: Door,
  peer: HttpPeer,
  options: HttpEdgeOptions & { readonly requestId?: string },
): Promise<RequestContext> {
  return authenticateHttpCredential(httpCredential(request), request, door, peer, options);
}

/** As authenticateHttp, for a door whose credential is not in the Authorization header (a share link's token in its URL). */
export async function authenticateHttpCredential(
  credential: string,
  request: Request,
  door: Door,
  peer: HttpPeer,
  options: HttpEdgeOptions & { readonly requestId?: string },
): Promise<RequestContext> {
  let principal: Principal;
  try {
    principal = await options.authenticator.authenticate(credential, {
      door,
      requestId: options.requestId,
      clientAddress: httpClientAddress(request, peer, options.trustProxy),
      userAgent: request.headers.get('user-agent')?.slice(0, 256),
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    // Something behind the authenticator failed (not a refusal): the caller's credential may be fine.
    options.logger.error({ requestId: options.requestId, door, err: (e as Error)?.message }, 'authenticator failed');
    throw new UserError('AUTH_UNAVAILABLE', 'authentication is unavailable, retry later', { retryAfterSeconds: 5 });
  }
  return createRequestContext({
    door,
    principal,
    requestId: options.requestId ?? request.headers.get('x-request-id'),
    clientAddress: httpClientAddress(request, peer, options.trustProxy),
    userAgent: request.headers.get('user-agent'),
    signal: request.signal,
  });
}

/** `{error, code, requestId, details?}` — the JSON error body of every non-GraphQL HTTP door. */
export function jsonErrorBody(e: PublicError, requestId: string, dev: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { error: e.message, code: e.code, requestId };
  if (Object.keys(e.details).length) body.details = e.details;
  if (dev && e.internal) {
    body.message = e.internal.message;
    body.stack = e.internal.stack;
  }
  return body;
}

export function jsonResponse(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}
