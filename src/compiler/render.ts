/**
 * Model snippets (pre-parsed SqlTemplates) -> plan expressions. References are resolved against
 * the model only: {CUBE}/{cube} become a table alias chosen by the planner, {cube.member} the
 * member's own expression. Nothing here sees user input.
 */
import { UserError, invariant } from '../errors.js';
import type { Dimension, Measure, Member, Model, Segment, SqlTemplate } from '../semantic/model.js';
import { templateMemberRefs } from '../semantic/template.js';
import { NULL, and, ident, literal, raw, type Expr } from './plan-tree.js';

export interface RenderScope {
  readonly model: Model;
  /** The alias under which a cube's columns are visible here (throws when they are not). */
  alias(cube: string): string;
  /** How a measure referenced by a number measure is rendered (absent: references are illegal). */
  readonly measureRef?: (measure: Measure) => Expr;
}

const MAX_DEPTH = 32;

function lookup(model: Model, cube: string, name: string): Member {
  const c = model.cubes[cube];
  invariant(c, `template references unknown cube ${cube}`);
  const m = c.measures[name] ?? c.dimensions[name] ?? c.segments[name];
  invariant(m, `template references unknown member ${cube}.${name}`);
  return m;
}

export function renderTemplate(t: SqlTemplate, scope: RenderScope, depth = 0): Expr {
  invariant(depth < MAX_DEPTH, `member references nest deeper than ${MAX_DEPTH} (cycle?) in "${t.source}"`);
  const parts = t.parts.map((p): Expr => {
    switch (p.kind) {
      case 'text':
        return raw(p.text);
      case 'cube':
        return ident(scope.alias(p.cube));
      case 'member': {
        const m = lookup(scope.model, p.cube, p.member);
        if (m.kind === 'measure') {
          if (!scope.measureRef) throw new Error(`invariant failed: measure ${m.path} referenced outside a number measure ("${t.source}")`);
          return scope.measureRef(m);
        }
        return m.kind === 'dimension' ? renderDimension(m, scope, depth + 1) : renderSegment(m, scope, depth + 1);
      }
    }
    return invariantNever(p);
  });
  return parts.length === 1 && parts[0].kind !== 'raw' ? parts[0] : { kind: 'template', parts };
}

export function renderDimension(d: Dimension, scope: RenderScope, depth = 0): Expr {
  if (d.case) {
    return {
      kind: 'multiIf',
      branches: d.case.when.map((w) => ({ when: renderTemplate(w.sql, scope, depth + 1), then: literal(w.label) })),
      otherwise: d.case.else === undefined ? NULL : literal(d.case.else),
    };
  }
  invariant(d.sql, `dimension ${d.path} has no sql`);
  return renderTemplate(d.sql, scope, depth + 1);
}

export function renderSegment(s: Segment, scope: RenderScope, depth = 0): Expr {
  return renderTemplate(s.sql, scope, depth + 1);
}

/** The AND of a measure's own filters (undefined when it has none). */
export function renderMeasureFilters(m: Measure, scope: RenderScope): Expr | undefined {
  return and(...m.filters.map((f) => renderTemplate(f, scope)));
}

/** A number measure that computes over other measures (rather than aggregating columns itself). */
export function isDerived(model: Model, m: Measure): boolean {
  return m.type === 'number' && !!m.sql && templateMemberRefs(m.sql).some((r) => model.cubes[r.cube]?.measures[r.member] !== undefined);
}

/** Measures a derived measure references (one level). */
export function referencedMeasures(model: Model, m: Measure): Measure[] {
  if (!m.sql) return [];
  return templateMemberRefs(m.sql)
    .map((r) => model.cubes[r.cube]?.measures[r.member])
    .filter((x): x is Measure => x !== undefined);
}

/** Every cube a member's SQL reads, following member references. */
export function cubesReferenced(model: Model, member: Member): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (m: Member, depth: number) => {
    if (seen.has(m.path)) return;
    invariant(depth < MAX_DEPTH, `member references nest too deep at ${m.path}`);
    seen.add(m.path);
    out.add(m.cube);
    const templates: SqlTemplate[] = [];
    if (m.kind === 'dimension') {
      if (m.sql) templates.push(m.sql);
      for (const w of m.case?.when ?? []) templates.push(w.sql);
    } else if (m.kind === 'measure') {
      if (m.sql) templates.push(m.sql);
      templates.push(...m.filters);
    } else templates.push(m.sql);
    for (const t of templates) {
      for (const p of t.parts) {
        if (p.kind === 'cube') out.add(p.cube);
        if (p.kind === 'member') visit(lookup(model, p.cube, p.member), depth + 1);
      }
    }
  };
  visit(member, 0);
  return out;
}

/** A scope that exposes only some cubes; other references are a user-facing error. */
export function restrictedScope(
  model: Model,
  allowed: ReadonlyMap<string, string>,
  why: (cube: string) => string,
  measureRef?: (m: Measure) => Expr,
): RenderScope {
  return {
    model,
    measureRef,
    alias(cube) {
      const a = allowed.get(cube);
      if (a === undefined) throw new UserError('BAD_USER_INPUT', why(cube));
      return a;
    },
  };
}

/** Exhaustiveness: a new template part kind fails the build here until handled. */
function invariantNever(p: never): never {
  throw new Error(`invariant failed: unknown template part ${JSON.stringify(p)}`);
}
