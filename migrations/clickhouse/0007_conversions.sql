-- Individual conversions credited to a campaign under one attribution model.
CREATE TABLE IF NOT EXISTS conversions
(
    tenant_id         LowCardinality(String),
    conversion_id     String,
    occurred_at       DateTime('UTC'),
    conversion_type   LowCardinality(String) COMMENT 'purchase, signup, lead, demo_request',
    value             Float64,
    campaign_id       String,
    platform          LowCardinality(String),
    attribution_model LowCardinality(String) COMMENT 'last_click, first_click, linear, data_driven',
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant_id, occurred_at, conversion_id);
