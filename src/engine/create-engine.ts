/**
 * createEngine: one engine per ClickHouse target per process. libchdb binds ONE data directory
 * per process, so asking for a second chDB path while one is open fails with ENGINE_UNAVAILABLE;
 * asking again for the same target returns the same engine (reference-counted close()).
 */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { EngineError } from '../errors.js';
import { ClickHouseEngine } from './clickhouse-engine.js';
import type { Engine } from './engine.js';
import { chdbTransport, httpTransport } from './transport.js';

export type EngineOptions = Pick<Config['clickhouse'], 'url' | 'username' | 'password' | 'database' | 'chdbPath' | 'queryTimeoutMs'>;

interface Entry {
  readonly engine: ClickHouseEngine;
  refs: number;
}

const live = new Map<string, Entry>();

export function createEngine(options: EngineOptions): Engine {
  const key = targetKey(options);
  const existing = live.get(key);
  if (existing) {
    existing.refs++;
    return handle(key, existing);
  }
  if (!options.url) {
    const path = resolve(options.chdbPath);
    const other = [...live.keys()].find((k) => k.startsWith('chdb:') && !k.startsWith(`chdb:${path}|`));
    if (other) {
      throw new EngineError(
        'ENGINE_UNAVAILABLE',
        `chDB is already bound to ${other.slice(5).split('|')[0]} in this process; libchdb supports one data path per process (asked for ${path})`,
      );
    }
  }
  const transport = options.url
    ? httpTransport({ url: options.url, username: options.username, password: options.password, database: options.database })
    : chdbTransport(resolve(options.chdbPath));
  const entry: Entry = { engine: new ClickHouseEngine(transport, { database: options.database, queryTimeoutMs: options.queryTimeoutMs }), refs: 1 };
  live.set(key, entry);
  return handle(key, entry);
}

function targetKey(o: EngineOptions): string {
  return o.url ? `http:${o.url}|${o.username ?? ''}|${o.database}` : `chdb:${resolve(o.chdbPath)}|${o.database}`;
}

/** Same engine, but close() only releases this reference. */
function handle(key: string, entry: Entry): Engine {
  const engine = entry.engine;
  let released = false;
  return Object.freeze<Engine>({
    kind: engine.kind,
    database: engine.database,
    query: (sql, params, options) => engine.query(sql, params, options),
    command: (sql, params) => engine.command(sql, params),
    insert: (table, rows, options) => engine.insert(table, rows, options),
    insertRaw: (table, body, format, columns, options) => engine.insertRaw(table, body, format, columns, options),
    acceptsFormat: (format) => engine.acceptsFormat(format),
    exportTo: (sql, params, format, file, options) => engine.exportTo(sql, params, format, file, options),
    cancel: (queryId) => engine.cancel(queryId),
    ping: () => engine.ping(),
    stats: () => engine.stats(),
    onQuery: (listener) => engine.onQuery(listener),
    async close() {
      if (released) return;
      released = true;
      if (--entry.refs > 0) return;
      live.delete(key);
      await engine.close();
    },
  });
}
