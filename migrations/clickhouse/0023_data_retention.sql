-- Retention per tenant and fact table (issue #15 item 5): how many days of rows a tenant keeps, set
-- from its plan by ingest/retention.ts `setRetention`. The fact tables' TTL reads it through the
-- dictionary data_retention_dict (created with the TTLs by `enableRetention`, which knows the
-- database name); no row here means "keep everything" (100 years).
CREATE TABLE IF NOT EXISTS data_retention
(
    tenant_id  LowCardinality(String),
    table_name LowCardinality(String),
    days       UInt32,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant_id, table_name);
