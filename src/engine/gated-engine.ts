/**
 * An engine that refuses statements while the warehouse is not ready to answer (migrations or a
 * demo seed still running, here or in another instance). The doors get this one, so every data
 * answer waits for a complete warehouse; ping, stats and cancel pass through.
 */
import { UserError } from '../errors.js';
import type { Engine, EngineQueryOptions, ExportFormat, RawInsertFormat } from './engine.js';

/** Seconds a client is told to wait before retrying (Retry-After). */
export const NOT_READY_RETRY_SECONDS = 2;

/** `notReady()`: why statements are refused now, or undefined when they run. */
export function gatedEngine(engine: Engine, notReady: () => string | undefined): Engine {
  const check = () => {
    const reason = notReady();
    if (reason !== undefined) {
      throw new UserError('ENGINE_UNAVAILABLE', `Strata is not ready to answer data queries yet: ${reason}; retry shortly`, {
        retryAfterSeconds: NOT_READY_RETRY_SECONDS,
      });
    }
  };
  return Object.freeze<Engine>({
    kind: engine.kind,
    database: engine.database,
    query: async (sql, params, options) => {
      check();
      return engine.query(sql, params, options);
    },
    command: async (sql, params) => {
      check();
      return engine.command(sql, params);
    },
    // Options carry the insert's deduplication token (exactly-once ingestion): always forwarded.
    insert: async (table, rows, options) => {
      check();
      return engine.insert(table, rows, options);
    },
    insertRaw: async (table, body, format, columns, options) => {
      check();
      return engine.insertRaw(table, body, format, columns, options);
    },
    ...(engine.acceptsFormat ? { acceptsFormat: (format: RawInsertFormat) => engine.acceptsFormat!(format) } : {}),
    ...(engine.exportTo
      ? {
          exportTo: async (sql: string, params: Readonly<Record<string, unknown>>, format: ExportFormat, file: string, options?: EngineQueryOptions) => {
            check();
            return engine.exportTo!(sql, params, format, file, options);
          },
        }
      : {}),
    cancel: (queryId) => engine.cancel(queryId),
    ping: () => engine.ping(),
    stats: () => engine.stats(),
    onQuery: (listener) => engine.onQuery(listener),
    close: () => engine.close(),
  });
}
