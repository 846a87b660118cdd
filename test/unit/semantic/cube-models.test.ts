import { describe, expect, it } from 'vitest';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';

describe('the marketing models in cube-models/', () => {
  it('load without problems, every cube declaring its tenant scope', async () => {
    const files = await readModelFiles('cube-models');
    expect(files.length).toBeGreaterThan(0);
    const model = loadModel(files);
    for (const cube of Object.values(model.cubes)) {
      expect(cube.tenant.kind === 'shared' || cube.tenant.column.length > 0).toBe(true);
    }
  });
});
