/**
 * Rollup pre-aggregations (Cube syntax) name members of their own cube that a rollup can store,
 * and say why not when it cannot (a non-additive measure, another cube's member, ...).
 */
import type { ModelProblem } from '../../errors.js';
import { preAggregationMemberName } from '../build.js';
import type { Cube, Member } from '../model.js';
import { rollupRefusal } from '../rollups.js';
import { problem, type Rule } from '../rule-context.js';
import { suggest } from '../suggest.js';
import { templateMemberRefs } from '../template.js';
import { IDENTIFIER, PRE_AGGREGATION_TYPES, ROLLUP_GRANULARITIES } from '../yaml-shapes.js';

const GRANULARITY_WORDS = ['second', 'minute', 'hour', ...ROLLUP_GRANULARITIES];

/** Another cube's member read by a dimension's or segment's SQL. */
function foreignRead(cube: Cube, m: Member): string | undefined {
  const templates = m.kind === 'dimension' ? [m.sql, ...(m.case?.when.map((w) => w.sql) ?? [])] : m.kind === 'segment' ? [m.sql] : [];
  for (const t of templates) {
    if (!t) continue;
    for (const p of t.parts) if (p.kind === 'cube' && p.cube !== cube.name) return p.cube;
    const ref = templateMemberRefs(t).find((r) => r.cube !== cube.name);
    if (ref) return `${ref.cube}.${ref.member}`;
  }
  return undefined;
}

export const preAggregations: Rule = (ctx) => {
  const out: ModelProblem[] = [];
  const model = { cubes: ctx.built.cubes, views: {} };
  for (const raw of ctx.rawCubes) {
    const cubeName = raw.str('name');
    const cube = cubeName ? ctx.built.cubes[cubeName] : undefined;
    if (!cube || ctx.built.raws.get(cube.name) !== raw) continue;
    const seen = new Set<string>();
    for (const p of raw.list('pre_aggregations')) {
      const name = p.str('name');
      const label = `pre_aggregation "${cube.name}.${name ?? '?'}"`;
      const at = (key: string, message: string, suggestion?: string) => out.push(problem(p, p.lineOf(key), `${label}: ${message}`, suggestion));
      if (!name || !IDENTIFIER.test(name)) {
        at('name', 'needs a name (letters, digits and _)');
        continue;
      }
      if (seen.has(name)) at('name', 'is declared twice');
      seen.add(name);
      const type = p.str('type') ?? 'rollup';
      if (type !== 'rollup') {
        at(
          'type',
          (PRE_AGGREGATION_TYPES as readonly string[]).includes(type)
            ? `type ${type} is a Cube pre-aggregation Strata does not build; Strata builds type rollup (maintained on every insert)`
            : `unknown type "${type}"; Strata builds type rollup`,
        );
        continue;
      }
      if (!cube.sqlTable) at('name', `the cube reads "sql", not a table: a rollup is maintained from inserts into the cube's sql_table`);
      if (cube.tenant.kind !== 'column')
        at('name', 'the cube is shared (no tenant column): rollups are kept per tenant; shared lookup cubes are small enough to read');
      const names = (key: string) => {
        const v = p.get(key)?.value;
        return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
      };
      const member = (ref: string, key: string, kind: 'measures' | 'dimensions' | 'segments') => {
        const n = preAggregationMemberName(ref, cube.name);
        if (n.includes('.')) {
          at(key, `"${ref}" belongs to another cube: a rollup stores members of its own cube (rollup_join is not supported)`);
          return undefined;
        }
        const found = cube[kind][n];
        if (!found) at(key, `${key} names unknown ${kind.slice(0, -1)} "${n}"`, suggest(n, Object.keys(cube[kind])));
        return found;
      };
      const measures = names('measures');
      if (measures.length === 0) at('measures', 'needs measures: the values the rollup stores');
      for (const ref of measures) {
        const m = member(ref, 'measures', 'measures');
        const why = m && m.kind === 'measure' ? rollupRefusal(model, cube, m) : undefined;
        if (why) at('measures', `measure "${m!.name}" cannot be stored in a rollup: ${why}`);
      }
      for (const ref of names('dimensions')) {
        const d = member(ref, 'dimensions', 'dimensions');
        const foreign = d && foreignRead(cube, d);
        if (foreign) at('dimensions', `dimension "${d!.name}" reads ${foreign} of another cube; a rollup stores its own cube's values`);
      }
      for (const ref of names('segments')) {
        const s = member(ref, 'segments', 'segments');
        const foreign = s && foreignRead(cube, s);
        if (foreign) at('segments', `segment "${s!.name}" reads ${foreign} of another cube`);
      }
      const time = p.str('time_dimension');
      const granularity = p.str('granularity');
      if (time !== undefined) {
        const d = member(time, 'time_dimension', 'dimensions');
        if (d && d.kind === 'dimension' && d.type !== 'time') at('time_dimension', `"${d.name}" is not a time dimension`);
        if (granularity === undefined) at('time_dimension', `needs a granularity (${ROLLUP_GRANULARITIES.join(', ')})`);
      } else if (granularity !== undefined) at('granularity', 'granularity needs a time_dimension');
      if (granularity !== undefined && !(ROLLUP_GRANULARITIES as readonly string[]).includes(granularity)) {
        at(
          'granularity',
          GRANULARITY_WORDS.includes(granularity)
            ? `granularity ${granularity} is finer than a day; rollups are built by ${ROLLUP_GRANULARITIES.join(', ')}`
            : `unknown granularity "${granularity}"`,
          suggest(granularity, [...ROLLUP_GRANULARITIES]),
        );
      }
      const partition = p.str('partition_granularity');
      if (partition !== undefined && !(ROLLUP_GRANULARITIES as readonly string[]).includes(partition))
        at('partition_granularity', `unknown partition_granularity "${partition}"`, suggest(partition, [...ROLLUP_GRANULARITIES]));
      const rk = p.map('refresh_key');
      if (rk?.has('sql'))
        out.push(
          problem(
            rk,
            rk.lineOf('sql'),
            `refresh_key of ${label}: sql is not used — Strata refreshes a rollup on every insert; "every" sets how often other writers' rows are folded in`,
          ),
        );
    }
  }
  return out;
};
