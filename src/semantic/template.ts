/**
 * Parses a model author's SQL snippet into literal text and references.
 * Recognised references (Cube syntax): {CUBE}, {CUBE.member}, {member}, {cube}, {cube.member},
 * and the JS-style ${CUBE} / ${cube.member}. Text inside SQL string literals is left alone.
 */
import type { SqlPart, SqlTemplate } from './model.js';

export interface TemplateContext {
  /** The cube the snippet belongs to (what {CUBE} and bare {member} mean). */
  readonly cube: string;
  /** Names of all cubes, so {campaigns} is read as a cube reference, not a member. */
  readonly cubeNames: ReadonlySet<string>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class TemplateSyntaxError extends Error {}

const LITERAL_WORDS = new Set(['null', 'true', 'false']);

export function parseSqlTemplate(source: string, ctx: TemplateContext): SqlTemplate {
  // Like Cube, a bare column name (`sql: campaign_id`) means the owning cube's column, so it stays
  // unambiguous when the query joins other cubes that have a column of the same name.
  const bare = source.trim();
  if (IDENT.test(bare) && !LITERAL_WORDS.has(bare.toLowerCase())) {
    return {
      parts: [
        { kind: 'cube', cube: ctx.cube },
        { kind: 'text', text: `.${bare}` },
      ],
      source,
    };
  }
  const parts: SqlPart[] = [];
  let text = '';
  let i = 0;
  const flush = () => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  while (i < source.length) {
    const ch = source[i];
    if (ch === "'") {
      // copy a string literal verbatim (with '' and \' escapes)
      let j = i + 1;
      while (j < source.length) {
        if (source[j] === '\\') j += 2;
        else if (source[j] === "'" && source[j + 1] === "'") j += 2;
        else if (source[j] === "'") break;
        else j++;
      }
      text += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const dollar = ch === '$' && source[i + 1] === '{';
    if (ch === '{' || dollar) {
      const start = dollar ? i + 2 : i + 1;
      const end = source.indexOf('}', start);
      if (end < 0) throw new TemplateSyntaxError(`unclosed "{" in SQL: ${source}`);
      const ref = source.slice(start, end).trim();
      flush();
      parts.push(parseReference(ref, ctx));
      i = end + 1;
      continue;
    }
    text += ch;
    i++;
  }
  flush();
  return { parts, source };
}

function parseReference(ref: string, ctx: TemplateContext): SqlPart {
  const segs = ref.split('.');
  if (segs.length === 0 || segs.length > 2 || !segs.every((s) => IDENT.test(s))) {
    throw new TemplateSyntaxError(`invalid reference "{${ref}}"`);
  }
  if (segs.length === 1) {
    const [name] = segs;
    if (name === 'CUBE' || name === 'TABLE') return { kind: 'cube', cube: ctx.cube };
    if (ctx.cubeNames.has(name)) return { kind: 'cube', cube: name };
    return { kind: 'member', cube: ctx.cube, member: name };
  }
  const [owner, member] = segs;
  return { kind: 'member', cube: owner === 'CUBE' || owner === 'TABLE' ? ctx.cube : owner, member };
}

/** Member references of a template (for dependency checks). */
export function templateMemberRefs(t: SqlTemplate): { cube: string; member: string }[] {
  return t.parts.filter((p): p is Extract<SqlPart, { kind: 'member' }> => p.kind === 'member');
}
