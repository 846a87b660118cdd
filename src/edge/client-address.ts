/**
 * The client address a door records (audit, logs, rate-limit keys). `x-forwarded-for` is a
 * header anyone can send, so it is honoured only when the operator says a proxy sets it
 * (TRUST_PROXY): otherwise the socket's peer address is the answer.
 */

/**
 * How many proxies in front of Strata append to `x-forwarded-for`: 0 = none (ignore the header),
 * n = take the n-th address from the right (each trusted proxy appends the peer it saw).
 */
export type TrustProxy = number;

export function clientAddressOf(forwardedFor: string | null | undefined, socketAddress: string | undefined, trustProxy: TrustProxy): string | undefined {
  if (trustProxy <= 0 || !forwardedFor) return socketAddress;
  const hops = forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return socketAddress;
  // Fewer hops than trusted proxies: the leftmost is the farthest address any trusted proxy saw.
  return hops[Math.max(0, hops.length - trustProxy)];
}
