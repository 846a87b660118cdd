import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'strata-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('readModelFiles', () => {
  it('reads *.yml and *.yaml recursively, sorted, with root-relative paths', async () => {
    mkdirSync(path.join(root, 'cube-models/views'), { recursive: true });
    writeFileSync(path.join(root, 'cube-models/z.yml'), 'cubes:\n  - name: z\n    sql_table: z\n    shared: true\n');
    writeFileSync(path.join(root, 'cube-models/a.yaml'), 'cubes: []\n');
    writeFileSync(path.join(root, 'cube-models/views/v.yml'), 'views: []\n');
    writeFileSync(path.join(root, 'cube-models/README.md'), '# not a model\n');
    const files = await readModelFiles('cube-models', root);
    expect(files.map((f) => f.path)).toEqual(['cube-models/a.yaml', 'cube-models/views/v.yml', 'cube-models/z.yml']);
    expect(files[2].text).toContain('name: z');
    expect(Object.keys(loadModel(files).cubes)).toEqual(['z']);
  });

  it('problems name the root-relative path', async () => {
    writeFileSync(path.join(root, 'cube-models/bad.yml'), 'cubes:\n  - name: bad\n    sql_table: bad\n');
    const files = await readModelFiles(path.join(root, 'cube-models'), root);
    expect(() => loadModel(files)).toThrow('cube-models/bad.yml:2: cube bad declares no tenant_column');
  });
});
