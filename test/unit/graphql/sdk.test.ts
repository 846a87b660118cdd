/** The generated SDK (src/sdk) speaks to the door: graphql-request over the in-process yoga. */
import { GraphQLClient } from 'graphql-request';
import { describe, expect, it } from 'vitest';
import { getSdk } from '../../../src/sdk/index.js';
import { createHarness } from './harness.js';

describe('generated SDK', () => {
  it('runs a Cube-shaped query and reads the catalog', async () => {
    const h = createHarness();
    const client = new GraphQLClient('http://localhost/graphql', {
      fetch: (input, init) => h.fetch(String(input instanceof Request ? input.url : input), init),
      headers: { authorization: 'Bearer viewer' },
    });
    const sdk = getSdk(client);
    const result = await sdk.RunQuery({ query: { measures: ['campaigns.count'], dimensions: ['campaigns.name'] } });
    expect(h.calls[0].query).toEqual({ measures: ['campaigns.count'], dimensions: ['campaigns.name'] });
    expect(result.query?.data).toEqual([
      { 'campaigns.count': 10, 'campaigns.name': 'name-0' },
      { 'campaigns.count': 20, 'campaigns.name': 'name-1' },
    ]);
    const catalog = await sdk.Catalog();
    expect(catalog.catalog?.cubes.map((c) => c.name)).toContain('campaigns');
  });

  it('surfaces a 401 as an error carrying the code', async () => {
    const h = createHarness();
    const sdk = getSdk(new GraphQLClient('http://localhost/graphql', { fetch: (input, init) => h.fetch(String(input), init) }));
    await expect(sdk.Catalog()).rejects.toMatchObject({ response: { status: 401, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
  });
});
