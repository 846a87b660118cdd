-- Campaign attributes; a re-ingested campaign replaces the older row (read with FINAL).
CREATE TABLE IF NOT EXISTS campaigns
(
    tenant_id   LowCardinality(String),
    campaign_id String,
    platform    LowCardinality(String),
    account_id  String,
    name        String,
    type        LowCardinality(String) COMMENT 'search, display, video, social, shopping, performance_max',
    status      LowCardinality(String) COMMENT 'active, paused, ended',
    objective   LowCardinality(String) COMMENT 'awareness, traffic, leads, sales, app_installs',
    budget      Float64 COMMENT 'in the tenant currency; per day or for the lifetime (budget_type)',
    budget_type LowCardinality(String) COMMENT 'daily, lifetime',
    start_date  Date,
    end_date    Nullable(Date) COMMENT 'NULL for always-on campaigns',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, campaign_id);
