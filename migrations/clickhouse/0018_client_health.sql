-- Client health (cube-models/client_health.yml): monthly activity per client, the subscription status
-- history (type 2: one row per status spell, valid_to NULL for the current one), and multi-touch
-- conversion paths. Upserts on tenant + natural key (the engine reads with final = 1); yearly partitions
-- (a row per client and month, a few per client and path: small tables).
ALTER TABLE clients
    ADD COLUMN IF NOT EXISTS lead_score UInt8 DEFAULT 0 COMMENT '0-100 sales-qualification score',
    ADD COLUMN IF NOT EXISTS last_activity_at Nullable(DateTime('UTC')) COMMENT 'last time a user of the client was active';

CREATE TABLE IF NOT EXISTS client_activity
(
    tenant_id        LowCardinality(String),
    month            Date COMMENT 'first day of the month',
    client_id        String,
    active_users     UInt32,
    sessions         UInt32,
    events           UInt64 COMMENT 'product (feature) events',
    last_activity_at DateTime('UTC') COMMENT 'last activity in the month',
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(month)
ORDER BY (tenant_id, month, client_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS subscription_history
(
    tenant_id       LowCardinality(String),
    client_id       String,
    valid_from      DateTime('UTC'),
    valid_to        Nullable(DateTime('UTC')) COMMENT 'NULL while current',
    status          LowCardinality(String) COMMENT 'trialing, active, past_due, canceled',
    previous_status LowCardinality(String) COMMENT 'empty for the first spell',
    plan            LowCardinality(String),
    mrr             Float64 COMMENT 'monthly recurring revenue during the spell',
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(valid_from)
ORDER BY (tenant_id, client_id, valid_from)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS conversion_touchpoints
(
    tenant_id        LowCardinality(String),
    client_id        String COMMENT 'the client the path converted (signed up)',
    converted_at     DateTime('UTC'),
    position         UInt8 COMMENT '1 = first touch',
    path_length      UInt8,
    touched_at       DateTime('UTC'),
    channel          LowCardinality(String) COMMENT 'paid_search, paid_social, organic, email, referral, direct',
    campaign_id      String COMMENT 'paid touches: the campaign; empty otherwise',
    conversion_value Float64 COMMENT 'annualised recurring revenue won (MRR x 12)',
    credit_first     Float64,
    credit_last      Float64,
    credit_linear    Float64,
    credit_position  Float64 COMMENT 'U-shaped: 40 % first, 40 % last, 20 % spread over the middle',
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(converted_at)
ORDER BY (tenant_id, converted_at, client_id, position)
SETTINGS non_replicated_deduplication_window = 10000;
