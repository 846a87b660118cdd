import { ModelError } from '../../../src/errors.js';
import { loadModel, validateModel, type ModelFile } from '../../../src/semantic/load.js';

/** Problems as "file:line: message [-> suggestion]" lines, for readable assertions. */
export function problems(...files: (string | ModelFile)[]): string[] {
  const list = files.map((f, i) => (typeof f === 'string' ? { path: `m${i + 1}.yml`, text: f } : f));
  return validateModel(list).problems.map((p) => `${p.file}:${p.line}: ${p.message}${p.suggestion ? ` -> ${p.suggestion}` : ''}`);
}

export function load(...texts: string[]) {
  return loadModel(texts.map((text, i) => ({ path: `m${i + 1}.yml`, text })));
}

export function loadError(...texts: string[]): ModelError {
  try {
    load(...texts);
  } catch (e) {
    if (e instanceof ModelError) return e;
    throw e;
  }
  throw new Error('expected a ModelError');
}

/** A valid shared cube to pad files with. */
export const CHANNELS = `cubes:
  - name: channels
    sql_table: channels
    shared: true
    dimensions:
      - name: code
        type: string
        sql: code
        primary_key: true
`;
