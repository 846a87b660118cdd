/**
 * Webhooks: a JSON POST signed with the tenant's secret (HMAC-SHA-256 over "<timestamp>.<body>",
 * header `x-strata-signature: t=<unix seconds>,v1=<hex>`), retried with exponential backoff on a
 * network error or a 5xx / 429 answer. `x-strata-delivery` is the same on every retry and attempt
 * of one run, so a receiver can drop duplicates. The host is resolved once per delivery, every
 * address checked, and the connection made to those addresses only (no second lookup to rebind).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface WebhookDelivery {
  readonly url: string;
  readonly secret: string;
  readonly deliveryId: string;
  readonly payload: unknown;
}

export interface WebhookOptions {
  readonly attempts: number;
  readonly retryBaseMs: number;
  readonly timeoutMs: number;
  /** Deliver to loopback / private / link-local addresses too (WEBHOOK_ALLOW_PRIVATE; tests, trusted networks). */
  readonly allowPrivate?: boolean;
  readonly signal?: AbortSignal;
  /** Name resolution (default: the system's); called once per delivery, its answer pinned. */
  readonly resolve?: WebhookResolver;
}

/** Where a tenant's webhook must not go: this host, private networks, link-local (cloud metadata), unspecified. */
const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv6');

/** An address a webhook may not reach (IPv4-mapped IPv6 checked as IPv4). */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1], 'ipv4');
  const family = isIP(address);
  return family === 4 ? INTERNAL.check(address, 'ipv4') : family === 6 ? INTERNAL.check(address, 'ipv6') : true;
}

/** How a host name becomes addresses (injectable: tests play a rebinding resolver). */
export type WebhookResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

const systemResolver: WebhookResolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Resolves the host once and checks every address (unless private ones are allowed). The request
 * then connects to exactly these addresses (pinnedLookup): a name that resolves to a public address
 * for the check and to an internal one for the connection (DNS rebinding) never reaches the second.
 */
export async function resolveWebhookHost(url: string, allowPrivate: boolean, resolve: WebhookResolver = systemResolver): Promise<ResolvedAddress[]> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  const addresses = family ? [{ address: host, family }] : [...(await resolve(host))];
  if (addresses.length === 0) throw new Error(`webhook host ${host} does not resolve`);
  const internal = allowPrivate ? undefined : addresses.find((a) => isInternalAddress(a.address));
  if (internal !== undefined) throw new Error(`webhook host ${host} resolves to an internal address (${internal.address}); refused`);
  return addresses;
}

/** A `lookup` for net.connect that answers the addresses resolved and checked before, never the resolver again. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    const list = wanted.length > 0 ? wanted : addresses;
    if (options.all)
      (callback as (e: null, a: LookupAddress[]) => void)(
        null,
        list.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, list[0].address, list[0].family);
  };
}

/**
 * One POST over node:http(s) connected to the pinned addresses. The URL's host name stays the
 * Host header and the TLS server name (SNI, certificate check): only the address lookup is pinned.
 */
function post(url: URL, addresses: readonly ResolvedAddress[], headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal, lookup: pinnedLookup(addresses), agent: false },
      (res) => {
        res.resume(); // the answer's body is not read
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute the HMAC and compare in constant time (tolerance in seconds). */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signPayload(secret, t, body).split('v1=')[1], 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length > 2_000) throw new Error('a webhook url is an http(s) URL');
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('a webhook url is an http(s) URL');
  return u.toString();
}

export async function deliverWebhook(d: WebhookDelivery, o: WebhookOptions): Promise<{ status: number; attempts: number }> {
  const url = new URL(d.url);
  const addresses = await resolveWebhookHost(d.url, o.allowPrivate === true, o.resolve);
  const body = JSON.stringify(d.payload);
  let last = '';
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    if (attempt > 1) await sleep(o.retryBaseMs * 2 ** (attempt - 2), o.signal);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const headers = { 'content-type': 'application/json', 'x-strata-signature': signPayload(d.secret, timestamp, body), 'x-strata-delivery': d.deliveryId };
      const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs);
      const status = await post(url, addresses, headers, body, signal);
      if (status >= 200 && status < 300) return { status, attempts: attempt };
      last = `HTTP ${status}`;
      if (status < 500 && status !== 429) break; // the receiver refuses it (or redirects, never followed): retrying will not help
    } catch (e) {
      if (o.signal?.aborted) throw e;
      last = (e as Error).message;
    }
  }
  throw new Error(`webhook ${url.host} failed: ${last}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
