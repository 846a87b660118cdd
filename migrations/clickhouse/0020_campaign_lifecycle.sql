-- Campaign lifecycle (specifications 001 and 003): DSPs in the platforms reference, advertiser /
-- currency / labels on campaigns, ad and ad-group names and geography below country on
-- ad_performance, the type-2 campaign history and the campaign-day budget table (pacing).

-- The Trade Desk and Amazon DSP (spec 003 dsp_type 'ttd', 'amazon'); ingestion's known_platform
-- rule reads this list, so their rows are accepted from now on.
INSERT INTO platforms (platform, display_name, channel) VALUES
    ('ttd', 'The Trade Desk', 'programmatic'),
    ('amazon', 'Amazon DSP', 'programmatic');

ALTER TABLE campaigns
    ADD COLUMN IF NOT EXISTS advertiser_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS advertiser_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS currency LowCardinality(String) DEFAULT 'USD' COMMENT 'ISO 4217 code of budget and spend',
    ADD COLUMN IF NOT EXISTS labels Array(String) DEFAULT [] COMMENT 'free-form labels set on the platform';

-- Region and city are part of a row's grain (a platform's geographic breakdown), so they join the
-- sorting key, which for a ReplacingMergeTree is also the upsert key. ClickHouse only lets columns
-- added in the same ALTER, without a default, extend the key; the defaults follow in the next ALTER
-- (rows sent without them keep meaning "the whole country", as before).
ALTER TABLE ad_performance
    ADD COLUMN region LowCardinality(String),
    ADD COLUMN city String,
    MODIFY ORDER BY (tenant_id, date, platform, campaign_id, ad_group_id, ad_id, country, device, region, city);
ALTER TABLE ad_performance
    MODIFY COLUMN region LowCardinality(String) DEFAULT '' COMMENT 'ISO 3166-2 subdivision name; empty = whole country',
    MODIFY COLUMN city String DEFAULT '' COMMENT 'empty = whole region',
    ADD COLUMN IF NOT EXISTS ad_group_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS ad_name String DEFAULT '';

-- Type-2 history of campaign settings: one row per version, valid from valid_from (inclusive) to
-- valid_to (exclusive; NULL while current). "What was the budget on day D": valid_from <= D < valid_to.
CREATE TABLE IF NOT EXISTS campaign_history
(
    tenant_id     LowCardinality(String),
    campaign_id   String,
    valid_from    Date,
    valid_to      Nullable(Date) COMMENT 'exclusive; NULL for the current version',
    is_current    UInt8,
    version       UInt16,
    platform      LowCardinality(String),
    name          String,
    status        LowCardinality(String) COMMENT 'active, paused, ended',
    budget        Float64,
    budget_type   LowCardinality(String) COMMENT 'daily, lifetime',
    change_reason LowCardinality(String) COMMENT 'created, budget_increase, budget_decrease, paused, resumed, ended, renamed',
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(valid_from)
ORDER BY (tenant_id, campaign_id, valid_from)
SETTINGS non_replicated_deduplication_window = 10000;

-- One row per campaign and day of its flight: the settings in force that day (from the history),
-- the budget planned for the day and the spend the platform reported for the campaign that day.
CREATE TABLE IF NOT EXISTS campaign_days
(
    tenant_id     LowCardinality(String),
    date          Date,
    campaign_id   String,
    platform      LowCardinality(String),
    status        LowCardinality(String) COMMENT 'status in force that day',
    budget        Float64 COMMENT 'budget in force that day (per day or lifetime, see budget_type)',
    budget_type   LowCardinality(String),
    planned_spend Float64 COMMENT 'the day''s share of the budget: the daily budget, or lifetime / flight days; 0 when not active',
    spend         Float64 COMMENT 'campaign-level spend reported for the day',
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, campaign_id)
SETTINGS non_replicated_deduplication_window = 10000;
