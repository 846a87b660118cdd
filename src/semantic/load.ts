/**
 * loadModel: model files (path + YAML text) -> validated, resolved, frozen Model.
 * Parses every file, builds cubes and views leniently, runs every rule, and throws one
 * ModelError listing all problems (file:line, suggestion) when there is any.
 */
import { ModelError, type ModelProblem } from '../errors.js';
import { buildCubes, buildViews } from './build.js';
import type { Model } from './model.js';
import { parseModelFiles } from './raw.js';
import type { RuleContext } from './rule-context.js';
import { RULES } from './rules/all.js';
import { IDENTIFIER } from './yaml-shapes.js';
import { collectSnippets } from './walk.js';

export interface ModelFile {
  /** Path shown in problems, relative to the repo root, e.g. "cube-models/ad_performance.yml". */
  readonly path: string;
  readonly text: string;
}

/** Every problem in the files, sorted by file and line; empty when the model is valid. */
export function validateModel(files: readonly ModelFile[]): { model: Model; problems: ModelProblem[] } {
  const parsed = parseModelFiles(files);
  const rawCubes = parsed.files.flatMap((f) => f.cubes);
  const rawViews = parsed.files.flatMap((f) => f.views);
  const cubeNames = new Set(rawCubes.map((c) => c.str('name')).filter((n): n is string => n !== undefined && IDENTIFIER.test(n)));
  const built = buildCubes(rawCubes, cubeNames);
  const snippets = [...built.raws].flatMap(([name, raw]) => collectSnippets(raw, name, cubeNames));
  const ctx: RuleContext = { files: parsed.files, rawCubes, rawViews, cubeNames, built, snippets };
  const problems = [...parsed.problems, ...RULES.flatMap((rule) => rule(ctx))];
  const model: Model = { cubes: built.cubes, views: buildViews(rawViews, built) };
  return { model, problems: sortUnique(problems) };
}

export function loadModel(files: readonly ModelFile[]): Model {
  const { model, problems } = validateModel(files);
  if (problems.length > 0) throw new ModelError(problems);
  return deepFreeze(model);
}

function sortUnique(problems: ModelProblem[]): ModelProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.file}\0${p.line}\0${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
