/**
 * Reading a Cube REST request: the same parameters arrive in the URL (GET) or in a JSON body
 * (POST, which @cubejs-client/core switches to once the URL would pass ~2000 characters).
 */
import { assertJsonTextDepth } from '../edge/input-bounds.js';
import { UserError } from '../errors.js';

/** Bodies larger than this are refused before parsing (a query is a few KB at most). */
export const MAX_BODY_BYTES = 1_000_000;

export interface RestParams {
  /** The `query` parameter, parsed from JSON when it arrived as text. */
  readonly query: unknown;
  /** "multi" when the client understands the multi-result envelope. */
  readonly queryType?: string;
  /** Every other parameter as sent (`onlyViews`, `cache`...), values as strings or JSON. */
  readonly other: Readonly<Record<string, unknown>>;
}

/** Cube's rule: `query` may be a JSON string (GET, or a POST that stringified it) or already an object. */
export function parseQueryParam(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '' || raw === 'undefined') {
    throw new UserError('BAD_USER_INPUT', 'Query param is required');
  }
  if (typeof raw !== 'string') return raw;
  assertJsonTextDepth(raw, 'the query');
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `Unable to decode query param as JSON, error: ${(e as Error).message}`);
  }
}

export async function readParams(request: Request): Promise<RestParams> {
  if (request.method === 'GET' || request.method === 'HEAD') {
    const url = new URL(request.url);
    const other: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) if (k !== 'query' && k !== 'queryType') other[k] = v;
    return { query: url.searchParams.get('query') ?? undefined, queryType: url.searchParams.get('queryType') ?? undefined, other };
  }
  const body = await readJsonBody(request);
  const { query, queryType, ...other } = body;
  return { query, queryType: typeof queryType === 'string' ? queryType : undefined, other };
}

async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new UserError('BAD_USER_INPUT', `request body is larger than ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new UserError('BAD_USER_INPUT', `request body is larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') return {};
  assertJsonTextDepth(text, 'the request body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError('BAD_USER_INPUT', `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError('BAD_USER_INPUT', 'request body must be a JSON object such as {"query": {...}}');
  }
  return parsed as Record<string, unknown>;
}
