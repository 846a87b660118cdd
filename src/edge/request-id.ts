/** One request id rule for every door: a client's id is kept only when it is a short plain token. */
import { randomUUID } from 'node:crypto';

/** Letters, digits and `._:-`, at most 128: it lands in logs, headers and the audit trail. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is safe to echo and log, else a fresh UUID. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}
