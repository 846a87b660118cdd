/**
 * The bench's server process: the real server (createServices + startServer, exactly what
 * `strata serve` wires) plus a bench-only control channel over Node IPC. The control channel
 * runs the floor (compiled SQL straight through services.engine) and the compile micro-benchmark
 * in THIS process, so floor and doors share one chDB instance, one data directory and the same
 * warm caches, while the load generator (bench/run.ts) stays off this event loop.
 * Started by bench/child.ts; never imported by src/.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { expandScopes, type Principal } from '../src/auth/principal.js';
import { loadConfig } from '../src/config.js';
import { countDemoRows } from '../src/demo/seed.js';
import type { ByteWriter } from '../src/ingest/row-binary.js';
import { describeTable } from '../src/ingest/table-schema.js';
import { compileRowEncoder } from '../src/ingest/validate.js';
import { startServer } from '../src/server.js';
import { createServices } from '../src/services.js';
import type { SemanticQuery } from '../src/semantic/query.js';
import { checksum } from './checksum.js';

export interface FloorSample {
  readonly ms: number;
  readonly rows: number;
  readonly checksum: number;
}

export type ControlRequest =
  /** final: false reads without FINAL (query-level setting), for the upsert design's cost (bench/parts.ts). */
  | { op: 'floor'; tenantId: string; roles: string[]; query: SemanticQuery; final?: boolean }
  | { op: 'compile'; tenantId: string; roles: string[]; queries: SemanticQuery[]; iterations: number }
  | { op: 'info' }
  | { op: 'memory'; gc: boolean }
  | { op: 'metrics' }
  /** SELECT statements the engine ran since start (single-flight: statements per request). */
  | { op: 'engine-stats' }
  | { op: 'insert-floor'; table: string; tenantId: string; ndjson: string }
  | { op: 'profile-start' }
  | { op: 'profile-stop'; path: string }
  | { op: 'stop' };

function principal(tenantId: string, roles: string[]): Principal {
  return { tenantId, roles, scopes: expandScopes([], roles), subject: 'bench', via: 'cli' };
}

const startedAt = performance.now();
const config = loadConfig();
const services = await createServices(config);
const server = await startServer(services);
const { engine, query, metrics } = services;

async function handle(req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'floor': {
      // What the query service does before execute (normalize + authorize + compile) happens
      // outside the timer: the floor is the engine alone.
      const { compiled } = query.compile(principal(req.tenantId, req.roles), req.query);
      const sql = req.final === false ? `${compiled.sql} SETTINGS final = 0` : compiled.sql;
      const t0 = performance.now();
      const r = await engine.query<Record<string, unknown>>(sql, compiled.params);
      const ms = performance.now() - t0;
      return { ms, rows: r.rows.length, checksum: checksum(r.rows) } satisfies FloorSample;
    }
    case 'compile': {
      const p = principal(req.tenantId, req.roles);
      // Warm up the JIT, then time each query separately: µs per normalize+authorize+compile.
      for (let i = 0; i < Math.min(2_000, req.iterations); i++) for (const q of req.queries) query.compile(p, q);
      const perQuery: number[][] = req.queries.map(() => []);
      for (let i = 0; i < req.iterations; i++) {
        req.queries.forEach((q, k) => {
          const t0 = performance.now();
          query.compile(p, q);
          perQuery[k].push((performance.now() - t0) * 1000);
        });
      }
      return perQuery;
    }
    case 'info': {
      const { rows } = await engine.query<{ v: string }>('SELECT version() AS v');
      return { chdbVersion: rows[0]?.v, rows: await countDemoRows(engine), startupMs: server ? readyMs : 0 };
    }
    case 'memory': {
      if (req.gc && typeof globalThis.gc === 'function') {
        for (let i = 0; i < 3; i++) {
          globalThis.gc();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      return process.memoryUsage();
    }
    case 'insert-floor': {
      // The ingestion floor: the same rows straight into engine.insert, no checks, no ledger.
      const t0 = performance.now();
      const rows = req.ndjson.split('\n').map((line) => ({ ...(JSON.parse(line) as Record<string, unknown>), tenant_id: req.tenantId }));
      const parsed = performance.now();
      await engine.insert(req.table, rows);
      const insertMs = performance.now() - parsed;
      // What src/ingest/sink.ts sends: the same rows, checked and encoded as the sink does (outside
      // the timer: RowBinaryWithDefaults when the engine reads it), through engine.insertRaw.
      const encoder = compileRowEncoder(await describeTable(engine, req.table), `${req.tenantId}-raw`);
      const encoded = req.ndjson.split('\n').flatMap((line) => {
        const r = encoder.encode(JSON.parse(line));
        return typeof r === 'string' ? [] : [r];
      });
      const binary = encoder.binary && (await engine.acceptsFormat?.('RowBinaryWithDefaults')) ? encoder.binary : undefined;
      const out: ByteWriter = {
        buf: Buffer.allocUnsafe(1 << 20),
        pos: 0,
        ensure(bytes) {
          if (this.pos + bytes > this.buf.length)
            this.buf = Buffer.concat([this.buf.subarray(0, this.pos), Buffer.allocUnsafe(Math.max(this.buf.length, bytes))]);
        },
      };
      for (const values of encoded) {
        if (binary) binary(out, values);
        else {
          out.ensure(4 * 1024);
          out.pos += out.buf.write(`${JSON.stringify(values)}\n`, out.pos);
        }
      }
      const body = out.buf.subarray(0, binary ? out.pos : out.pos - 1);
      const t1 = performance.now();
      await engine.insertRaw(req.table, body, binary ? 'RowBinaryWithDefaults' : 'JSONCompactEachRow', encoder.columns);
      const rawMs = performance.now() - t1;
      return {
        rows: rows.length,
        parseMs: parsed - t0,
        insertMs,
        rawMs,
        rawRows: encoded.length,
        rawFormat: binary ? 'RowBinaryWithDefaults' : 'JSONCompactEachRow',
      };
    }
    case 'metrics':
      return metrics.registry.getMetricsAsJSON();
    case 'engine-stats':
      return engine.stats();
    case 'profile-start': {
      // A V8 CPU profile of this (main) thread over one scenario only, not the start-up.
      profiler ??= new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      return { started: true };
    }
    case 'profile-stop': {
      if (!profiler) throw new Error('profiler not started');
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(req.path, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      return { path: req.path };
    }
    case 'stop':
      await server.close();
      setImmediate(() => process.exit(0)); // a clean exit writes --cpu-prof profiles
      return { stopped: true };
  }
}

let profiler: Session | undefined;
const readyMs = performance.now() - startedAt;
process.on('message', (msg: { id: number; req: ControlRequest }) => {
  handle(msg.req).then(
    (result) => process.send?.({ id: msg.id, result }),
    (e: Error) => process.send?.({ id: msg.id, error: `${e.name}: ${e.message}` }),
  );
});
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
process.send?.({ ready: { url: server.url, port: server.port, sqlProxyPort: server.sqlProxyPort, readyMs } });
