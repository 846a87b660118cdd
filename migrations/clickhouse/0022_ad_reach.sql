-- Unique reach (specification 001): the people an ad reached, one row per person, campaign and day
-- (a clean-room / exposure-log export with a pseudonymous person key). Reach is a distinct count
-- over these rows, so it stays right for any grouping and period, unlike a summed daily reach.
CREATE TABLE IF NOT EXISTS ad_reach
(
    tenant_id   LowCardinality(String),
    date        Date,
    campaign_id String,
    platform    LowCardinality(String),
    person_id   String COMMENT 'pseudonymous person key (hashed by the platform or clean room)',
    country     LowCardinality(String),
    device      LowCardinality(String),
    impressions UInt32 COMMENT 'impressions the person saw that day (frequency)',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, campaign_id, person_id)
SETTINGS non_replicated_deduplication_window = 10000;
