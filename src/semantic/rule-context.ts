/** What every validation rule receives, and helpers rules share. */
import type { ModelProblem } from '../errors.js';
import type { BuiltCubes } from './build.js';
import type { RawFile, RawObject } from './raw.js';
import { IDENTIFIER } from './yaml-shapes.js';
import type { Snippet } from './walk.js';

export interface RuleContext {
  readonly files: readonly RawFile[];
  readonly rawCubes: readonly RawObject[];
  readonly rawViews: readonly RawObject[];
  /** Names of all cubes (valid identifiers), for template parsing and suggestions. */
  readonly cubeNames: ReadonlySet<string>;
  /** Cubes resolved leniently from the raw objects (first declaration wins). */
  readonly built: BuiltCubes;
  /** Every SQL snippet of the built cubes, parsed. */
  readonly snippets: readonly Snippet[];
}

/** A validation rule: reads the context, returns every problem it finds (never throws). */
export type Rule = (ctx: RuleContext) => ModelProblem[];

export type MemberSection = 'measures' | 'dimensions' | 'segments';
export const MEMBER_SECTIONS: readonly MemberSection[] = ['measures', 'dimensions', 'segments'];
export const SECTION_KIND: Readonly<Record<MemberSection, 'measure' | 'dimension' | 'segment'>> = {
  measures: 'measure',
  dimensions: 'dimension',
  segments: 'segment',
};

/** The cube's name when it is a valid identifier. */
export function cubeName(cube: RawObject): string | undefined {
  const n = cube.str('name');
  return n !== undefined && IDENTIFIER.test(n) ? n : undefined;
}

/** Calls fn for each member object of each cube, with a readable label ("measure ad_performance.clicks"). */
export function forEachMember(ctx: RuleContext, fn: (cube: RawObject, section: MemberSection, member: RawObject, label: string) => void): void {
  for (const cube of ctx.rawCubes) {
    const cn = cube.str('name') ?? '?';
    for (const section of MEMBER_SECTIONS) {
      for (const m of cube.list(section)) {
        fn(cube, section, m, `${SECTION_KIND[section]} "${cn}.${m.str('name') ?? '?'}"`);
      }
    }
  }
}

export function problem(obj: { file: string }, line: number, message: string, suggestion?: string): ModelProblem {
  return suggestion === undefined ? { file: obj.file, line, message } : { file: obj.file, line, message, suggestion };
}
