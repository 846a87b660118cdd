/**
 * Aggregates over expressions that post mode makes exact: SUM/COUNT of a CASE over dimensions
 * (Metabase's SumIf/CountIf) and GROUP BY a measure's value (binning, at the primary-key grain).
 * The plan says which members are read; `finish` over rows the test writes gives the numbers, which
 * are checked against the same rows summed by hand (fact-row semantics, not the plan's).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogCube } from '../../../src/query/types.js';
import { loadParser, parseQuery } from '../../../src/sqlproxy/parse.js';
import { SqlError } from '../../../src/sqlproxy/sql-error.js';
import { Positioned, positionMapper } from '../../../src/sqlproxy/translate/ast.js';
import { finish } from '../../../src/sqlproxy/translate/derived.js';
import { type SemanticPlan, translateSelect } from '../../../src/sqlproxy/translate/select.js';
import { adPerformance, fixtureCatalog } from './fixture.js';

beforeAll(() => loadParser());

const noParams = { value: () => undefined, expect: () => {}, count: 0, bound: true };

function plan(sql: string, catalog: CatalogCube[] = fixtureCatalog()): SemanticPlan {
  return translateSelect(parseQuery(sql).statements[0].node.SelectStmt, {
    catalog,
    params: noParams,
    now: new Date(),
    timezone: 'UTC',
    position: positionMapper(sql),
  });
}

function refusal(sql: string, catalog?: CatalogCube[]): SqlError {
  try {
    plan(sql, catalog);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`expected a refusal: ${sql}`);
}

const ctx = { at: new Positioned(() => undefined), params: noParams, now: new Date(), timezone: 'UTC' };

/** Fact rows: channel, is_mobile, clicks. The query service would answer their sums per grain. */
const FACTS = [
  { channel: 'search', mobile: true, clicks: 5 },
  { channel: 'search', mobile: true, clicks: 7 },
  { channel: 'search', mobile: false, clicks: 11 },
  { channel: 'social', mobile: false, clicks: 2 },
  { channel: 'social', mobile: false, clicks: 3 },
];

/** The facts summed per (channel, is_mobile): what the query service returns for the plan's query. */
function grainRows(): Record<string, string | number | boolean>[] {
  const out = new Map<string, Record<string, string | number | boolean>>();
  for (const f of FACTS) {
    const k = `${f.channel}|${f.mobile}`;
    const r = out.get(k) ?? {
      'ad_performance.channel': f.channel,
      'ad_performance.is_mobile': f.mobile,
      'ad_performance.clicks': 0,
      'ad_performance.count': 0,
    };
    r['ad_performance.clicks'] = Number(r['ad_performance.clicks']) + f.clicks;
    r['ad_performance.count'] = Number(r['ad_performance.count']) + 1;
    out.set(k, r);
  }
  return [...out.values()];
}

describe('SUM/COUNT of a CASE over dimensions', () => {
  it('reads the dimensions of the conditions and the measures of the branches; numbers equal the fact-row sums', () => {
    const p = plan(
      'SELECT channel, SUM(CASE WHEN is_mobile THEN clicks ELSE 0 END) AS mobile_clicks, SUM(CASE WHEN is_mobile THEN 1 ELSE 0.0 END) AS mobile_rows, COUNT(CASE WHEN NOT is_mobile THEN 1 END) AS desktop_rows FROM ad_performance GROUP BY channel ORDER BY channel',
    );
    expect(p.query.dimensions).toEqual(['ad_performance.channel', 'ad_performance.is_mobile']);
    expect(p.query.measures).toEqual(expect.arrayContaining(['ad_performance.clicks', 'ad_performance.count']));
    const rows = finish(p.post!, grainRows(), ctx);
    const byHand = (ch: string) => {
      const f = FACTS.filter((x) => x.channel === ch);
      return {
        c0: ch,
        c1: f.filter((x) => x.mobile).reduce((s, x) => s + x.clicks, 0),
        c2: f.filter((x) => x.mobile).length,
        c3: f.filter((x) => !x.mobile).length,
      };
    };
    expect(rows).toEqual([byHand('search'), byHand('social')]);
  });

  it('SUM without ELSE is NULL where no row matches; COUNT is 0', () => {
    const p = plan(
      "SELECT channel, SUM(CASE WHEN channel = 'search' THEN clicks END) AS s, COUNT(CASE WHEN channel = 'x' THEN 1 END) AS n FROM ad_performance GROUP BY 1 ORDER BY 1",
    );
    expect(finish(p.post!, grainRows(), ctx)).toEqual([
      { c0: 'search', c1: 23, c2: 0 },
      { c0: 'social', c1: null, c2: 0 },
    ]);
  });

  it('FILTER (WHERE <dimensions>) is the same conditional sum; SUM(1)/COUNT(*) FILTER count the matching fact rows', () => {
    const p = plan(
      'SELECT channel, SUM(clicks) FILTER (WHERE is_mobile) AS m, COUNT(*) FILTER (WHERE NOT is_mobile) AS d, SUM(1) FILTER (WHERE is_mobile) AS n FROM ad_performance GROUP BY channel ORDER BY channel',
    );
    const byHand = (ch: string) => {
      const f = FACTS.filter((x) => x.channel === ch);
      const mobile = f.filter((x) => x.mobile);
      return { c0: ch, c1: mobile.length ? mobile.reduce((s, x) => s + x.clicks, 0) : null, c2: f.length - mobile.length, c3: mobile.length || null };
    };
    expect(finish(p.post!, grainRows(), ctx)).toEqual([byHand('search'), byHand('social')]);
  });

  it('refuses FILTER where only dropping it could answer (distinct counts, MIN/MAX, conditions on measures)', () => {
    expect(refusal('SELECT COUNT(DISTINCT channel) FILTER (WHERE is_mobile) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT MIN(date) FILTER (WHERE is_mobile) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT SUM(clicks) FILTER (WHERE impressions > 10) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT COUNT(1) FILTER (WHERE clicks > 1) FROM ad_performance').code).toBe('0A000');
  });

  it('refuses what is not exact at the grain of the conditions', () => {
    // A condition on a measure, a non-additive measure in a branch, a column inside COUNT.
    expect(refusal('SELECT SUM(CASE WHEN clicks > 3 THEN clicks ELSE 0 END) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT SUM(CASE WHEN is_mobile THEN ctr ELSE 0 END) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT SUM(CASE WHEN is_mobile THEN avg_position END) FROM ad_performance').code).toBe('0A000');
    expect(refusal('SELECT COUNT(CASE WHEN is_mobile THEN channel END) FROM ad_performance').code).toBe('0A000');
  });
});

describe('GROUP BY a measure value (binning)', () => {
  it('needs a visible primary key: refused naming it', () => {
    const e = refusal('SELECT FLOOR(clicks / 10.0) * 10 AS b, COUNT(*) FROM ad_performance GROUP BY FLOOR(clicks / 10.0) * 10');
    expect(e.message).toBe('grouping by the value of "clicks" needs one row per fact row, and table "ad_performance" exposes no primary key column');
  });

  it('with one, reads the fact rows (primary-key grain) and counts rows per bin', () => {
    const base = adPerformance();
    const withKey: CatalogCube = {
      ...base,
      dimensions: [
        ...base.dimensions,
        {
          path: 'ad_performance.id',
          name: 'id',
          kind: 'dimension',
          type: 'string',
          title: 'id',
          shortTitle: 'id',
          scopes: ['metrics:read'],
          meta: {},
          primaryKey: true,
        },
      ],
    };
    const p = plan('SELECT FLOOR(clicks / 10.0) * 10 AS b, COUNT(*) AS n, SUM(clicks) AS s FROM ad_performance GROUP BY FLOOR(clicks / 10.0) * 10 ORDER BY 1', [
      withKey,
    ]);
    expect(p.query.dimensions).toEqual(['ad_performance.id']);
    const facts = FACTS.map((f, i) => ({ 'ad_performance.id': `r${i}`, 'ad_performance.clicks': f.clicks, 'ad_performance.count': 1 }));
    expect(finish(p.post!, facts, ctx)).toEqual([
      { c0: 0, c1: 4, c2: 17 },
      { c0: 10, c1: 1, c2: 11 },
    ]);
  });
});
