/**
 * Issue #15 item 5: delete a tenant's rows by a client, campaign or ad-account value across the
 * tables that hold it, on chDB with the real cube-models and migrations. Checked against ClickHouse
 * directly; the other tenant and the other values stay; the change is signalled and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditedIngest, type Change } from '../../../src/audit/changes.js';
import { createEngine } from '../../../src/engine/create-engine.js';
import type { Engine } from '../../../src/engine/engine.js';
import { migrateClickhouse } from '../../../src/engine/migrate.js';
import { createIngestService, type IngestService } from '../../../src/ingest/ingest-service.js';
import { createInProcessSignals, type ChangeEvent } from '../../../src/live/signals.js';
import { readModelFiles } from '../../../src/model-files.js';
import { loadModel } from '../../../src/semantic/load.js';
import { makeTempDir } from '../../helpers/clickhouse.js';
import { adRow, ndjson, principal } from '../live/stack.js';

let engine: Engine;
let service: IngestService;
const events: ChangeEvent[] = [];
const changes: Change[] = [];

const campaign = (tenant: string, id: string, account: string) => ({
  tenant_id: tenant,
  campaign_id: id,
  platform: 'google_ads',
  account_id: account,
  name: id,
  type: 'search',
  status: 'active',
  objective: 'sales',
  budget: 10,
  budget_type: 'daily',
  start_date: '2024-01-01',
});

beforeAll(async () => {
  engine = createEngine({ database: 'strata', chdbPath: `${makeTempDir()}/ch`, queryTimeoutMs: 30_000 });
  await migrateClickhouse(engine);
  const signals = createInProcessSignals();
  signals.onChange((e) => events.push(e));
  service = auditedIngest(createIngestService({ engine, model: loadModel(await readModelFiles('cube-models')), signals }), (c) => changes.push(c));
  for (const t of ['acme', 'globex']) {
    await engine.insert('campaigns', [campaign(t, 'cmp-1', 'acc-1'), campaign(t, 'cmp-2', 'acc-1'), campaign(t, 'cmp-3', 'acc-2')]);
    await engine.insert(
      'ad_performance',
      ['cmp-1', 'cmp-2', 'cmp-3'].flatMap((c, i) =>
        ['2024-03-01', '2024-03-02'].map((date) => ({
          tenant_id: t,
          ...adRow({ campaign_id: c, account_id: i < 2 ? 'acc-1' : 'acc-2', ad_id: `${c}-ad`, date }),
        })),
      ),
    );
  }
});
afterAll(async () => {
  await engine?.close();
});

async function countsBy(table: string, column: string): Promise<Record<string, number>> {
  const { rows } = await engine.query<{ t: string; v: string; n: string }>(
    `SELECT tenant_id AS t, ${column} AS v, count() AS n FROM strata.${table} GROUP BY t, v ORDER BY t, v`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.t}/${r.v}`, Number(r.n)]));
}

describe('deleting rows by a dimension value', () => {
  it("a campaign: its rows leave every table holding campaign_id, for the caller's tenant only", async () => {
    const before = await countsBy('ad_performance', 'campaign_id');
    const report = await service.deleteRows(principal('acme'), 'campaign', 'cmp-2');
    expect(report.tables).toEqual([
      { table: 'ad_performance', deleted: before['acme/cmp-2'] },
      { table: 'campaigns', deleted: 1 },
    ]);
    expect(report.deleted).toBe(before['acme/cmp-2'] + 1);
    const after = await countsBy('ad_performance', 'campaign_id');
    expect(after).toEqual({ ...Object.fromEntries(Object.entries(before).filter(([k]) => k !== 'acme/cmp-2')) });
    expect(await countsBy('campaigns', 'campaign_id')).toEqual({ 'acme/cmp-1': 1, 'acme/cmp-3': 1, 'globex/cmp-1': 1, 'globex/cmp-2': 1, 'globex/cmp-3': 1 });
    // Caches and subscribers: the cubes reading both tables are signalled for acme.
    const e = events.at(-1)!;
    expect(e.tenantId).toBe('acme');
    expect(e.cubes).toEqual(expect.arrayContaining(['ad_performance', 'campaigns']));
    // Audited with who and what.
    expect(changes.at(-1)).toMatchObject({ tenantId: 'acme', action: 'ingest.delete_rows', target: 'campaign:cmp-2', after: { deleted: report.deleted } });
  });

  it('an ad account: every campaign and fact row of that account goes; a value nobody holds deletes nothing and signals nothing', async () => {
    const report = await service.deleteRows(principal('globex'), 'ad_account', 'acc-1');
    expect(report.tables).toEqual([
      { table: 'ad_performance', deleted: 4 },
      { table: 'campaigns', deleted: 2 },
    ]);
    expect(await countsBy('ad_performance', 'account_id')).toEqual({ 'acme/acc-1': 2, 'acme/acc-2': 2, 'globex/acc-2': 2 });
    const n = events.length;
    expect((await service.deleteRows(principal('globex'), 'ad_account', "acc-1' OR 1=1 --")).deleted).toBe(0);
    expect(events.length).toBe(n);
    expect(await countsBy('ad_performance', 'account_id')).toEqual({ 'acme/acc-1': 2, 'acme/acc-2': 2, 'globex/acc-2': 2 });
  });

  it("reaches quarantined rows: the tenant's raw rows holding the value go (any table, JSON or not), the rest stay", async () => {
    const held = (extra: Record<string, unknown>) => JSON.stringify(adRow({ ad_id: 'q-ad', ...extra }));
    for (const t of ['acme', 'globex']) {
      // cmp-9 is no campaign of either tenant: campaign_exists quarantines these; cmp-90 must survive a delete of cmp-9.
      const facts = await service.ingest(
        principal(t),
        'ad_performance',
        ndjson([
          held({ campaign_id: 'cmp-9' }),
          held({ campaign_id: 'cmp-90' }),
          held({ campaign_id: 'cmp-9', clicks: 5000 }),
          '{"campaign_id": "cmp-9", broken',
        ]),
        `rtbf-facts-${t}`,
      );
      expect(facts.quarantinedCount).toBe(4);
      const { tenant_id: _, ...row } = campaign(t, 'cmp-9', 'acc-9');
      const entity = await service.ingest(principal(t), 'campaigns', [{ ...row, budget: -5 }], `rtbf-cmp-${t}`);
      expect(entity.quarantinedCount).toBe(1);
    }
    const pending = async (t: string) =>
      (await service.quarantine(principal(t), { limit: 100 }))
        .filter((e) => e.batchId.startsWith('rtbf-'))
        .map((e) => `${e.batchId}#${e.line}`)
        .sort();
    const globexBefore = await pending('globex');
    expect(globexBefore).toHaveLength(5);

    const n = events.length;
    const report = await service.deleteRows(principal('acme'), 'campaign', 'cmp-9');
    expect(report.tables).toEqual([{ table: 'ingest_quarantine', deleted: 4 }]);
    // Only the cmp-90 row is left of acme's; globex's quarantine is untouched.
    expect(await pending('acme')).toEqual(['rtbf-facts-acme#2']);
    expect(await pending('globex')).toEqual(globexBefore);
    const { rows } = await engine.query<{ n: string }>(
      "SELECT toString(count()) AS n FROM strata.ingest_quarantine WHERE tenant_id = 'acme' AND position(row_json, {needle:String}) > 0",
      { needle: 'cmp-9\\"' }, // the value as it sits in row_json: the raw text, JSON-escaped
    );
    expect(Number(rows[0].n)).toBe(0);
    // The quality cube reading the quarantine is signalled too.
    expect(events.length).toBe(n + 1);
    expect(events.at(-1)).toMatchObject({ tenantId: 'acme', cubes: expect.arrayContaining(['ingest_quality']) });
  });

  it('needs ingest:write and a known dimension', async () => {
    await expect(service.deleteRows(principal('acme', ['metrics:read']), 'campaign', 'cmp-1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(service.deleteRows(principal('acme'), 'platform', 'meta')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(service.deleteRows(principal('acme'), 'campaign', '')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
