/**
 * The catalog engines (src/catalog-engine/: PGlite in worker threads) and the SQL proxy's use of
 * them (sqlproxy/catalog-db.ts): one engine per DDL, a time limit that restarts the engine, engines
 * booted from a template with no idle engine before the first use, and every statement read-only
 * and rolled back.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CatalogEngine, CatalogEngineError, CatalogEnginePool } from '../../../src/catalog-engine/engines.js';
import { createLogger } from '../../../src/logger.js';
import type { CatalogCube } from '../../../src/query/types.js';
import { CatalogEngines } from '../../../src/sqlproxy/catalog-db.js';
import { frontend, splitBackendMessages } from '../../../src/sqlproxy/codec.js';

const logger = createLogger('silent');
const rowsOf = (bytes: Uint8Array) => splitBackendMessages(bytes).filter((m) => m.type === 'D').length;

describe('CatalogEnginePool', () => {
  const pool = new CatalogEnginePool({ logger, statementTimeoutMs: 1_000 });
  afterAll(() => pool.close());

  it('shares one engine per DDL, and a statement over the time limit restarts it', async () => {
    const ddl = 'CREATE TABLE t (a int);';
    const engine = await pool.forSchema(ddl);
    expect(await pool.forSchema(ddl)).toBe(engine);
    expect(rowsOf(await engine.exchange(frontend.query("SELECT relname FROM pg_class WHERE relname = 't'")))).toBe(1);

    const slow = engine.exchange(frontend.query('SELECT count(*) FROM generate_series(1, 10000000000)'));
    await expect(slow).rejects.toBeInstanceOf(CatalogEngineError);
    await expect(slow).rejects.toMatchObject({ sqlState: '57014' });
    expect(engine.dead).toBe(true);

    const fresh = await pool.forSchema(ddl);
    expect(fresh).not.toBe(engine);
    expect(rowsOf(await fresh.exchange(frontend.query('SELECT 1')))).toBe(1);
  }, 60_000);
});

describe('CatalogEnginePool boot', () => {
  const pool = new CatalogEnginePool({ logger });
  afterAll(() => pool.close());
  const names = async (engine: CatalogEngine, sql: string) =>
    splitBackendMessages(await engine.exchange(frontend.query(sql)))
      .filter((m) => m.type === 'D')
      .map((m) => m.body.subarray(6).toString('utf8'));

  it('keeps no engine after warm(); engines boot from the template, then a spare waits for the next DDL', async () => {
    expect(await pool.state()).toEqual({ engines: 0, spare: false, template: false });
    await pool.warm();
    // The template is made by a process that has exited: nothing booted is held.
    expect(await pool.state()).toEqual({ engines: 0, spare: false, template: true });

    const a = await pool.forSchema('CREATE TABLE a (x int);');
    expect(await names(a, "SELECT relname FROM pg_class WHERE relname IN ('a', 'b') ORDER BY 1")).toEqual(['a']);
    // The template's cluster carries Strata's database (psql's \l lists it).
    expect(await names(a, 'SELECT datname FROM pg_database WHERE datname = current_database() OR datname = $$strata$$ ORDER BY 1')).toEqual([
      'postgres',
      'strata',
    ]);

    // In use now: a spare boots (2 s later) and the next new DDL takes it.
    const deadline = Date.now() + 45_000;
    while (!(await pool.state()).spare && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await pool.state()).toMatchObject({ engines: 1, spare: true });
    const b = await pool.forSchema('CREATE TABLE b (y int);');
    expect(b).not.toBe(a);
    expect(await names(b, "SELECT relname FROM pg_class WHERE relname IN ('a', 'b') ORDER BY 1")).toEqual(['b']);
    expect((await pool.state()).engines).toBe(2);
  }, 90_000);
});

describe('CatalogEnginePool when the template cannot be made', () => {
  it('engines run initdb themselves and work', async () => {
    const pool = new CatalogEnginePool({ logger, templateCommand: [process.execPath, '-e', 'process.exit(3)'] });
    try {
      await pool.warm();
      expect(await pool.state()).toEqual({ engines: 0, spare: false, template: false });
      const engine = await pool.forSchema('CREATE TABLE c (z int);');
      expect(rowsOf(await engine.exchange(frontend.query("SELECT relname FROM pg_class WHERE relname = 'c'")))).toBe(1);
      expect((await pool.state()).template).toBe(false);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('close() stops a template process still running', async () => {
    const pidFile = join(tmpdir(), `strata-template-pid-${process.pid}`);
    const hang = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 120000)`;
    const pool = new CatalogEnginePool({ logger, templateCommand: [process.execPath, '-e', hang] });
    const warming = pool.warm();
    const deadline = Date.now() + 20_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    await pool.close();
    await warming; // settles: the pool closed without a template
    const gone = Date.now() + 5_000;
    while (alive(pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
    rmSync(pidFile, { force: true });
  }, 60_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('CatalogEngines (SQL proxy)', () => {
  const engines = new CatalogEngines({ logger });
  afterAll(() => engines.close());
  const catalog: CatalogCube[] = [];

  it('runs a statement read-only and rolls it back', async () => {
    const session = await engines.forCatalog(catalog);
    const simple = (sql: string) => [frontend.parse('', sql, []), frontend.bind('', '', [], [], []), frontend.execute('', 0)];
    const out = await session.run(simple('SELECT 1 AS one'));
    expect(out.map((m) => m.type)).toEqual(['1', '2', 'D', 'C']);
    await expect(session.run(simple('CREATE TABLE x (a int)'))).rejects.toMatchObject({ code: '25006' });
  }, 60_000);
});
