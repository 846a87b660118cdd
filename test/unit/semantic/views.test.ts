import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

const CUBES = `cubes:
  - name: ad_performance
    sql_table: ad_performance
    tenant_column: tenant_id
    scopes: [marketing:read]
    public: false
    joins:
      - name: campaigns
        relationship: many_to_one
        sql: "{CUBE}.campaign_id = {campaigns.id}"
    measures:
      - name: clicks
        type: sum
        sql: clicks
        description: Total clicks
      - name: cost
        type: sum
        sql: cost
        scopes: [finance:read]
      - name: internal
        type: sum
        sql: x
        public: false
    dimensions:
      - name: id
        type: string
        sql: id
        primary_key: true
  - name: campaigns
    sql_table: campaigns
    tenant_column: tenant_id
    dimensions:
      - name: id
        type: string
        sql: id
        primary_key: true
      - name: name
        type: string
        sql: name
        title: Campaign
`;

describe('view resolution', () => {
  it('resolves includes "*", excludes, prefix, aliases and join paths', () => {
    const m = load(
      CUBES,
      `views:
  - name: perf
    description: Performance
    cubes:
      - join_path: ad_performance
        includes: "*"
        excludes: [id]
      - join_path: ad_performance.campaigns
        prefix: true
        includes:
          - name
          - name: id
            alias: campaign_key
            title: Key
            description: The campaign id
`,
    );
    const view = m.views.perf;
    expect(view).toMatchObject({ kind: 'view', name: 'perf', title: 'Perf', description: 'Performance', public: true, location: { file: 'm2.yml', line: 2 } });
    expect(Object.keys(view.members)).toEqual(['clicks', 'cost', 'internal', 'campaigns_name', 'campaign_key']);
    expect(view.members.clicks).toEqual({
      name: 'clicks',
      path: 'perf.clicks',
      kind: 'measure',
      target: 'ad_performance.clicks',
      joinPath: ['ad_performance'],
      title: 'Perf Clicks',
      description: 'Total clicks',
      public: true, // the cube is private, the view exposes it
      scopes: ['marketing:read'],
    });
    expect(view.members.cost.scopes).toEqual(['finance:read', 'marketing:read']);
    expect(view.members.internal.public).toBe(false); // the member itself is private
    expect(view.members.campaigns_name).toMatchObject({
      kind: 'dimension',
      target: 'campaigns.name',
      joinPath: ['ad_performance', 'campaigns'],
      title: 'Perf Campaigns Name',
    });
    expect(view.members.campaign_key).toMatchObject({ target: 'campaigns.id', title: 'Perf Key', description: 'The campaign id' });
    expect(m.cubes.ad_performance.measures.clicks.public).toBe(false);
  });

  it('uses the entry alias as prefix', () => {
    const m = load(
      CUBES,
      `views:
  - name: perf
    cubes:
      - join_path: ad_performance
        includes: [clicks]
      - join_path: ad_performance.campaigns
        alias: camp
        prefix: true
        includes: [name]
`,
    );
    expect(Object.keys(m.views.perf.members)).toEqual(['clicks', 'camp_name']);
  });

  it('reports unresolvable join paths, includes, excludes and collisions with file:line', () => {
    expect(
      problems(
        { path: 'cubes.yml', text: CUBES },
        {
          path: 'views.yml',
          text: `views:
  - name: perf
    cubes:
      - join_path: ad_performance
        includes: "*"
        excludes: [idd]
      - join_path: ad_performance.campaigns
        includes: [nme, id]
      - join_path: ad_performance.campaign
        includes: "*"
      - join_path: campaigns.ad_performance
        includes: "*"
      - join_path: ad_performace
        includes: "*"
  - name: empty
    cubes: []
  - name: ad_performance
    cubes:
      - join_path: campaigns
`,
        },
      ),
    ).toEqual([
      'views.yml:6: view "perf" excludes unknown member "ad_performance.idd" -> id',
      'views.yml:8: view "perf" includes unknown member "campaigns.nme" -> name',
      'views.yml:8: view "perf" exposes "id" twice (ad_performance.id and campaigns.id); use prefix: true, an alias or excludes',
      'views.yml:9: join_path "ad_performance.campaign" of view "perf": cube "ad_performance" declares no join to "campaign" -> campaigns',
      'views.yml:11: join_path "campaigns.ad_performance" of view "perf": cube "campaigns" declares no join to "ad_performance"',
      'views.yml:13: join_path "ad_performace" of view "perf": unknown cube "ad_performace" -> ad_performance',
      'views.yml:15: view "empty" lists no cubes',
      'views.yml:17: duplicate view name "ad_performance" (first defined at cubes.yml:2)',
      'views.yml:19: entry "campaigns" of view "ad_performance" has no includes (use "*" or a list)',
    ]);
  });

  it('requires every entry of a view to start at the same root cube', () => {
    expect(
      problems(
        CUBES,
        `views:
  - name: v
    cubes:
      - join_path: ad_performance
        includes: [clicks]
      - join_path: campaigns
        includes: [name]
`,
      ),
    ).toEqual(['m2.yml:6: join_path "campaigns" of view "v" starts at "campaigns", but the view\'s root cube is "ad_performance"']);
  });
});
