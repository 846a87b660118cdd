/** A small marketing model for the GraphQL door tests (YAML through the real loader). */
import { loadModel } from '../../../src/semantic/load.js';
import type { Model } from '../../../src/semantic/model.js';

export const FIXTURE_YAML = `
cubes:
  - name: ad_performance
    title: Ad Performance
    description: Daily ad delivery and cost per campaign and platform.
    sql_table: ad_performance
    tenant_column: tenant_id
    joins:
      - name: campaigns
        relationship: many_to_one
        sql: "{CUBE}.campaign_id = {campaigns}.id"
    measures:
      - name: clicks
        type: sum
        sql: clicks
        description: Clicks on the ad.
      - name: impressions
        type: sum
        sql: impressions
      - name: spend
        type: sum
        sql: spend
        format: currency
        scopes: [finance:read]
        description: Media cost.
      - name: ctr
        type: number
        sql: "{clicks} / nullIf({impressions}, 0)"
        format: percent
        title: CTR
      - name: internal_cost
        type: sum
        sql: internal_cost
        public: false
    dimensions:
      - name: id
        type: number
        sql: id
        primary_key: true
      - name: platform
        type: string
        sql: platform
        description: Ad platform (google, meta, tiktok).
      - name: date
        type: time
        sql: date
      - name: campaign_id
        type: number
        sql: campaign_id
      - name: is_video
        type: boolean
        sql: is_video
    segments:
      - name: high_spend
        sql: "{CUBE}.spend > 1000"
  - name: campaigns
    sql_table: campaigns
    tenant_column: tenant_id
    measures:
      - name: count
        type: count
      - name: budget
        type: sum
        sql: budget
        scopes: [finance:read]
    dimensions:
      - name: id
        type: number
        sql: id
        primary_key: true
      - name: name
        type: string
        sql: name
views:
  - name: marketing_overview
    description: Ad delivery with campaign names.
    cubes:
      - join_path: ad_performance
        includes: [clicks, spend, platform, date]
      - join_path: ad_performance.campaigns
        prefix: true
        includes: [name]
`;

export function fixtureModel(): Model {
  return loadModel([{ path: 'cube-models/fixture.yml', text: FIXTURE_YAML }]);
}
