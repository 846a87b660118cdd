-- Daily ad delivery facts, one row per tenant/date/ad/country/device.
CREATE TABLE IF NOT EXISTS ad_performance
(
    tenant_id        LowCardinality(String),
    date             Date,
    platform         LowCardinality(String),
    account_id       String,
    campaign_id      String,
    ad_group_id      String,
    ad_id            String,
    country          LowCardinality(String) COMMENT 'ISO 3166-1 alpha-2',
    device           LowCardinality(String) COMMENT 'mobile, desktop, tablet, ctv',
    impressions      UInt64,
    clicks           UInt64,
    cost             Float64 COMMENT 'ad spend in the tenant currency',
    conversions      UInt64,
    conversion_value Float64,
    video_views      UInt64,
    engagements      UInt64,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, platform, campaign_id, ad_group_id, ad_id, country, device);
