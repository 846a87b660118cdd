/**
 * The same question in the three forms callers paste into their own code: Cube REST JSON (what the
 * builder edits), the typed GraphQL field, and SQL for the Postgres-wire proxy. Pure functions of the
 * query and the catalog; a form that cannot say the question exactly says why instead of guessing.
 */
import type { Catalog, CatalogCube, CatalogMember, ComparisonPeriod, CubeQuery, Filter } from './types.js';

export function cubeRestJson(query: CubeQuery, compare: ComparisonPeriod | null): string {
  const body: Record<string, unknown> = { ...query, order: Object.fromEntries(query.order) };
  for (const k of ['dimensions', 'timeDimensions', 'filters', 'segments'] as const) if (query[k].length === 0) delete body[k];
  if (query.order.length === 0) delete body.order;
  // Every Strata door takes compareTo next to Cube's fields (the catalog's grammar says so).
  if (compare) body.compareTo = { period: compare === 'PREVIOUS_PERIOD' ? 'previousPeriod' : 'samePeriodLastYear' };
  return `POST /cubejs-api/v1/load\n${JSON.stringify({ query: body }, null, 2)}`;
}

interface Resolved {
  readonly cube: CatalogCube;
  readonly member: CatalogMember;
}

function resolver(catalog: Catalog): (path: string) => Resolved | undefined {
  const byPath = new Map<string, Resolved>();
  for (const cube of catalog.cubes) for (const member of [...cube.measures, ...cube.dimensions, ...cube.segments]) byPath.set(member.path, { cube, member });
  return (path) => byPath.get(path);
}

/** Every member the query names, or the first unknown one. */
function membersOf(query: CubeQuery): string[] {
  return [
    ...query.measures,
    ...query.dimensions,
    ...query.timeDimensions.map((t) => t.dimension),
    ...query.filters.map((f) => f.member),
    ...query.segments,
    ...query.order.map(([m]) => m),
  ];
}

/** The one cube or view every member belongs to, else an explanation. */
function singleCube(query: CubeQuery, catalog: Catalog): { cube: CatalogCube; get: (p: string) => CatalogMember } | { reason: string } {
  const resolve = resolver(catalog);
  const cubes = new Set<string>();
  for (const p of membersOf(query)) {
    const r = resolve(p);
    if (!r) return { reason: `unknown member ${p}` };
    cubes.add(r.cube.name);
  }
  if (cubes.size !== 1) return { reason: `members of ${[...cubes].join(', ')}: the typed field and a SQL table cover one cube or view (a view joins them)` };
  const cube = catalog.cubes.find((c) => c.name === [...cubes][0])!;
  return { cube, get: (p) => resolve(p)!.member };
}

const q = (s: string): string => JSON.stringify(s);

function gqlFilter(f: Filter, member: CatalogMember): string | null {
  const v = f.values;
  const num = member.type === 'number' || member.kind === 'measure';
  const lit = (s: string): string => (num ? String(Number(s)) : q(s));
  switch (f.operator) {
    case 'equals':
      return v.length === 1 ? `equals: ${lit(v[0]!)}` : `in: [${v.map(lit).join(', ')}]`;
    case 'notEquals':
      return v.length === 1 ? `notEquals: ${lit(v[0]!)}` : `notIn: [${v.map(lit).join(', ')}]`;
    case 'set':
      return 'set: true';
    case 'notSet':
      return 'set: false';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return `${f.operator}: ${Number(v[0])}`;
    default:
      return v.length === 1 ? `${f.operator}: ${q(v[0]!)}` : null;
  }
}

/** The typed GraphQL field for the question, or a comment saying why it needs the generic `query` field. */
export function graphqlText(query: CubeQuery, catalog: Catalog, compare: ComparisonPeriod | null): string {
  const one = singleCube(query, catalog);
  const generic = (why: string): string =>
    `# ${why}: the generic field takes the Cube JSON as is\nquery ($q: JSON!) {\n  query(query: $q${compare ? `, compareTo: { period: ${compare} }` : ''}) { data annotation { member title format }${compare ? ' comparison { rows { dimensions measures { member current previous percentChange } } }' : ''} }\n}`;
  if ('reason' in one) return generic(one.reason);
  const { cube, get } = one;
  if (!cube.graphqlField) return generic(`${cube.name} has no typed field`);
  const name = (p: string): string => get(p).graphqlName ?? get(p).name;
  const where: string[] = [];
  for (const t of query.timeDimensions) {
    if (!t.dateRange) continue;
    const range = typeof t.dateRange === 'string' ? q(t.dateRange) : `[${t.dateRange.map(q).join(', ')}]`;
    where.push(`${name(t.dimension)}: { inDateRange: ${range} }`);
  }
  for (const f of query.filters) {
    const inner = gqlFilter(f, get(f.member));
    if (inner === null) return generic(`filter ${f.operator} with several values`);
    where.push(`${name(f.member)}: { ${inner} }`);
  }
  const args: string[] = [];
  if (where.length) args.push(`where: { ${where.join(', ')} }`);
  if (query.segments.length) args.push(`segments: [${query.segments.map(name).join(', ')}]`);
  if (query.order.length) args.push(`orderBy: [${query.order.map(([m, d]) => `{ ${name(m)}: ${d.toUpperCase()} }`).join(', ')}]`);
  if (query.limit !== undefined) args.push(`limit: ${query.limit}`);
  if (compare) args.push(`compareTo: { period: ${compare} }`);
  const fields = [
    ...query.timeDimensions.filter((t) => t.granularity).map((t) => `${name(t.dimension)}(granularity: ${t.granularity!.toUpperCase()})`),
    ...query.dimensions.map(name),
    ...query.measures.map(name),
  ];
  if (compare && query.measures.length) fields.push(`compare { ${query.measures.map((m) => `${name(m)} { previous change percentChange }`).join(' ')} }`);
  const argText = args.length ? `(\n    ${args.join('\n    ')}\n  )` : '';
  return `query {\n  ${cube.graphqlField}${argText} {\n    ${fields.join('\n    ')}\n  }\n}`;
}

const sqlId = (s: string): string => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
const sqlStr = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** "YYYY-MM-DD..." + one day, as a date string (the half-open upper bound of an inclusive range). */
function dayAfter(local: string): string {
  const d = new Date(`${local.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function sqlFilter(f: Filter, column: string, numeric: boolean): string {
  const lit = (s: string): string => (numeric ? String(Number(s)) : sqlStr(s));
  const like = (pre: string, post: string): string =>
    f.values.map((v) => `${column} ILIKE ${sqlStr(`${pre}${v.replace(/[%_]/g, '\\$&')}${post}`)}`).join(' OR ');
  switch (f.operator) {
    case 'equals':
      return f.values.length === 1 ? `${column} = ${lit(f.values[0]!)}` : `${column} IN (${f.values.map(lit).join(', ')})`;
    case 'notEquals':
      return f.values.length === 1 ? `${column} <> ${lit(f.values[0]!)}` : `${column} NOT IN (${f.values.map(lit).join(', ')})`;
    case 'contains':
      return `(${like('%', '%')})`;
    case 'notContains':
      return `NOT (${like('%', '%')})`;
    case 'startsWith':
      return `(${like('', '%')})`;
    case 'endsWith':
      return `(${like('%', '')})`;
    case 'set':
      return `${column} IS NOT NULL`;
    case 'notSet':
      return `${column} IS NULL`;
    case 'gt':
      return `${column} > ${lit(f.values[0]!)}`;
    case 'gte':
      return `${column} >= ${lit(f.values[0]!)}`;
    case 'lt':
      return `${column} < ${lit(f.values[0]!)}`;
    case 'lte':
      return `${column} <= ${lit(f.values[0]!)}`;
  }
}

/**
 * SQL for the proxy (psql, BI tools). Relative date ranges are given as the absolute range the server
 * resolved (`resolvedRange`, from the last run), since SQL has no "last month"; a comparison is two
 * statements' worth of work in SQL, so only the current period is shown, with a note.
 */
export function sqlText(query: CubeQuery, catalog: Catalog, resolvedRange: readonly string[] | null, compare: ComparisonPeriod | null): string {
  const one = singleCube(query, catalog);
  if ('reason' in one) return `-- Not expressible as one SQL table: ${one.reason}.`;
  const { cube, get } = one;
  const col = (p: string): string => sqlId(get(p).name);
  const select: string[] = [];
  const group: number[] = [];
  for (const t of query.timeDimensions) {
    if (!t.granularity) continue;
    select.push(`DATE_TRUNC(${sqlStr(t.granularity)}, ${col(t.dimension)}) AS ${sqlId(`${get(t.dimension).name}_${t.granularity}`)}`);
    group.push(select.length);
  }
  for (const d of query.dimensions) {
    select.push(col(d));
    group.push(select.length);
  }
  for (const m of query.measures) select.push(`MEASURE(${col(m)}) AS ${col(m)}`);
  const where: string[] = [];
  const having: string[] = [];
  const notes: string[] = [];
  for (const t of query.timeDimensions) {
    if (!t.dateRange) continue;
    const range = Array.isArray(t.dateRange) ? t.dateRange : resolvedRange;
    if (range?.length !== 2) {
      notes.push(`-- Run the query once to see "${String(t.dateRange)}" as dates.`);
      continue;
    }
    where.push(`${col(t.dimension)} >= ${sqlStr(range[0]!.slice(0, 10))} AND ${col(t.dimension)} < ${sqlStr(dayAfter(range[1]!))}`);
  }
  for (const f of query.filters) {
    const m = get(f.member);
    (m.kind === 'measure' ? having : where).push(sqlFilter(f, m.kind === 'measure' ? `MEASURE(${col(f.member)})` : col(f.member), m.type === 'number'));
  }
  for (const s of query.segments) where.push(col(s));
  if (compare) notes.push('-- The comparison period is a second run of this statement over its date range.');
  const selected = (p: string): string => {
    const i = query.measures.indexOf(p);
    if (i >= 0) return String(group.length + i + 1);
    const j = query.dimensions.indexOf(p);
    return j >= 0 ? String(query.timeDimensions.filter((t) => t.granularity).length + j + 1) : col(p);
  };
  const lines = [`SELECT ${select.join(',\n       ')}`, `FROM ${sqlId(cube.name)}`];
  if (where.length) lines.push(`WHERE ${where.join('\n  AND ')}`);
  if (group.length) lines.push(`GROUP BY ${group.join(', ')}`);
  if (having.length) lines.push(`HAVING ${having.join(' AND ')}`);
  if (query.order.length) lines.push(`ORDER BY ${query.order.map(([m, d]) => `${selected(m)} ${d.toUpperCase()}`).join(', ')}`);
  if (query.limit !== undefined) lines.push(`LIMIT ${query.limit}`);
  return [...notes, `${lines.join('\n')};`].join('\n');
}
