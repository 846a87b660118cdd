/** The shared edge: one rule per concern for every door. */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/principal.js';
import { clientAddressOf } from '../../../src/edge/client-address.js';
import { createRequestContext } from '../../../src/edge/context.js';
import { credentialFromConnectionParams, credentialFromHeader } from '../../../src/edge/credentials.js';
import { HTTP_STATUS, publicErrorOf, toPublicError, UNEXPECTED_MESSAGE } from '../../../src/edge/errors.js';
import { authenticateHttp, MISSING_CREDENTIAL } from '../../../src/edge/http.js';
import { requestIdFrom } from '../../../src/edge/request-id.js';
import { EngineError, ForbiddenError, ModelError, UnauthenticatedError, UserError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const principal: Principal = { tenantId: 'acme', scopes: new Set(['metrics:read']), subject: 'u1', via: 'jwt', roles: [] };

describe('request ids', () => {
  it('keeps a short plain client id, replaces anything else with a UUID', () => {
    expect(requestIdFrom('abc-123_span:1.2')).toBe('abc-123_span:1.2');
    for (const bad of ['a b', '<script>', 'x'.repeat(129), '', null, undefined, 'id\nforged log line']) {
      expect(requestIdFrom(bad)).toMatch(UUID);
    }
  });

  it('createRequestContext sanitizes the id and keeps door, principal, address and signal', () => {
    const signal = new AbortController().signal;
    const ctx = createRequestContext({ door: 'rest', principal, requestId: 'bad id', clientAddress: '10.0.0.1', signal });
    expect(ctx.requestId).toMatch(UUID);
    expect(ctx).toMatchObject({ door: 'rest', principal, clientAddress: '10.0.0.1', signal });
    expect(Object.keys(ctx).sort()).toEqual(['clientAddress', 'door', 'principal', 'requestId', 'signal']);
  });
});

describe('credentials', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer sk_live_x', 'sk_live_x'],
    ['BEARER   tok  ', 'tok'],
    ['abc.def.ghi', 'abc.def.ghi'],
    ['  sk_live_x ', 'sk_live_x'],
    ['Basic dXNlcjpwYXNz', null],
    ['Bearer', null],
    ['Bearer a b', null],
    ['', null],
    ['   ', null],
    [null, null],
    [undefined, null],
  ])('header %j -> %j', (header, expected) => {
    expect(credentialFromHeader(header)).toBe(expected);
  });

  it('graphql-ws connection params follow the same rule as the header', () => {
    expect(credentialFromConnectionParams({ authorization: 'Bearer t1' })).toBe('t1');
    expect(credentialFromConnectionParams({ Authorization: 't2' })).toBe('t2');
    expect(credentialFromConnectionParams({ token: 'sk_live_x' })).toBe('sk_live_x');
    expect(credentialFromConnectionParams({ authorization: 'Basic abc' })).toBeNull();
    expect(credentialFromConnectionParams({ authorization: 42 })).toBeNull();
    expect(credentialFromConnectionParams(undefined)).toBeNull();
  });
});

describe('client address', () => {
  it('ignores x-forwarded-for unless proxies are trusted, then counts hops from the right', () => {
    const xff = '198.51.100.1, 203.0.113.7, 10.0.0.1';
    expect(clientAddressOf(xff, '10.0.0.9', 0)).toBe('10.0.0.9');
    expect(clientAddressOf(xff, '10.0.0.9', 1)).toBe('10.0.0.1');
    expect(clientAddressOf(xff, '10.0.0.9', 2)).toBe('203.0.113.7');
    expect(clientAddressOf(xff, '10.0.0.9', 3)).toBe('198.51.100.1');
    expect(clientAddressOf(xff, '10.0.0.9', 9)).toBe('198.51.100.1');
    expect(clientAddressOf(null, '10.0.0.9', 1)).toBe('10.0.0.9');
    expect(clientAddressOf(' , ', '10.0.0.9', 1)).toBe('10.0.0.9');
  });
});

describe('errors', () => {
  it('one status per code', () => {
    expect(HTTP_STATUS).toMatchObject({
      BAD_USER_INPUT: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      RATE_LIMITED: 429,
      QUERY_TIMEOUT: 504,
      ENGINE_UNAVAILABLE: 503,
      AUTH_UNAVAILABLE: 503,
      INTERNAL: 500,
    });
  });

  it('user errors keep message and code; only public details pass', () => {
    const e = new UserError('BAD_USER_INPUT', 'unknown member "a.clik"', { member: 'a.clik', suggestion: 'a.clicks', sql: 'SELECT 1', tenantId: 'globex' });
    expect(publicErrorOf(e)).toMatchObject({
      status: 400,
      code: 'BAD_USER_INPUT',
      message: 'unknown member "a.clik"',
      details: { member: 'a.clik', suggestion: 'a.clicks' },
    });
    expect(publicErrorOf(e)?.details).not.toHaveProperty('sql');
    expect(publicErrorOf(e)?.details).not.toHaveProperty('tenantId');
    expect(publicErrorOf(new ForbiddenError('no', { scopes: ['finance:read'] }))?.status).toBe(403);
  });

  it('rate limits and outages tell when to retry', () => {
    expect(publicErrorOf(new UserError('RATE_LIMITED', 'slow down', { retryAfterMs: 2500 }))?.headers).toEqual({ 'retry-after': '3' });
    expect(publicErrorOf(new EngineError('ENGINE_UNAVAILABLE', 'connect ECONNREFUSED 10.1.2.3:8123'))).toMatchObject({
      status: 503,
      message: 'The query engine is unavailable, try again later',
      headers: { 'retry-after': '5' },
    });
  });

  it('engine text and SQL never reach the client; bugs and model errors are masked', () => {
    const timeout = publicErrorOf(new EngineError('QUERY_TIMEOUT', 'query exceeded the 30000 ms timeout', 'SELECT secret'));
    expect(timeout).toMatchObject({ status: 504, code: 'QUERY_TIMEOUT', message: 'Query timed out' });
    expect(publicErrorOf(new EngineError('ENGINE_ERROR', 'Code: 62. Syntax error', 'SELECT secret'))).toBeUndefined();
    expect(publicErrorOf(new ModelError([{ file: 'a.yml', line: 1, message: 'bad' }]))).toBeUndefined();
    const lines: string[] = [];
    const logger = createLogger('error', { write: (l: string) => void lines.push(l) });
    const masked = toPublicError(new Error('postgres://admin:hunter2@db down'), { logger, requestId: 'r-1', door: 'rest' });
    expect(masked).toMatchObject({ status: 500, code: 'INTERNAL', message: UNEXPECTED_MESSAGE, details: {} });
    expect(lines.join('')).toContain('r-1');
  });
});

describe('HTTP authentication', () => {
  const request = (headers: Record<string, string>) => new Request('http://strata.test/x', { headers });
  const ok = { authenticate: async (c: string) => (c === 'good' ? principal : Promise.reject(new UnauthenticatedError('invalid token'))) };
  const options = { authenticator: ok, trustProxy: 0, logger: createLogger('silent') };

  it('builds the context from the credential, the socket address and the request id', async () => {
    const ctx = await authenticateHttp(
      request({ authorization: 'Bearer good', 'x-request-id': 'req-1', 'x-forwarded-for': '1.2.3.4' }),
      'graphql',
      { socketAddress: '10.0.0.9' },
      options,
    );
    expect(ctx).toMatchObject({ door: 'graphql', principal, requestId: 'req-1', clientAddress: '10.0.0.9' });
  });

  it('a missing or unusable header, or a refused credential, is UNAUTHENTICATED', async () => {
    await expect(authenticateHttp(request({}), 'rest', {}, options)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: MISSING_CREDENTIAL });
    await expect(authenticateHttp(request({ authorization: 'Basic eDp5' }), 'rest', {}, options)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(authenticateHttp(request({ authorization: 'Bearer bad' }), 'rest', {}, options)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'invalid token',
    });
  });

  it('an authenticator failure (key store or identity provider down) is a retryable 503, not a refusal', async () => {
    const down = { authenticate: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const e = await authenticateHttp(request({ authorization: 'good' }), 'rest', {}, { ...options, authenticator: down }).catch((x: unknown) => x);
    expect(publicErrorOf(e)).toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE', headers: { 'retry-after': '5' } });
  });
});
