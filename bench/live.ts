/**
 * Live subscriptions at scale: N graphql-ws subscriptions spread over a few connections and a
 * set of distinct dashboard queries, then ingestion-driven changes. Measures the time to
 * subscribe everyone, server memory per 1,000 subscriptions, evaluations per change and push
 * latency (from the start of the ingest request to each subscriber's new result).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { SemanticQuery } from '../src/semantic/query.js';
import type { ServerChild } from './child.js';
import { ensureBenchCampaigns } from './ingest.js';
import { summarize, type Summary } from './stats.js';
import { liveQueries, WIDGETS } from './workload.js';

export interface LiveResult {
  readonly subscriptions: number;
  readonly connections: number;
  readonly distinctQueries: number;
  readonly subscribeSeconds: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly changes: number;
  readonly expectedPerChange: number;
  readonly evaluationsPerChange: number;
  /** ClickHouse SELECT statements per change: the evaluations' (after merging / range splits) and the ingest's own ledger reads. */
  readonly statementsPerChange: number;
  readonly deliveredPerChange: number;
  readonly unexpectedPushes: number;
  readonly push: Summary;
  /** The same pushes seen by a separate, lightly loaded client process (one subscription per affected widget). */
  readonly probePush?: Summary;
  readonly ingestMs: Summary;
}

interface Probe {
  readonly pushes: { received: number; at: number }[];
  stop(): Promise<void>;
}

/** Starts bench/live-probe.ts in its own process; resolves once its subscriptions have their first result. */
async function startProbe(url: string, token: string, queries: readonly SemanticQuery[]): Promise<Probe> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./live-probe.ts', import.meta.url))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pushes: { received: number; at: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; received?: number; at?: number; error?: string }) => {
      if (m.ready) resolve();
      else if (m.error) reject(new Error(`live probe: ${m.error}`));
      else if (m.received !== undefined && m.at !== undefined) pushes.push({ received: m.received, at: m.at });
    });
    child.once('exit', (code) => reject(new Error(`live probe exited with ${code}`)));
    child.send({ url: `${url.replace('http', 'ws')}/graphql`, token, query: SUBSCRIPTION, variables: queries.map((q) => ({ q })) });
  });
  return {
    pushes,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ stop: true });
        setTimeout(() => child.kill(), 5_000).unref();
      }),
  };
}

const SUBSCRIPTION = 'subscription ($q: JSON!) { live(query: $q) { data } }';
/** Widgets whose cube reads ad_performance: an ingest into it must reach exactly these. */
const READS_AD_PERFORMANCE = new Set(['kpis', 'trend', 'platforms', 'top-campaigns', 'geo-device']);

interface Sub {
  readonly affected: boolean;
  received: number;
}

async function metricValue(server: ServerChild, name: string): Promise<number> {
  const all = await server.call<{ name: string; values: { value: number }[] }[]>({ op: 'metrics' });
  return all.find((m) => m.name === name)?.values.reduce((a, v) => a + v.value, 0) ?? 0;
}

function changeRows(change: number): string {
  // Dated inside every live window; a large cost moves every ad_performance widget's result: the
  // change's new campaign (5M+) enters the top 10 campaigns of every window (the 10th spends ~0.9–1.2M).
  // With less, an unchanged top 10 is rightly not pushed, and the scenario would wait for it.
  const rows = Array.from({ length: 50 }, (_, i) => ({
    date: '2026-10-30',
    platform: 'google_ads',
    account_id: 'bench-acc',
    campaign_id: `bench-cmp-${change}`,
    ad_group_id: 'bench-ag',
    ad_id: `bench-live-${change}-${i}`,
    country: 'US',
    device: 'desktop',
    impressions: 1000,
    clicks: 100,
    cost: 100_000 * (change + 1),
    conversions: 5,
    conversion_value: 500,
    video_views: 0,
    engagements: 0,
  }));
  return rows.map((r) => JSON.stringify(r)).join('\n');
}

export async function runLive(opts: {
  server: ServerChild;
  userToken: string;
  ingestToken: string;
  subscriptions: number;
  connections: number;
  variants: number;
  changes: number;
  timeoutMs?: number;
  /** A V8 CPU profile of the server's main thread over the changes (not the subscribing) is written here. */
  profilePath?: string;
}): Promise<LiveResult> {
  const { server } = opts;
  // Before any subscription: loading the campaigns is a change of its own.
  await ensureBenchCampaigns(server.url, opts.ingestToken, Math.max(50, opts.changes));
  const queries: SemanticQuery[] = liveQueries(opts.variants);
  const widgetOf = (k: number) => WIDGETS[k % WIDGETS.length].id;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const before = await server.call<NodeJS.MemoryUsage>({ op: 'memory', gc: true });

  const clients: Client[] = [];
  for (let c = 0; c < opts.connections; c++) {
    clients.push(
      createClient({
        url: `${server.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${opts.userToken}` },
        retryAttempts: 0,
        lazy: false,
      }),
    );
  }
  const subs: Sub[] = [];
  let change: { t0: number; baseline: number[]; latencies: number[]; remaining: number } | undefined;
  let unexpected = 0;
  let initial = 0;
  let failed: Error | undefined;
  const allInitial = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`live: only ${initial}/${opts.subscriptions} initial results after ${timeoutMs} ms`)), timeoutMs);
    const t0 = performance.now();
    for (let i = 0; i < opts.subscriptions; i++) {
      const k = i % queries.length;
      const sub: Sub = { affected: READS_AD_PERFORMANCE.has(widgetOf(k)), received: 0 };
      subs.push(sub);
      clients[i % clients.length].subscribe(
        { query: SUBSCRIPTION, variables: { q: queries[k] } },
        {
          next: (msg) => {
            if (msg.errors?.length) failed ??= new Error(`live: ${JSON.stringify(msg.errors).slice(0, 300)}`);
            sub.received++;
            if (sub.received === 1 && ++initial === opts.subscriptions) {
              clearTimeout(t);
              resolve();
            }
            if (change && sub.received === change.baseline[i] + 1) {
              if (sub.affected) {
                change.latencies.push(performance.now() - change.t0);
                change.remaining--;
              } else unexpected++;
            }
          },
          error: (e) => {
            failed ??= e instanceof Error ? e : new Error(`live: ${JSON.stringify(e).slice(0, 300)}`);
            reject(failed);
          },
          complete: () => undefined,
        },
      );
    }
    void t0;
  });
  const s0 = performance.now();
  await allInitial;
  const subscribeSeconds = (performance.now() - s0) / 1000;
  if (failed) throw failed;
  const after = await server.call<NodeJS.MemoryUsage>({ op: 'memory', gc: true });

  const pushes: number[] = [];
  const probeLatencies: number[] = [];
  const ingestMs: number[] = [];
  const probeQueries = queries.filter((_, k) => k < WIDGETS.length && READS_AD_PERFORMANCE.has(widgetOf(k)));
  const probe = await startProbe(server.url, opts.userToken, probeQueries);
  const expected = subs.filter((s) => s.affected).length;
  let delivered = 0;
  const evalBefore = await metricValue(server, 'strata_live_evaluations_total');
  const statementsBefore = await metricValue(server, 'strata_clickhouse_queries_total');
  if (opts.profilePath) await server.call({ op: 'profile-start' });
  for (let k = 0; k < opts.changes; k++) {
    const current = { t0: performance.now(), baseline: subs.map((s) => s.received), latencies: [] as number[], remaining: expected };
    const t0Wall = performance.timeOrigin + current.t0;
    const probeSeen = probe.pushes.length;
    change = current;
    const res = await fetch(`${server.url}/v1/ingest/ad_performance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.ingestToken}`, 'content-type': 'application/x-ndjson', 'idempotency-key': `bench-live-${k}` },
      body: changeRows(k),
    });
    ingestMs.push(performance.now() - current.t0);
    if (!res.ok) throw new Error(`live: ingest failed ${res.status} ${await res.text()}`);
    const deadline = performance.now() + timeoutMs;
    while (current.remaining > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (current.remaining > 0) {
      // Which widgets did not get this change (a wrong scenario or a lost push): said, not hidden.
      const missing = new Map<string, number>();
      subs.forEach((sub, i) => {
        const key = `query ${i % queries.length} (${widgetOf(i % queries.length)})`;
        if (sub.affected && sub.received === current.baseline[i]) missing.set(key, (missing.get(key) ?? 0) + 1);
      });
      process.stderr.write(`live: change ${k} did not reach ${[...missing].map(([q, n]) => `${n} subscribers of ${q}`).join(', ')}\n`);
    }
    // Let stragglers and any (wrong) pushes to unaffected subscribers arrive before the next change.
    await new Promise((r) => setTimeout(r, 200));
    pushes.push(...current.latencies);
    probeLatencies.push(...probe.pushes.slice(probeSeen).map((p) => p.at - t0Wall));
    delivered += current.latencies.length;
    change = undefined;
  }
  if (opts.profilePath) await server.call({ op: 'profile-stop', path: opts.profilePath });
  await probe.stop();
  const evaluations = (await metricValue(server, 'strata_live_evaluations_total')) - evalBefore;
  const statements = (await metricValue(server, 'strata_clickhouse_queries_total')) - statementsBefore;
  await Promise.all(clients.map((c) => c.dispose()));
  if (failed) throw failed;
  return {
    subscriptions: opts.subscriptions,
    connections: opts.connections,
    distinctQueries: Math.min(queries.length, opts.subscriptions),
    subscribeSeconds,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    changes: opts.changes,
    expectedPerChange: expected,
    evaluationsPerChange: evaluations / opts.changes,
    statementsPerChange: statements / opts.changes,
    deliveredPerChange: delivered / opts.changes,
    unexpectedPushes: unexpected,
    push: summarize(pushes),
    probePush: probeLatencies.length ? summarize(probeLatencies) : undefined,
    ingestMs: summarize(ingestMs),
  };
}
