/**
 * Names in FROM scope: column references -> what they stand for, `*` expansion, and the cubes a
 * scope reads (for COUNT(*) and the measures' merge rules).
 */
import type { CatalogCube, CatalogMember } from '../../../query/types.js';
import { suggest } from '../../../semantic/suggest.js';
import { SqlError, SQLSTATE } from '../../sql-error.js';
import { strings } from '../ast.js';
import { memberOid } from '../columns.js';
import { type Ctx, type MeasureItem, nodeAs, type PgNode, type Raw, type ScopeEntry } from './state.js';

/** Thrown for a column the caller cannot see; the door may probe whether it exists but is forbidden. */
export class UnknownColumnError extends SqlError {
  constructor(
    message: string,
    position: number | undefined,
    /** "cube.column" when the table is known. */
    readonly memberPath: string | undefined,
    hint?: string,
  ) {
    super(SQLSTATE.UNDEFINED_COLUMN, message, position, 'ERROR', hint);
  }
}

/** True for `*` or `t.*` (a ColumnRef whose last field is A_Star). */
export function isStar(node: PgNode | undefined): boolean {
  const ref = nodeAs(node, 'ColumnRef');
  return !!ref && strings(ref.fields).at(-1) === '*';
}

/** `*` or `t.*`: every column of the scope (or of one entry), in table order. */
export function star(ctx: Ctx, ref: PgNode, scope: ScopeEntry[]): { name: string; raw: Raw }[] {
  const fields = strings(nodeAs(ref, 'ColumnRef')!.fields);
  const entries = fields.length > 1 ? [entry(ctx, fields.slice(0, -1), scope, ref)] : scope;
  return entries.flatMap((e) => e.order.map((name) => ({ name, raw: e.columns.get(name)! })));
}

function entry(ctx: Ctx, qual: string[], scope: ScopeEntry[], node: PgNode): ScopeEntry {
  const table = qual.at(-1)!;
  const schema = qual.length > 1 ? qual.at(-2) : undefined;
  const found = scope.find((e) => e.qualifier === table && (!schema || (schema === 'public' && e.table === table && e.cube)));
  if (!found) throw ctx.at.error(SQLSTATE.UNDEFINED_TABLE, `missing FROM-clause entry for table "${table}"`, node);
  return found;
}

/** A column reference, qualified or not (Postgres' ambiguity and "did you mean" rules). */
export function resolve(ctx: Ctx, ref: PgNode, scope: ScopeEntry[]): Raw {
  const cr = nodeAs(ref, 'ColumnRef')!;
  const fields = strings(cr.fields);
  const name = fields.at(-1)!;
  const loc = cr.location;
  if (fields.length > 1) {
    const e = entry(ctx, fields.slice(0, -1), scope, ref);
    const raw = e.columns.get(name);
    if (!raw) throw unknownColumn(ctx, `${fields.slice(0, -1).join('.')}.${name}`, name, [e], loc);
    return raw;
  }
  const hits = scope.filter((e) => e.columns.has(name));
  if (hits.length > 1) throw ctx.at.error(SQLSTATE.AMBIGUOUS_COLUMN, `column reference "${name}" is ambiguous`, loc);
  if (!hits.length) throw unknownColumn(ctx, name, name, scope, loc);
  return hits[0].columns.get(name)!;
}

function unknownColumn(ctx: Ctx, shown: string, name: string, scope: ScopeEntry[], loc: number | undefined): SqlError {
  const candidates = scope.flatMap((e) => e.order.map((c) => ({ e, c })));
  const best = suggest(
    name,
    candidates.map((x) => x.c),
  );
  const owner = scope.length === 1 && scope[0].cube ? scope[0].cube.name : undefined;
  return new UnknownColumnError(
    `column ${JSON.stringify(shown)} does not exist`,
    ctx.opts.position(loc),
    owner ? `${owner}.${name}` : undefined,
    best ? `Perhaps you meant to reference the column "${best}".` : undefined,
  );
}

/** The cubes a scope reads, through transparent subqueries too (Superset's virtual_table). */
export function scopeCubes(scope: ScopeEntry[]): CatalogCube[] {
  const out = new Set<CatalogCube>();
  for (const e of scope) {
    if (e.cube) out.add(e.cube);
    else for (const raw of e.columns.values()) if (raw.kind === 'column') out.add(raw.cube);
  }
  return [...out];
}

export function memberOf(path: string, scope: ScopeEntry[]): CatalogMember | undefined {
  for (const c of scopeCubes(scope)) {
    const m = c.measures.find((x) => x.path === path);
    if (m) return m;
  }
  return undefined;
}

/** The row-count measure for COUNT(*): the cube's `count`, else its first count measure. */
export function countItem(ctx: Ctx, scope: ScopeEntry[], node: PgNode): MeasureItem {
  const cubes = scopeCubes(scope);
  if (cubes.length !== 1) throw ctx.at.unsupported('COUNT(*) over several tables is ambiguous; use MEASURE(table.count)', node);
  const measures = cubes[0].measures.filter((m) => m.aggType === 'count');
  const m = measures.find((x) => x.name === 'count') ?? measures[0];
  if (!m) throw ctx.at.unsupported(`table "${cubes[0].name}" has no count measure for COUNT(*); add a measure of type count to the model`, node);
  return { kind: 'measure', path: m.path, oid: memberOid(m), type: m.type };
}
