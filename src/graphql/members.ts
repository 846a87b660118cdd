/**
 * What the GraphQL door exposes of the model: public cubes and views with their public members,
 * named for GraphQL. Pure (no Pothos), so the schema, the selection reader and the printer agree.
 */
import type { Member, MemberFormat, MeasureType, Model } from '../semantic/model.js';
import { resolveMember } from '../semantic/resolve.js';
import { NameRegistry, camelName, enumValueName, pascalName } from './names.js';

export type ValueType = 'number' | 'string' | 'time' | 'boolean';

export interface ExposedMember {
  /** "cube.member" or "view.member": what the semantic query names. */
  readonly path: string;
  readonly name: string;
  /** Row field / where / orderBy field name (camelCase). */
  readonly fieldName: string;
  /** Segment enum value name (segments only). */
  readonly enumValue?: string;
  readonly kind: 'measure' | 'dimension' | 'segment';
  readonly type: ValueType;
  readonly aggType?: MeasureType;
  readonly title: string;
  readonly description?: string;
  readonly format?: MemberFormat;
  /** Every scope a caller needs to read it (cube scopes included). */
  readonly scopes: readonly string[];
}

export interface ExposedSource {
  readonly name: string;
  readonly kind: 'cube' | 'view';
  readonly title: string;
  readonly description?: string;
  /** Root query field: "adPerformance". */
  readonly fieldName: string;
  /** Type-name stem: "AdPerformance" -> AdPerformanceRow, AdPerformanceWhereInput... */
  readonly typeStem: string;
  /** Measures and dimensions, model order. */
  readonly fields: readonly ExposedMember[];
  readonly segments: readonly ExposedMember[];
}

/** Root field names the door defines itself; a cube cannot take them. */
export const RESERVED_ROOT_FIELDS = ['query', 'catalog'] as const;

function valueType(m: Member): ValueType {
  if (m.kind === 'segment') return 'boolean';
  if (m.kind === 'dimension') return m.type;
  return m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? m.type : 'number';
}

function exposeMember(
  member: Member,
  path: string,
  name: string,
  title: string,
  description: string | undefined,
  scopes: readonly string[],
  names: NameRegistry,
): ExposedMember {
  const base = {
    path,
    name,
    kind: member.kind,
    type: valueType(member),
    aggType: member.kind === 'measure' ? member.type : undefined,
    title,
    description,
    format: member.kind === 'segment' ? undefined : member.format,
    scopes: [...scopes].sort(),
  };
  if (member.kind === 'segment') return { ...base, fieldName: camelName(name), enumValue: names.claim(enumValueName(name), path) };
  return { ...base, fieldName: names.claim(camelName(name), path) };
}

/** Cubes then views, each sorted by name, so the printed schema does not depend on load order. */
export function exposedSources(model: Model): ExposedSource[] {
  const roots = new NameRegistry('root query fields');
  for (const f of RESERVED_ROOT_FIELDS) roots.claim(f, `(built-in ${f})`);
  const types = new NameRegistry('type names');
  const out: ExposedSource[] = [];

  const add = (
    kind: 'cube' | 'view',
    name: string,
    title: string,
    description: string | undefined,
    members: { member: Member; path: string; name: string; title: string; description?: string; scopes: readonly string[] }[],
  ) => {
    const names = new NameRegistry(`${kind} "${name}"`);
    for (const f of ['AND', 'OR']) names.claim(f, `(where ${f})`);
    const fields: ExposedMember[] = [];
    const segments: ExposedMember[] = [];
    for (const m of members) {
      const e = exposeMember(m.member, m.path, m.name, m.title, m.description, m.scopes, names);
      (e.kind === 'segment' ? segments : fields).push(e);
    }
    // A GraphQL object type needs at least one field.
    if (fields.length === 0) return;
    out.push({
      name,
      kind,
      title,
      description,
      fieldName: roots.claim(camelName(name), name),
      typeStem: types.claim(pascalName(name), name),
      fields,
      segments,
    });
  };

  for (const cube of Object.values(model.cubes).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!cube.public) continue;
    const members = [...Object.values(cube.measures), ...Object.values(cube.dimensions), ...Object.values(cube.segments)]
      .filter((m) => m.public)
      .map((m) => ({ member: m as Member, path: m.path, name: m.name, title: m.title, description: m.description, scopes: m.scopes }));
    add('cube', cube.name, cube.title, cube.description, members);
  }
  for (const view of Object.values(model.views).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!view.public) continue;
    const members = Object.values(view.members)
      .filter((vm) => vm.public)
      .map((vm) => {
        const { member } = resolveMember(model, vm.path);
        return { member, path: vm.path, name: vm.name, title: vm.title, description: vm.description ?? member.description, scopes: vm.scopes };
      });
    add('view', view.name, view.title, view.description, members);
  }
  return out;
}

/** Field description: the model's words first, then the original member name for humans and agents. */
export function memberDescription(m: ExposedMember): string {
  const head = m.description ? `${m.title}: ${m.description}` : m.title;
  const facts = [m.kind, m.aggType, m.format && `format ${m.format}`].filter(Boolean).join(', ');
  return `${head}\n\nMember \`${m.path}\` (${facts}).`;
}

export function sourceDescription(s: ExposedSource): string {
  const head = s.description ? `${s.title}: ${s.description}` : s.title;
  return `${head}\n\n${s.kind === 'cube' ? 'Cube' : 'View'} \`${s.name}\`.`;
}
