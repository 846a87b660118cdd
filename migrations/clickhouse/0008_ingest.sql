-- Batch ingestion bookkeeping: rows that failed data-quality checks, and accepted batches.
CREATE TABLE IF NOT EXISTS ingest_quarantine
(
    tenant_id   LowCardinality(String),
    table_name  LowCardinality(String),
    batch_id    String,
    row_json    String COMMENT 'the rejected row as sent, JSON',
    reason      String,
    received_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant_id, table_name, received_at, batch_id);

CREATE TABLE IF NOT EXISTS ingest_batches
(
    tenant_id   LowCardinality(String),
    table_name  LowCardinality(String),
    batch_id    String,
    rows        UInt64 COMMENT 'rows inserted into the target table',
    quarantined UInt64 DEFAULT 0 COMMENT 'rows sent to ingest_quarantine',
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (tenant_id, table_name, batch_id);
