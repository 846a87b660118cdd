/**
 * Ingestion throughput on embedded chDB (not part of the test run):
 *   npx tsx test/integration/ingest/throughput.bench.ts [rows]
 * Reports rows/s for NDJSON -> checks -> engine.insertRaw (JSONCompactEachRow).
 */
import { adRow, createStack, ndjson, principal } from '../live/stack.js';

const N = Number(process.argv[2] ?? 300_000);
const s = await createStack();
const rows = Array.from({ length: N }, (_, i) =>
  adRow({
    date: `2024-03-${String(1 + (i % 28)).padStart(2, '0')}`,
    campaign_id: `c${i % 500}`,
    ad_id: `a${i}`,
    clicks: i % 50,
    impressions: 1000,
    conversions: 0,
  }),
);
const body = ndjson(rows);
console.log(`${N} rows, ${(body.length / 1e6).toFixed(1)} MB NDJSON`);
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  const report = await s.ingest.ingest(principal('acme'), 'ad_performance', body, `bench-${run}`);
  const ms = performance.now() - t0;
  console.log(`run ${run + 1}: ${report.inserted} rows in ${Math.round(ms)} ms = ${Math.round((N / ms) * 1000)} rows/s`);
}
await s.close();
