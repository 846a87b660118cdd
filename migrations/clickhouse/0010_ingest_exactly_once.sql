-- Exactly-once ingestion (src/ingest/CONTEXT.md). Every chunk an ingestion inserts carries an
-- insert_deduplication_token derived from (tenant, batch id, chunk); ClickHouse drops a block whose
-- token it has already stored, so a retry after a crash, or the same batch on two instances, stores
-- each chunk once. Non-replicated MergeTree tables remember the last N block tokens only when
-- non_replicated_deduplication_window is set.
ALTER TABLE web_sessions MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE conversions MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE campaigns MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE clients MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE ingest_quarantine MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE ingest_batches MODIFY SETTING non_replicated_deduplication_window = 10000;

-- One claim per (tenant, batch id): the first body to claim a batch id owns it. The claim insert
-- carries the token "claim/<tenant>/<batch>", so of two concurrent claims ClickHouse keeps one
-- (under its parts lock); whoever reads back a claim with another body hash gets 409.
CREATE TABLE IF NOT EXISTS ingest_claims
(
    tenant_id   LowCardinality(String),
    batch_id    String,
    table_name  LowCardinality(String),
    body_sha256 String,
    claimed_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (tenant_id, batch_id)
SETTINGS non_replicated_deduplication_window = 100000;

-- Batch history: what the report said, how long it took, where it came from.
ALTER TABLE ingest_batches
    ADD COLUMN IF NOT EXISTS body_sha256 String DEFAULT '',
    ADD COLUMN IF NOT EXISTS source LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS duration_ms UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS replay_of String DEFAULT '' COMMENT 'batch whose quarantined rows this batch re-submits';

-- The data-quality rule a row broke ('' for a type/shape check), and the row's line as a column.
ALTER TABLE ingest_quarantine
    ADD COLUMN IF NOT EXISTS rule LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS line UInt32 DEFAULT JSONExtractUInt(row_json, 'line');

-- What became of a quarantined row: replayed (fixed and re-submitted) or discarded; latest wins.
CREATE TABLE IF NOT EXISTS ingest_quarantine_resolutions
(
    tenant_id   LowCardinality(String),
    batch_id    String,
    line        UInt32,
    status      LowCardinality(String) COMMENT 'replayed, discarded',
    replay_batch_id String DEFAULT '',
    resolved_by String DEFAULT '',
    resolved_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY (tenant_id, batch_id, line);
