/** A small catalog shaped like the marketing model, for translator and protocol tests. */
import type { CatalogCube, CatalogMember } from '../../../src/query/types.js';
import type { MeasureType } from '../../../src/semantic/model.js';

function m(
  cube: string,
  name: string,
  kind: CatalogMember['kind'],
  type: CatalogMember['type'],
  aggType?: MeasureType,
  scopes: string[] = ['metrics:read'],
): CatalogMember {
  return { path: `${cube}.${name}`, name, kind, type, aggType, title: name, shortTitle: name, scopes, meta: {} };
}

export function adPerformance(opts: { finance?: boolean } = {}): CatalogCube {
  const c = 'ad_performance';
  return {
    name: c,
    kind: 'cube',
    title: 'Ad performance',
    description: 'Daily ad metrics',
    measures: [
      m(c, 'clicks', 'measure', 'number', 'sum'),
      m(c, 'impressions', 'measure', 'number', 'sum'),
      m(c, 'count', 'measure', 'number', 'count'),
      m(c, 'ctr', 'measure', 'number', 'number'),
      m(c, 'avg_position', 'measure', 'number', 'avg'),
      m(c, 'max_bid', 'measure', 'number', 'max'),
      m(c, 'campaigns_count', 'measure', 'number', 'count_distinct'),
      ...(opts.finance ? [m(c, 'spend', 'measure', 'number', 'sum', ['metrics:read', 'finance:read'])] : []),
    ],
    dimensions: [
      m(c, 'date', 'dimension', 'time'),
      m(c, 'channel', 'dimension', 'string'),
      m(c, 'campaign_id', 'dimension', 'number'),
      m(c, 'is_mobile', 'dimension', 'boolean'),
    ],
    segments: [m(c, 'paid_search', 'segment', 'boolean')],
    joins: [{ target: 'campaigns', relationship: 'many_to_one', keys: [['campaign_id', 'id']] }],
    exampleQuery: { measures: [`${c}.clicks`] },
    meta: {},
  };
}

export function campaigns(): CatalogCube {
  const c = 'campaigns';
  return {
    name: c,
    kind: 'cube',
    title: 'Campaigns',
    measures: [m(c, 'count', 'measure', 'number', 'count')],
    dimensions: [m(c, 'id', 'dimension', 'number'), m(c, 'name', 'dimension', 'string'), m(c, 'status', 'dimension', 'string')],
    segments: [],
    joins: [],
    exampleQuery: { measures: [`${c}.count`] },
    meta: {},
  };
}

export function marketingView(): CatalogCube {
  const v = 'marketing';
  return {
    name: v,
    kind: 'view',
    title: 'Marketing',
    measures: [m(v, 'clicks', 'measure', 'number', 'sum')],
    dimensions: [m(v, 'date', 'dimension', 'time'), m(v, 'campaign_name', 'dimension', 'string')],
    segments: [],
    joins: [],
    exampleQuery: { measures: [`${v}.clicks`] },
    meta: {},
  };
}

export function fixtureCatalog(opts: { finance?: boolean } = {}): CatalogCube[] {
  return [adPerformance(opts), campaigns(), marketingView()];
}
