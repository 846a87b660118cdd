/**
 * The parsed-but-unvalidated form of model files: YAML nodes wrapped so every field keeps the
 * line it came from. Rules read this; the builder turns it into the resolved Model.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ModelProblem } from '../errors.js';

export interface RawField {
  readonly key: string;
  /** The plain JS value (scalars unwrapped, collections converted). */
  readonly value: unknown;
  /** Line of the value (or of the key when the value is empty). */
  readonly line: number;
  /** Line of the key itself, for unknown-key problems. */
  readonly keyLine: number;
  readonly node: Node | null;
}

/** A YAML mapping with located fields. */
export class RawObject {
  readonly fields: ReadonlyMap<string, RawField>;
  constructor(
    readonly file: string,
    readonly line: number,
    fields: Map<string, RawField>,
    private readonly src: SourceFile,
  ) {
    this.fields = fields;
  }

  get(key: string): RawField | undefined {
    return this.fields.get(key);
  }

  has(key: string): boolean {
    return this.fields.has(key);
  }

  /** The field's value when it is a string. */
  str(key: string): string | undefined {
    const v = this.fields.get(key)?.value;
    return typeof v === 'string' ? v : undefined;
  }

  bool(key: string): boolean | undefined {
    const v = this.fields.get(key)?.value;
    return typeof v === 'boolean' ? v : undefined;
  }

  /** Line of the field's value, or of this object when absent. */
  lineOf(key: string): number {
    return this.fields.get(key)?.line ?? this.line;
  }

  /** A nested mapping (e.g. refresh_key), or undefined when absent or not a mapping. */
  map(key: string): RawObject | undefined {
    const node = this.fields.get(key)?.node;
    const resolved = node ? this.src.resolve(node) : undefined;
    return resolved && isMap(resolved) ? this.src.wrap(resolved) : undefined;
  }

  /** The mapping items of a nested list (e.g. measures); non-mapping items are skipped. */
  list(key: string): RawObject[] {
    return this.items(key).filter((i): i is RawObject => i instanceof RawObject);
  }

  /** Every item of a nested list: a RawObject for mappings, a located scalar otherwise. */
  items(key: string): (RawObject | RawScalar)[] {
    const node = this.fields.get(key)?.node;
    const seq = node ? this.src.resolve(node) : undefined;
    if (!seq || !isSeq(seq)) return [];
    return seq.items.map((item) => {
      const n = this.src.resolve(item as Node);
      if (n && isMap(n)) return this.src.wrap(n);
      return { value: n ? this.src.toJS(n) : null, line: this.src.lineOfNode(n, this.line), file: this.file };
    });
  }
}

export interface RawScalar {
  readonly value: unknown;
  readonly line: number;
  readonly file: string;
}

export interface RawFile {
  readonly path: string;
  readonly cubes: readonly RawObject[];
  readonly views: readonly RawObject[];
  /** Top-level keys other than cubes/views (reported by the unknown-keys rule). */
  readonly root?: RawObject;
}

/** One parsed file: the YAML document plus line lookup. */
class SourceFile {
  readonly lineCounter = new LineCounter();
  readonly doc: Document;
  constructor(
    readonly path: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false });
  }

  line(offset: number): number {
    return this.lineCounter.linePos(offset).line;
  }

  lineOfNode(node: Node | null | undefined, fallback: number): number {
    return node?.range ? this.line(node.range[0]) : fallback;
  }

  resolve(node: unknown): Node | undefined {
    if (isAlias(node)) return node.resolve(this.doc) as Node | undefined;
    return (node ?? undefined) as Node | undefined;
  }

  toJS(node: Node): unknown {
    if (isScalar(node)) return node.value;
    return node.toJS(this.doc);
  }

  wrap(map: Node): RawObject {
    const fields = new Map<string, RawField>();
    const line = this.lineOfNode(map, 1);
    if (isMap(map)) {
      for (const pair of map.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyLine = this.lineOfNode(keyNode, line);
        const valueNode = this.resolve(pair.value);
        fields.set(key, {
          key,
          value: valueNode ? this.toJS(valueNode) : null,
          line: this.lineOfNode(valueNode, keyLine),
          keyLine,
          node: valueNode ?? null,
        });
      }
    }
    return new RawObject(this.path, line, fields, this);
  }
}

/** Parse every file; YAML syntax errors become problems and that file is skipped. */
export function parseModelFiles(files: readonly { path: string; text: string }[]): {
  files: RawFile[];
  problems: ModelProblem[];
} {
  const out: RawFile[] = [];
  const problems: ModelProblem[] = [];
  for (const f of files) {
    const src = new SourceFile(f.path, f.text);
    if (src.doc.errors.length > 0) {
      for (const e of src.doc.errors) {
        problems.push({ file: f.path, line: src.line(e.pos[0]), message: `YAML syntax error: ${firstLine(e.message)}` });
      }
      continue;
    }
    const contents = src.doc.contents as Node | null;
    if (contents === null || (isScalar(contents) && contents.value === null)) {
      out.push({ path: f.path, cubes: [], views: [] });
      continue;
    }
    if (!isMap(contents)) {
      problems.push({ file: f.path, line: src.lineOfNode(contents, 1), message: 'a model file must be a mapping with `cubes:` and/or `views:`' });
      continue;
    }
    const root = src.wrap(contents);
    out.push({ path: f.path, cubes: root.list('cubes'), views: root.list('views'), root });
  }
  return { files: out, problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}
