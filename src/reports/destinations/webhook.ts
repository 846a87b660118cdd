/**
 * Webhooks: a JSON POST signed with the tenant's secret (HMAC-SHA-256 over "<timestamp>.<body>",
 * header `x-strata-signature: t=<unix seconds>,v1=<hex>`), retried with exponential backoff on a
 * network error or a 5xx / 429 answer. `x-strata-delivery` is the same on every retry and attempt
 * of one run, so a receiver can drop duplicates.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

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

/** Refuses a URL whose host is, or resolves to, an internal address (checked at delivery time). */
async function assertPublicHost(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  const internal = addresses.find(isInternalAddress);
  if (internal !== undefined) throw new Error(`webhook host ${host} resolves to an internal address (${internal}); refused`);
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
  if (!o.allowPrivate) await assertPublicHost(d.url);
  const body = JSON.stringify(d.payload);
  let last = '';
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    if (attempt > 1) await sleep(o.retryBaseMs * 2 ** (attempt - 2), o.signal);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-strata-signature': signPayload(d.secret, timestamp, body), 'x-strata-delivery': d.deliveryId },
        body,
        redirect: 'manual',
        signal: o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { status: res.status, attempts: attempt };
      last = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break; // the receiver refuses it: retrying will not help
    } catch (e) {
      if (o.signal?.aborted) throw e;
      last = (e as Error).message;
    }
  }
  throw new Error(`webhook ${new URL(d.url).host} failed: ${last}`);
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
