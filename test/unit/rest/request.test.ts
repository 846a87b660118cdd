import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { MAX_BODY_BYTES, parseQueryParam, readParams } from '../../../src/rest/request.js';

const BASE = 'http://localhost/cubejs-api/v1/load';

describe('parseQueryParam', () => {
  it('parses JSON text and passes objects through', () => {
    expect(parseQueryParam('{"measures":["a.b"]}')).toEqual({ measures: ['a.b'] });
    expect(parseQueryParam([{ measures: ['a.b'] }])).toEqual([{ measures: ['a.b'] }]);
  });

  it("refuses a missing query with Cube's message", () => {
    for (const v of [undefined, null, '', 'undefined']) {
      expect(() => parseQueryParam(v)).toThrow(new UserError('BAD_USER_INPUT', 'Query param is required'));
    }
  });

  it('refuses broken JSON with the parser message', () => {
    try {
      parseQueryParam('{"measures":');
      expect.unreachable();
    } catch (e) {
      expect((e as UserError).code).toBe('BAD_USER_INPUT');
      expect((e as UserError).message).toMatch(/^Unable to decode query param as JSON, error: /);
    }
  });
});

describe('readParams', () => {
  it('reads query and queryType from the URL of a GET', async () => {
    const q = JSON.stringify({ measures: ['ad_performance.clicks'] });
    const p = await readParams(new Request(`${BASE}?query=${encodeURIComponent(q)}&queryType=multi&cache=no-cache`));
    expect(p.query).toBe(q);
    expect(p.queryType).toBe('multi');
    expect(p.other).toEqual({ cache: 'no-cache' });
  });

  it('reads the JSON body of a POST (query as an object, as the client sends it)', async () => {
    const body = { query: { measures: ['ad_performance.clicks'] }, queryType: 'multi', cache: 'stale-if-slow' };
    const p = await readParams(new Request(BASE, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));
    expect(p.query).toEqual(body.query);
    expect(p.queryType).toBe('multi');
    expect(p.other).toEqual({ cache: 'stale-if-slow' });
  });

  it('refuses a POST body that is not a JSON object', async () => {
    await expect(readParams(new Request(BASE, { method: 'POST', body: '[1]' }))).rejects.toThrow(/request body must be a JSON object/);
    await expect(readParams(new Request(BASE, { method: 'POST', body: '{oops' }))).rejects.toThrow(/request body is not valid JSON/);
  });

  it('refuses a body larger than the limit', async () => {
    const big = JSON.stringify({ query: { measures: ['x'.repeat(MAX_BODY_BYTES)] } });
    await expect(readParams(new Request(BASE, { method: 'POST', body: big }))).rejects.toThrow(`request body is larger than ${MAX_BODY_BYTES} bytes`);
  });

  it('treats an empty POST body as no parameters', async () => {
    const p = await readParams(new Request(BASE, { method: 'POST', body: '' }));
    expect(p.query).toBeUndefined();
  });
});
