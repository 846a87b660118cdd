/** Enumerates the raw objects of a file with their schema kind, and every SQL snippet. */
import type { MeasureType, SqlTemplate } from './model.js';
import type { RawFile, RawObject } from './raw.js';
import type { ObjectKind } from './yaml-shapes.js';
import { parseSqlTemplate, TemplateSyntaxError } from './template.js';

export interface RawEntry {
  readonly kind: ObjectKind;
  readonly obj: RawObject;
  /** Human label for messages, e.g. `measure "ad_performance.clicks"`. */
  readonly label: string;
}

export function* walkObjects(file: RawFile): Generator<RawEntry> {
  if (file.root) yield { kind: 'root', obj: file.root, label: 'the file' };
  for (const cube of file.cubes) {
    const cn = cube.str('name') ?? '?';
    yield { kind: 'cube', obj: cube, label: `cube "${cn}"` };
    const rk = cube.map('refresh_key');
    if (rk) yield { kind: 'refresh_key', obj: rk, label: `refresh_key of cube "${cn}"` };
    for (const j of cube.list('joins')) yield { kind: 'join', obj: j, label: `join "${cn}" -> "${j.str('name') ?? '?'}"` };
    for (const m of cube.list('measures')) {
      const label = `measure "${cn}.${m.str('name') ?? '?'}"`;
      yield { kind: 'measure', obj: m, label };
      const rw = m.map('rolling_window');
      if (rw) yield { kind: 'rolling_window', obj: rw, label: `rolling_window of ${label}` };
      for (const f of m.list('filters')) yield { kind: 'measure_filter', obj: f, label: `filter of ${label}` };
    }
    for (const d of cube.list('dimensions')) {
      const label = `dimension "${cn}.${d.str('name') ?? '?'}"`;
      yield { kind: 'dimension', obj: d, label };
      const c = d.map('case');
      if (c) {
        yield { kind: 'case', obj: c, label: `case of ${label}` };
        for (const w of c.list('when')) yield { kind: 'case_when', obj: w, label: `case when of ${label}` };
        const e = c.map('else');
        if (e) yield { kind: 'case_else', obj: e, label: `case else of ${label}` };
      }
      for (const g of d.list('granularities')) yield { kind: 'granularity', obj: g, label: `granularity "${g.str('name') ?? '?'}" of ${label}` };
    }
    for (const s of cube.list('segments')) yield { kind: 'segment', obj: s, label: `segment "${cn}.${s.str('name') ?? '?'}"` };
    for (const p of cube.list('pre_aggregations')) {
      const label = `pre_aggregation "${cn}.${p.str('name') ?? '?'}"`;
      yield { kind: 'pre_aggregation', obj: p, label };
      const prk = p.map('refresh_key');
      if (prk) yield { kind: 'refresh_key', obj: prk, label: `refresh_key of ${label}` };
    }
  }
  for (const view of file.views) {
    const vn = view.str('name') ?? '?';
    yield { kind: 'view', obj: view, label: `view "${vn}"` };
    for (const vc of view.list('cubes')) {
      const label = `view "${vn}" entry "${vc.str('join_path') ?? '?'}"`;
      yield { kind: 'view_cube', obj: vc, label };
      for (const inc of vc.list('includes')) yield { kind: 'view_include', obj: inc, label: `include "${inc.str('name') ?? '?'}" of ${label}` };
    }
  }
}

/** Where a SQL snippet sits, which decides which references it may make. */
export type SnippetOwner =
  | { readonly kind: 'cube' }
  | { readonly kind: 'refresh_key' }
  | { readonly kind: 'join'; readonly target: string }
  | { readonly kind: 'measure'; readonly member: string; readonly type?: MeasureType | string }
  | { readonly kind: 'measure_filter'; readonly member: string }
  | { readonly kind: 'dimension'; readonly member: string }
  | { readonly kind: 'case'; readonly member: string }
  | { readonly kind: 'segment'; readonly member: string };

export interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly cube: string;
  readonly owner: SnippetOwner;
  readonly source: string;
  /** Absent when the snippet does not parse (see `error`). */
  readonly template?: SqlTemplate;
  readonly error?: string;
}

/** SQL text from a field: strings as-is, numbers (`sql: 1`) as their text. */
export function sqlText(obj: RawObject, key: string): string | undefined {
  const v = obj.get(key)?.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function parseSnippet(source: string, cube: string, cubeNames: ReadonlySet<string>): { template?: SqlTemplate; error?: string } {
  try {
    return { template: parseSqlTemplate(source, { cube, cubeNames }) };
  } catch (e) {
    if (e instanceof TemplateSyntaxError) return { error: e.message };
    throw e;
  }
}

export function collectSnippets(cube: RawObject, cubeName: string, cubeNames: ReadonlySet<string>): Snippet[] {
  const out: Snippet[] = [];
  const add = (obj: RawObject, key: string, owner: SnippetOwner) => {
    const source = sqlText(obj, key);
    if (source === undefined) return;
    out.push({ file: obj.file, line: obj.lineOf(key), cube: cubeName, owner, source, ...parseSnippet(source, cubeName, cubeNames) });
  };
  add(cube, 'sql', { kind: 'cube' });
  const rk = cube.map('refresh_key');
  if (rk) add(rk, 'sql', { kind: 'refresh_key' });
  for (const j of cube.list('joins')) add(j, 'sql', { kind: 'join', target: j.str('name') ?? '' });
  for (const m of cube.list('measures')) {
    const member = m.str('name') ?? '';
    add(m, 'sql', { kind: 'measure', member, type: m.str('type') });
    for (const f of m.list('filters')) add(f, 'sql', { kind: 'measure_filter', member });
  }
  for (const d of cube.list('dimensions')) {
    const member = d.str('name') ?? '';
    add(d, 'sql', { kind: 'dimension', member });
    for (const w of d.map('case')?.list('when') ?? []) add(w, 'sql', { kind: 'case', member });
  }
  for (const s of cube.list('segments')) add(s, 'sql', { kind: 'segment', member: s.str('name') ?? '' });
  return out;
}

/** "measure \"cube.m\"", "join \"a\" -> \"b\"", ... for messages. */
export function describeOwner(cube: string, owner: SnippetOwner): string {
  switch (owner.kind) {
    case 'cube':
      return `sql of cube "${cube}"`;
    case 'refresh_key':
      return `refresh_key of cube "${cube}"`;
    case 'join':
      return `join "${cube}" -> "${owner.target}"`;
    case 'measure':
      return `measure "${cube}.${owner.member}"`;
    case 'measure_filter':
      return `filter of measure "${cube}.${owner.member}"`;
    case 'dimension':
      return `dimension "${cube}.${owner.member}"`;
    case 'case':
      return `case of dimension "${cube}.${owner.member}"`;
    case 'segment':
      return `segment "${cube}.${owner.member}"`;
  }
}
