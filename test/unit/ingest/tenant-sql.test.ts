import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { createLedger } from '../../../src/ingest/ledger.js';
import { deleteForTenant, selectForTenant } from '../../../src/ingest/tenant-sql.js';

describe("selectForTenant: ingest/ reads a tenant's rows like the compiler does", () => {
  it("adds the tenant filter first, as a bound parameter, and ANDs the caller's conditions after it", () => {
    expect(
      selectForTenant('acme', { select: 'a, b', from: 'strata.t', where: 'x = {x:String} OR 1 = 1', orderBy: 'a', limit: '{n:UInt32}' }, { x: 'v', n: 5 }),
    ).toEqual({
      sql: 'SELECT a, b FROM strata.t WHERE tenant_id = {tenant:String} AND (x = {x:String} OR 1 = 1) ORDER BY a LIMIT {n:UInt32}',
      params: { x: 'v', n: 5, tenant: 'acme' },
    });
    expect(selectForTenant('acme', { select: 'a', from: 't' })).toEqual({
      sql: 'SELECT a FROM t WHERE tenant_id = {tenant:String}',
      params: { tenant: 'acme' },
    });
  });

  it('refuses an empty or malformed tenant id, a caller binding "tenant", and a caller writing the tenant placeholder', () => {
    for (const bad of ['', "acme' OR '1'='1", 'ACME', 'a b', undefined as unknown as string]) {
      expect(() => selectForTenant(bad, { select: 'a', from: 't' }), String(bad)).toThrow(/valid tenant id/);
    }
    expect(() => selectForTenant('acme', { select: 'a', from: 't' }, { tenant: 'globex' })).toThrow(/bound by selectForTenant/);
    expect(() => selectForTenant('acme', { select: 'a', from: 't', where: 'tenant_id = {tenant:String} OR 1' })).toThrow(/tenant placeholder/);
  });

  it("the ledger's reads carry the tenant only as a parameter", async () => {
    const asked: { sql: string; params?: Record<string, unknown> }[] = [];
    const engine = {
      database: 'strata',
      async query(sql: string, params?: Record<string, unknown>) {
        asked.push({ sql, params });
        return { rows: [], elapsedMs: 0 };
      },
    } as unknown as Engine;
    const ledger = createLedger(engine);
    await ledger.findBatch('acme', "b-1' OR 1=1 --");
    await ledger.quarantinedOf('acme', 'b-1', 10);
    expect(asked).toEqual([
      {
        sql: 'SELECT table_name, rows, quarantined, body_sha256 FROM strata.ingest_batches WHERE tenant_id = {tenant:String} AND (batch_id = {batch:String}) ORDER BY inserted_at LIMIT 1',
        params: { batch: "b-1' OR 1=1 --", tenant: 'acme' },
      },
      {
        sql: 'SELECT line, reason FROM strata.ingest_quarantine WHERE tenant_id = {tenant:String} AND (batch_id = {batch:String}) ORDER BY line LIMIT {limit:UInt32}',
        params: { batch: 'b-1', limit: 10, tenant: 'acme' },
      },
    ]);
    for (const a of asked) expect(a.sql).not.toContain('acme');
    await expect(ledger.findBatch('', 'b-1')).rejects.toThrow(/valid tenant id/);
  });

  it('deleteForTenant: the tenant filter first and bound; a condition is required; the caller cannot bind or write the tenant', () => {
    expect(deleteForTenant('acme', { from: 'strata.ad_performance', where: 'campaign_id = {v:String}' }, { v: "c' OR 1=1" })).toEqual({
      sql: 'DELETE FROM strata.ad_performance WHERE tenant_id = {tenant:String} AND (campaign_id = {v:String})',
      params: { v: "c' OR 1=1", tenant: 'acme' },
    });
    expect(() => deleteForTenant('acme', { from: 't', where: ' ' })).toThrow(/condition/);
    expect(() => deleteForTenant('', { from: 't', where: 'a = 1' })).toThrow(/valid tenant id/);
    expect(() => deleteForTenant('acme', { from: 't', where: 'a = 1' }, { tenant: 'globex' })).toThrow(/bound by deleteForTenant/);
    expect(() => deleteForTenant('acme', { from: 't', where: 'tenant_id = {tenant:String} OR 1' })).toThrow(/tenant placeholder/);
  });

  it('is the only place in src/ingest that writes the tenant placeholder', () => {
    const writers = readdirSync('src/ingest').filter((f) => f.endsWith('.ts') && readFileSync(`src/ingest/${f}`, 'utf8').includes('{tenant:'));
    expect(writers).toEqual(['tenant-sql.ts']);
  });
});
