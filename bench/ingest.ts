/**
 * Ingestion throughput: NDJSON batches POSTed to /v1/ingest/ad_performance with the real
 * data-quality checks; 1 row in 100 breaks a rule (clicks > impressions) and must be quarantined.
 */
import { post } from './http.js';
import { summarize, type Summary } from './stats.js';

export interface IngestResult {
  readonly batches: number;
  readonly rowsPerBatch: number;
  readonly bytesPerBatch: number;
  readonly rows: number;
  readonly inserted: number;
  readonly quarantined: number;
  readonly expectedQuarantined: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly batchMs: Summary;
  /** engine.insert of the same NDJSON (parsed with JSON.parse, no checks) inside the server process. */
  readonly floor: {
    readonly rows: number;
    readonly parseMs: number;
    readonly insertMs: number;
    readonly rowsPerSecond: number;
    readonly insertRowsPerSecond: number;
    /** engine.insertRaw of the same rows (the good ones) in the format the ingest sink sends. */
    readonly rawRowsPerSecond?: number;
    readonly rawFormat?: string;
  };
}

/**
 * The bench campaigns bench-cmp-0..count-1 for the tenant: the model's campaign_exists rule
 * quarantines facts whose campaign the tenant does not have. Untimed; idempotent (same key, same body).
 */
export async function ensureBenchCampaigns(url: string, token: string, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      campaign_id: `bench-cmp-${i}`,
      platform: 'google_ads',
      account_id: 'bench-acc',
      name: `Bench ${i}`,
      type: 'search',
      status: 'active',
      objective: 'sales',
      budget: 100,
      budget_type: 'daily',
      start_date: '2026-01-01',
    }),
  );
  const res = await post(
    `${url}/v1/ingest/campaigns`,
    { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', 'idempotency-key': `bench-campaigns-${count}` },
    Buffer.from(rows.join('\n')),
  );
  if (res.status !== 200) throw new Error(`bench campaigns ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
}

function batchBody(batch: number, rows: number): string {
  const lines: string[] = new Array(rows);
  const devices = ['mobile', 'desktop', 'tablet'];
  const countries = ['US', 'CA', 'GB', 'DE', 'FR'];
  for (let i = 0; i < rows; i++) {
    const impressions = 500 + ((i * 7919) % 5000);
    const bad = i % 100 === 99;
    lines[i] = JSON.stringify({
      date: `2026-10-${String(1 + (i % 28)).padStart(2, '0')}`,
      platform: i % 2 ? 'meta' : 'google_ads',
      account_id: `bench-acc-${i % 10}`,
      campaign_id: `bench-cmp-${i % 50}`,
      ad_group_id: `bench-ag-${i % 200}`,
      ad_id: `bench-ad-${batch}-${i}`,
      country: countries[i % countries.length],
      device: devices[i % devices.length],
      impressions,
      clicks: bad ? impressions + 1 : i % 97,
      cost: (i % 1000) / 10,
      // conversions <= clicks holds on every good row (the checks enforce it too).
      conversions: bad ? 0 : Math.min(i % 5, i % 97),
      conversion_value: (i % 5) * 42.5,
      video_views: 0,
      engagements: i % 13,
    });
  }
  return lines.join('\n');
}

export async function runIngest(opts: {
  url: string;
  token: string;
  batches: number;
  rowsPerBatch: number;
  runId: string;
  insertFloor: (ndjson: string) => Promise<{ rows: number; parseMs: number; insertMs: number; rawMs?: number; rawRows?: number; rawFormat?: string }>;
  /** Wraps the timed HTTP batches only (a profiler), not the floor measured afterwards. */
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
}): Promise<IngestResult> {
  await ensureBenchCampaigns(opts.url, opts.token, 50);
  const texts = Array.from({ length: opts.batches }, (_, b) => batchBody(b, opts.rowsPerBatch));
  const bodies = texts.map((t) => Buffer.from(t));
  const times: number[] = [];
  let inserted = 0;
  let quarantined = 0;
  const around = opts.around ?? (<T>(fn: () => Promise<T>) => fn());
  const seconds = await around(async () => {
    const t0 = performance.now();
    for (let b = 0; b < opts.batches; b++) {
      const s = performance.now();
      const res = await post(
        `${opts.url}/v1/ingest/ad_performance`,
        { authorization: `Bearer ${opts.token}`, 'content-type': 'application/x-ndjson', 'idempotency-key': `bench-${opts.runId}-${b}` },
        bodies[b],
      );
      const report = res.json as { inserted?: number; quarantinedCount?: number; error?: string };
      times.push(performance.now() - s);
      if (res.status !== 200) throw new Error(`ingest ${res.status}: ${JSON.stringify(report).slice(0, 300)}`);
      inserted += report.inserted ?? 0;
      quarantined += report.quarantinedCount ?? 0;
    }
    return (performance.now() - t0) / 1000;
  });
  const rows = opts.batches * opts.rowsPerBatch;
  let floorRows = 0;
  let parseMs = 0;
  let insertMs = 0;
  let rawMs: number | undefined;
  let rawRows = 0;
  let rawFormat: string | undefined;
  for (const body of texts.slice(0, Math.min(2, texts.length))) {
    const f = await opts.insertFloor(body);
    floorRows += f.rows;
    parseMs += f.parseMs;
    insertMs += f.insertMs;
    if (f.rawMs !== undefined) rawMs = (rawMs ?? 0) + f.rawMs;
    rawRows += f.rawRows ?? f.rows;
    rawFormat = f.rawFormat ?? rawFormat;
  }
  return {
    batches: opts.batches,
    rowsPerBatch: opts.rowsPerBatch,
    bytesPerBatch: bodies[0]?.length ?? 0,
    rows,
    inserted,
    quarantined,
    expectedQuarantined: opts.batches * Math.floor(opts.rowsPerBatch / 100),
    seconds,
    rowsPerSecond: rows / seconds,
    batchMs: summarize(times),
    floor: {
      rows: floorRows,
      parseMs,
      insertMs,
      rowsPerSecond: floorRows / ((parseMs + insertMs) / 1000),
      insertRowsPerSecond: floorRows / (insertMs / 1000),
      rawRowsPerSecond: rawMs === undefined ? undefined : rawRows / (rawMs / 1000),
      rawFormat,
    },
  };
}
