/**
 * Closed-loop load with autocannon (in the bench process, off the server's event loop): c
 * connections each keep one request in flight, cycling through `bodies`.
 */
import autocannon from 'autocannon';

export interface LoadResult {
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p97_5: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Server process CPU (all threads) per request: robust to other load on the machine. */
  readonly serverCpuMsPerRequest?: number;
  /** Engine statements per request over the run (below 1 uncached: merged or shared in flight). */
  readonly statementsPerRequest?: number;
  /** What every connection sent, when not the 8-widget mix. */
  readonly label?: string;
}

export async function runLoad(opts: { url: string; token: string; bodies: readonly string[]; connections: number; seconds: number }): Promise<LoadResult> {
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 60,
    method: 'POST',
    headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
    requests: opts.bodies.map((body) => ({ method: 'POST', body })),
  });
  return {
    connections: opts.connections,
    seconds: r.duration,
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p97_5: r.latency.p97_5,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
