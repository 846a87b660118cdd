/**
 * Binary inserts on chDB go through a spool file (engine/transport.ts). When the memory-backed
 * directory cannot be used (here: a path that is a file, as a read-only or missing /dev/shm would
 * be), the temp directory takes over, the rows land, and closing the engine removes the spool.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClickHouseEngine } from '../../../src/engine/clickhouse-engine.js';
import { chdbTransport } from '../../../src/engine/transport.js';
import { makeTempDir } from '../../helpers/clickhouse.js';

const dir = makeTempDir();
const notADirectory = join(dir, 'not-a-directory');
writeFileSync(notADirectory, 'x');
const engine = new ClickHouseEngine(chdbTransport(join(dir, 'ch'), { spoolBase: notADirectory }), { database: 'strata', queryTimeoutMs: 30_000 });
const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`strata-insert-${process.pid}-`));

afterAll(async () => {
  await engine.close();
});

describe('binary insert spool', () => {
  it('falls back to the temp directory when the memory-backed one cannot be used', async () => {
    await engine.command("CREATE TABLE spooled (id UInt32, name String DEFAULT 'none') ENGINE = MergeTree ORDER BY id");
    // Two rows: id 7 with name "x"; id 8 with name absent (flag 1: the DEFAULT).
    const body = Buffer.from([0, 7, 0, 0, 0, 0, 1, 0x78, 0, 8, 0, 0, 0, 1]);
    await engine.insertRaw('spooled', body, 'RowBinaryWithDefaults', ['id', 'name']);
    expect((await engine.query('SELECT id, name FROM spooled ORDER BY id')).rows).toEqual([
      { id: 7, name: 'x' },
      { id: 8, name: 'none' },
    ]);
    // A second insert takes the temp directory again (the unusable one is not retried).
    await engine.insertRaw('spooled', Buffer.from([0, 9, 0, 0, 0, 1]), 'RowBinaryWithDefaults', ['id', 'name']);
    expect((await engine.query('SELECT count() AS n FROM spooled')).rows).toEqual([{ n: 3 }]);
    const spool = ours();
    expect(spool).toHaveLength(1);
    expect(readdirSync(join(tmpdir(), spool[0] as string))).toEqual([]);
    await engine.close();
    expect(existsSync(join(tmpdir(), spool[0] as string))).toBe(false);
  });
});
