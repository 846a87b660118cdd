/**
 * The compose step's rewrites, over the fixture catalog: which parts are pushed down as one semantic
 * query, which become leaves, and the SQL left for the post engine. Leaf rows here are inputs the
 * test chooses (per leaf query); the numbers through the real stack are checked against ClickHouse in
 * test/e2e/sqlproxy (bi-corpus, sqlproxy).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Composed, compose, needsCompose } from '../../../src/sqlproxy/compose/compose.js';
import type { ComposeContext } from '../../../src/sqlproxy/compose/types.js';
import { loadParser, parseQuery } from '../../../src/sqlproxy/parse.js';
import type { Cell } from '../../../src/sqlproxy/pg-types.js';
import { SqlError } from '../../../src/sqlproxy/sql-error.js';
import { type Node, Positioned, positionMapper } from '../../../src/sqlproxy/translate/ast.js';
import { type SemanticPlan, translateSelect } from '../../../src/sqlproxy/translate/select.js';
import type { SemanticQuery } from '../../../src/semantic/query.js';
import { fixtureCatalog } from './fixture.js';

beforeAll(() => loadParser());

type Rows = (q: SemanticQuery) => Cell[][];

interface Run {
  readonly result: Composed;
  /** Semantic queries the leaves asked the query service for, in order. */
  readonly loads: SemanticQuery[];
}

async function run(sql: string, rows: Rows = () => [], opts: { values?: Cell[]; loading?: boolean; maxRows?: number } = {}): Promise<Run> {
  const position = positionMapper(sql);
  const params = { value: (n: number) => opts.values?.[n - 1], expect: () => {}, count: opts.values?.length ?? 0, bound: Boolean(opts.values) };
  const translate = (s: Node): SemanticPlan =>
    translateSelect(s, { catalog: fixtureCatalog(), params, now: new Date('2024-03-15T10:30:00Z'), timezone: 'UTC', position });
  const loads: SemanticQuery[] = [];
  const ctx: ComposeContext = {
    catalog: fixtureCatalog(),
    at: new Positioned(position),
    loading: opts.loading ?? true,
    translate,
    evaluate: async (s) => {
      const plan = translate(s);
      loads.push(plan.query);
      return { plan, rows: opts.loading === false ? [] : rows(plan.query) };
    },
  };
  const select = parseQuery(sql).statements[0].node.SelectStmt;
  const result = await compose(select, ctx, { param: params.value, expect: () => {}, maxRows: opts.maxRows });
  return { result, loads };
}

async function failure(sql: string, rows?: Rows, maxRows?: number): Promise<SqlError> {
  const e = await run(sql, rows, { maxRows }).catch((err: unknown) => err);
  if (e instanceof SqlError) return e;
  throw new Error(`expected ${sql} to fail, got ${JSON.stringify(e)}`);
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();

describe('needsCompose', () => {
  it('is true only for the features compose answers', () => {
    const of = (sql: string) => needsCompose(parseQuery(sql).statements[0].node.SelectStmt);
    expect(of('SELECT channel, SUM(clicks) FROM ad_performance GROUP BY 1')).toBe(false);
    expect(of('SELECT SUM(CASE WHEN channel = $1 THEN clicks ELSE 0 END) FROM ad_performance')).toBe(false);
    expect(of('WITH t AS (SELECT 1) SELECT * FROM t')).toBe(true);
    expect(of('SELECT 1 FROM ad_performance UNION SELECT 2 FROM ad_performance')).toBe(true);
    expect(of('SELECT rank() OVER () FROM ad_performance')).toBe(true);
    expect(of('SELECT 1 FROM ad_performance WHERE channel IN (SELECT name FROM campaigns)')).toBe(true);
    expect(of('SELECT 1 FROM ad_performance a JOIN campaigns c ON a.campaign_id = c.id')).toBe(true);
  });
});

describe('pushed down whole', () => {
  it('a CTE read from FROM is inlined: one semantic query, nothing on the post engine', async () => {
    const { result, loads } = await run(
      'WITH t AS (SELECT channel, SUM(clicks) AS c FROM ad_performance GROUP BY channel) SELECT channel, c FROM t ORDER BY c DESC LIMIT 5',
    );
    expect(result.kind).toBe('plan');
    expect(loads).toEqual([]);
    if (result.kind === 'plan') {
      expect(result.plan.query).toMatchObject({
        measures: ['ad_performance.clicks'],
        dimensions: ['ad_performance.channel'],
        order: [['ad_performance.clicks', 'desc']],
        limit: 5,
      });
    }
  });

  it('a subquery in WHERE is answered first and becomes an IN filter', async () => {
    const { result, loads } = await run(
      "SELECT SUM(clicks) FROM ad_performance WHERE campaign_id IN (SELECT id FROM campaigns WHERE status = 'active')",
      () => [[3], [5]],
    );
    expect(loads).toEqual([
      expect.objectContaining({ dimensions: ['campaigns.id'], filters: [{ member: 'campaigns.status', operator: 'equals', values: ['active'] }] }),
    ]);
    expect(result.kind).toBe('plan');
    if (result.kind === 'plan') expect(result.plan.query.filters).toEqual([{ member: 'ad_performance.campaign_id', operator: 'equals', values: [3, 5] }]);
  });

  it('NOT IN, EXISTS and a scalar subquery become literals', async () => {
    const notIn = await run('SELECT SUM(clicks) FROM ad_performance WHERE campaign_id NOT IN (SELECT id FROM campaigns)', () => [[7]]);
    expect(notIn.result.kind === 'plan' && notIn.result.plan.query.filters).toEqual([
      { member: 'ad_performance.campaign_id', operator: 'notEquals', values: [7] },
      { member: 'ad_performance.campaign_id', operator: 'set' },
    ]);
    const none = await run('SELECT SUM(clicks) FROM ad_performance WHERE campaign_id IN (SELECT id FROM campaigns)', () => []);
    expect(none.result.kind === 'plan' && none.result.plan.empty).toBe(true);
    const exists = await run('SELECT SUM(clicks) FROM ad_performance WHERE EXISTS (SELECT id FROM campaigns)', () => []);
    expect(exists.result.kind === 'plan' && exists.result.plan.empty).toBe(true);
    const scalar = await run('SELECT SUM(clicks) FROM ad_performance WHERE date >= (SELECT MAX(date) FROM ad_performance)', () => [
      ['2024-03-01T00:00:00.000'],
    ]);
    expect(scalar.result.kind === 'plan' && scalar.result.plan.query.filters).toEqual([
      { member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-03-01T00:00:00.000'] },
    ]);
  });

  it("the model's join written with ON is that join; an INNER JOIN also requires both keys", async () => {
    const left = await run('SELECT c.name, SUM(a.clicks) FROM ad_performance a LEFT JOIN campaigns c ON a.campaign_id = c.id GROUP BY c.name');
    expect(left.result.kind === 'plan' && left.result.plan.query).toMatchObject({ dimensions: ['campaigns.name'], measures: ['ad_performance.clicks'] });
    expect(left.result.kind === 'plan' && left.result.plan.query.filters).toBeUndefined();
    const inner = await run('SELECT c.name, SUM(a.clicks) FROM ad_performance a JOIN campaigns c ON c.id = a.campaign_id GROUP BY c.name');
    expect(inner.result.kind === 'plan' && inner.result.plan.query.filters).toEqual([
      { member: 'ad_performance.campaign_id', operator: 'set' },
      { member: 'campaigns.id', operator: 'set' },
    ]);
  });

  it('the old join syntax (FROM a, b WHERE a.k = b.k) is the model join, with both keys present', async () => {
    const { result } = await run(
      "SELECT a.channel, SUM(a.clicks) FROM ad_performance a, campaigns c WHERE a.campaign_id = c.id AND c.status = 'active' GROUP BY a.channel",
    );
    expect(result.kind === 'plan' && result.plan.query.filters).toEqual([
      { member: 'campaigns.status', operator: 'equals', values: ['active'] },
      { member: 'ad_performance.campaign_id', operator: 'set' },
      { member: 'campaigns.id', operator: 'set' },
    ]);
    // Any other column equality between the tables is still refused.
    expect((await failure('SELECT SUM(a.clicks) FROM ad_performance a, campaigns c WHERE a.channel = c.name')).code).toBe('0A000');
  });

  it('a join the model does not declare is refused, not guessed', async () => {
    const e = await failure('SELECT c.name, SUM(a.clicks) FROM ad_performance a LEFT JOIN campaigns c ON a.channel = c.name GROUP BY c.name');
    expect(e.code).toBe('0A000');
    // RIGHT-side preservation is not the model's join from ad_performance.
    expect((await failure('SELECT c.name, SUM(a.clicks) FROM campaigns c LEFT JOIN ad_performance a ON a.campaign_id = c.id GROUP BY c.name')).code).toBe(
      '0A000',
    );
  });

  it("Superset's series limit: a join to a grouped subquery on its keys becomes an IN filter", async () => {
    const sql =
      'SELECT channel, SUM(clicks) FROM ad_performance JOIN (SELECT channel AS channel__, SUM(clicks) AS m FROM ad_performance GROUP BY channel ORDER BY m DESC LIMIT 2) AS series_limit ON channel = channel__ GROUP BY channel';
    const { result, loads } = await run(sql, () => [
      ['search', 10],
      ['social', 4],
    ]);
    expect(loads[0]).toMatchObject({ dimensions: ['ad_performance.channel'], limit: 2, order: [['ad_performance.clicks', 'desc']] });
    expect(result.kind === 'plan' && result.plan.query.filters).toEqual([
      { member: 'ad_performance.channel', operator: 'equals', values: ['search', 'social'] },
    ]);
  });

  it('a joined subquery with several rows per key is refused (the join would repeat rows)', async () => {
    const sql =
      'SELECT channel, SUM(clicks) FROM ad_performance JOIN (SELECT channel AS k, is_mobile, SUM(clicks) AS m FROM ad_performance GROUP BY 1, 2) AS s ON channel = s.k GROUP BY channel';
    const e = await failure(sql, () => [
      ['search', true, 1],
      ['search', false, 2],
    ]);
    expect([e.code, e.message]).toEqual(['0A000', 'the joined subquery returns several rows for one join key, so the join would repeat rows']);
  });
});

describe('composed: leaves and the post engine', () => {
  it('UNION ALL: each arm is a leaf; the post engine reads only temporary tables', async () => {
    const { result, loads } = await run(
      "SELECT 'clicks' AS m, SUM(clicks) AS v FROM ad_performance UNION ALL SELECT 'impressions', SUM(impressions) FROM ad_performance",
      (q) => (q.measures?.[0] === 'ad_performance.clicks' ? [['clicks', 12]] : [['impressions', 340]]),
    );
    // An aggregate without grouping reads the row count alongside (NULL over no rows, as in Postgres).
    expect(loads.map((q) => q.measures)).toEqual([
      ['ad_performance.clicks', 'ad_performance.count'],
      ['ad_performance.impressions', 'ad_performance.count'],
    ]);
    expect(result.kind).toBe('engine');
    if (result.kind !== 'engine') return;
    expect(oneLine(result.sql)).toBe(
      'SELECT c1 AS m, c2 AS v FROM pg_temp.strata_leaf_1 UNION ALL SELECT c1 AS "?column?", c2 AS sum FROM pg_temp.strata_leaf_2',
    );
    expect(result.tables).toEqual([
      {
        name: 'strata_leaf_1',
        columns: [
          { name: 'c1', type: 'text' },
          { name: 'c2', type: 'numeric' },
        ],
        rows: [['clicks', '12']],
      },
      {
        name: 'strata_leaf_2',
        columns: [
          { name: 'c1', type: 'text' },
          { name: 'c2', type: 'numeric' },
        ],
        rows: [['impressions', '340']],
      },
    ]);
    expect(result.sql).not.toMatch(/ad_performance/);
  });

  it('window functions: grouped inner select as a leaf, windows over it on the post engine', async () => {
    const { result, loads } = await run(
      'SELECT channel, SUM(clicks), rank() OVER (ORDER BY SUM(clicks) DESC) AS r FROM ad_performance GROUP BY channel ORDER BY r LIMIT 3',
    );
    expect(loads).toEqual([expect.objectContaining({ dimensions: ['ad_performance.channel'], measures: ['ad_performance.clicks'] })]);
    expect(loads[0].limit).toBeUndefined();
    expect(result.kind === 'engine' && oneLine(result.sql)).toBe(
      'SELECT channel AS channel, sum AS sum, rank() OVER (ORDER BY _w0 DESC) AS r FROM (SELECT c1 AS channel, c2 AS sum, c3 AS _c2, c4 AS _w0 FROM pg_temp.strata_leaf_1) AS _w ORDER BY r LIMIT 3',
    );
  });

  it("a plain projection in FROM (Superset's virtual_table) is read through to the cube, not over its grouped rows", async () => {
    const { result, loads } = await run(
      'WITH v AS (SELECT * FROM ad_performance) SELECT channel, COUNT(*) AS n, rank() OVER (ORDER BY COUNT(*) DESC) FROM v GROUP BY channel',
    );
    expect(loads).toEqual([expect.objectContaining({ dimensions: ['ad_performance.channel'], measures: ['ad_performance.count'] })]);
    expect(result.kind).toBe('engine');
  });

  it('ROLLUP: one semantic query per grouping set (each subtotal computed at its grain), UNION ALL on the post engine', async () => {
    const { result, loads } = await run(
      'SELECT channel, is_mobile, SUM(clicks) AS c, MEASURE(ctr) AS r, GROUPING(channel, is_mobile) AS g FROM ad_performance GROUP BY ROLLUP(channel, is_mobile) ORDER BY 1, 2 LIMIT 50',
    );
    expect(loads.map((q) => [q.dimensions ?? [], q.measures])).toEqual([
      [
        ['ad_performance.channel', 'ad_performance.is_mobile'],
        ['ad_performance.clicks', 'ad_performance.ctr'],
      ],
      [['ad_performance.channel'], ['ad_performance.clicks', 'ad_performance.ctr']],
      [[], ['ad_performance.clicks', 'ad_performance.ctr', 'ad_performance.count']],
    ]);
    expect(result.kind).toBe('engine');
    if (result.kind !== 'engine') return;
    const sql = oneLine(result.sql);
    expect(sql).toContain('NULL::bool AS is_mobile');
    expect(sql).toContain('NULL::text AS channel');
    expect(sql).toMatch(/UNION ALL .* UNION ALL .* ORDER BY 1, 2 LIMIT 50$/);
    // GROUPING() is each set's bit mask: 0, 1 (is_mobile rolled up), 3 (both).
    expect(result.tables.map((t) => t.columns.length)).toEqual([5, 4, 3]);
    expect(sql.match(/AS g\b/g)).toHaveLength(3);
  });

  it('CUBE and GROUPING SETS expand likewise; too many sets are refused', async () => {
    const cube = await run('SELECT channel, is_mobile, SUM(clicks) FROM ad_performance GROUP BY CUBE(channel, is_mobile)');
    expect(cube.loads.map((q) => q.dimensions ?? [])).toEqual([
      ['ad_performance.channel', 'ad_performance.is_mobile'],
      ['ad_performance.channel'],
      ['ad_performance.is_mobile'],
      [],
    ]);
    const sets = await run('SELECT channel, is_mobile, SUM(clicks) FROM ad_performance GROUP BY GROUPING SETS ((channel), (is_mobile), ())');
    expect(sets.loads.map((q) => q.dimensions ?? [])).toEqual([['ad_performance.channel'], ['ad_performance.is_mobile'], []]);
    const e = await failure('SELECT SUM(clicks) FROM ad_performance GROUP BY CUBE(channel, is_mobile, campaign_id, date, channel, is_mobile, campaign_id)');
    expect(e.code).toBe('0A000');
  });

  it('a join of two results: both subqueries are leaves', async () => {
    const { result, loads } = await run(
      'SELECT a.channel, a.c, b.m FROM (SELECT channel, SUM(clicks) AS c FROM ad_performance GROUP BY channel) a JOIN (SELECT channel, SUM(clicks) AS m FROM ad_performance WHERE is_mobile GROUP BY channel) b ON a.channel = b.channel',
    );
    expect(loads).toHaveLength(2);
    expect(result.kind === 'engine' && result.tables.map((t) => t.name)).toEqual(['strata_leaf_1', 'strata_leaf_2']);
  });

  it('parameters of the post-engine part are bound as literals; describing loads nothing', async () => {
    const sql =
      'WITH t AS (SELECT channel, SUM(clicks) AS c FROM ad_performance WHERE date >= $1 GROUP BY channel) SELECT channel, c, rank() OVER (ORDER BY c DESC) FROM t WHERE c > $2';
    const described = await run(sql, () => [['x', 1]], { loading: false });
    expect(described.result.kind === 'engine' && described.result.tables[0].rows).toEqual([]);
    const bound = await run(sql, () => [['x', 1]], { values: ['2024-01-01', 5] });
    expect(bound.loads[0].filters).toEqual([{ member: 'ad_performance.date', operator: 'afterOrOnDate', values: ['2024-01-01T00:00:00.000'] }]);
    expect(bound.result.kind === 'engine' && oneLine(bound.result.sql)).toContain('WHERE c > 5');
  });

  it('more leaf rows than the maximum fail naming it', async () => {
    const many = () => Array.from({ length: 30 }, (_, i) => [`ch${i}`, i]);
    const e = await failure(
      'SELECT channel, SUM(clicks) FROM ad_performance GROUP BY 1 UNION SELECT channel, SUM(impressions) FROM ad_performance GROUP BY 1',
      many,
      50,
    );
    expect(e.code).toBe('54000');
    expect(e.message).toContain('more than 50 rows');
  });

  it('refusals keep the reason of the part that cannot be answered', async () => {
    // A correlated subquery: its outer reference is unknown inside it.
    const corr = await failure('SELECT SUM(clicks) FROM ad_performance a WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a.campaign_id)');
    expect(corr.code).toBe('42P01');
    expect(corr.hint).toMatch(/correlated/);
    // NOT IN over a subquery with a NULL is never true (Postgres); inside OR it would be three-valued.
    const withNull = await run('SELECT SUM(clicks) FROM ad_performance WHERE campaign_id NOT IN (SELECT id FROM campaigns)', () => [[1], [null]]);
    expect(withNull.result.kind === 'plan' && withNull.result.plan.empty).toBe(true);
    const inOr = await failure("SELECT SUM(clicks) FROM ad_performance WHERE channel = 'x' OR campaign_id NOT IN (SELECT id FROM campaigns)", () => [[null]]);
    expect(inOr.code).toBe('0A000');
    // A ratio measure re-aggregated inside a UNION arm: the translator's own message.
    const ratio = await failure('SELECT SUM(ctr) FROM ad_performance UNION ALL SELECT SUM(clicks) FROM ad_performance');
    expect(ratio.message).toMatch(/ctr/);
  });
});
