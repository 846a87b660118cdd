/**
 * Where a door finds the caller's credential. Every door accepts the same forms: an
 * Authorization header value "Bearer <JWT or API key>" (any case) or a bare token (Cube's client
 * sends that), and graphql-ws sends the same value in its connection_init payload.
 * Nothing here verifies or logs a credential: that is auth's job.
 */

/**
 * The credential in an Authorization header value. null when absent or empty; other schemes
 * ("Basic ...") are not credentials Strata accepts.
 */
export function credentialFromHeader(headerValue: string | null | undefined): string | null {
  if (typeof headerValue !== 'string') return null;
  const v = headerValue.trim();
  if (v === '') return null;
  const m = /^(\S+)\s+(\S+)$/.exec(v);
  if (m) return m[1].toLowerCase() === 'bearer' ? m[2] : null;
  if (/\s/.test(v) || v.toLowerCase() === 'bearer') return null;
  return v;
}

/** graphql-ws `connection_init` payload: `{authorization: "Bearer …"}` (any case of the key) or `{token: "…"}`. */
export function credentialFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  const raw = params.authorization ?? params.Authorization ?? params.token;
  return typeof raw === 'string' ? credentialFromHeader(raw) : null;
}
