/** The generated SDL: snapshot of the fixture, determinism, scope directives, and drift of schema/. */
import { readFileSync } from 'node:fs';
import { buildSchema as buildFromSdl } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printStrataSchema } from '../../../src/graphql/print.js';
import { printOnlyExtensions } from '../../../src/schema-extensions.js';
import { buildSchema } from '../../../src/graphql/build-schema.js';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';
import type { Model } from '../../../src/semantic/model.js';
import { FIXTURE_YAML, fixtureModel } from './fixture-model.js';

const modelFiles = await readModelFiles('cube-models');

describe('generated schema', () => {
  it('matches the SDL snapshot of the fixture model', async () => {
    await expect(printStrataSchema(fixtureModel())).toMatchFileSnapshot('./__snapshots__/fixture-schema.graphql');
  });

  it('is deterministic: the order cubes and views were loaded in does not matter', () => {
    const m = fixtureModel();
    const reversed: Model = {
      cubes: Object.fromEntries(Object.entries(m.cubes).reverse()),
      views: Object.fromEntries(Object.entries(m.views).reverse()),
    };
    expect(printStrataSchema(reversed)).toBe(printStrataSchema(m));
  });

  it('prints member scopes as @requiresScopes and is valid SDL for codegen', () => {
    const sdl = printStrataSchema(fixtureModel());
    expect(sdl).toContain('spend: Float @requiresScopes(scopes: ["finance:read"])');
    expect(sdl).toContain('budget: Float @requiresScopes(scopes: ["finance:read"])');
    expect(sdl).toMatch(/adPerformance\([\s\S]*?\): \[AdPerformanceRow!\] @requiresScopes\(scopes: \["metrics:read"\]\)/);
    // No field or argument can name a tenant, and non-public members are absent.
    expect(sdl).not.toMatch(/internalCost|\btenant\w*\s*[:(]/i);
    const reparsed = buildFromSdl(sdl);
    expect(Object.keys(reparsed.getQueryType()!.getFields())).toEqual(['adPerformance', 'campaigns', 'marketingOverview', 'query', 'catalog']);
  });

  it('refuses a model whose names collide after camel-casing, naming both members', () => {
    const yaml = FIXTURE_YAML.replace('      - name: is_video\n', '      - name: isVideo\n        type: string\n        sql: x\n      - name: is_video\n');
    const model = loadModel([{ path: 'cube-models/fixture.yml', text: yaml }]);
    expect(() => buildSchema(model)).toThrow(
      'GraphQL name collision in cube "ad_performance": "ad_performance.is_video" and "ad_performance.isVideo" both map to "isVideo"; rename one of them in the model',
    );
  });

  it('leaves room for mutations added by other modules', () => {
    const schema = buildSchema(fixtureModel(), {
      extensions: [
        {
          mutations: (builder) =>
            builder.mutationField('ping', (t) =>
              t.string({ authScopes: { allOf: ['keys:admin'] }, extensions: { requiresScopes: ['keys:admin'] }, resolve: () => 'pong' }),
            ),
        },
      ],
    });
    expect(Object.keys(schema.getMutationType()!.getFields())).toEqual(['ping']);
    expect(buildSchema(fixtureModel()).getMutationType()).toBeUndefined();
  });

  it('schema/schema.graphql is up to date with cube-models/ and every extension (run `npm run print-schema`, then `npm run codegen`)', () => {
    expect(modelFiles.length).toBeGreaterThan(0);
    const model = loadModel(modelFiles);
    expect(readFileSync('schema/schema.graphql', 'utf8')).toBe(printStrataSchema(model, printOnlyExtensions(model)));
  });
});
