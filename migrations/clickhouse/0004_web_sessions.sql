-- Web analytics sessions; paid sessions carry the campaign id in utm_campaign.
CREATE TABLE IF NOT EXISTS web_sessions
(
    tenant_id        LowCardinality(String),
    session_id       String,
    started_at       DateTime('UTC'),
    user_id          String,
    source           LowCardinality(String) COMMENT 'google, facebook, newsletter, (direct), ...',
    medium           LowCardinality(String) COMMENT 'cpc, paid_social, display, video, organic, email, referral, (none)',
    utm_campaign     String COMMENT 'campaign_id of the paid campaign, empty otherwise',
    landing_page     String,
    device           LowCardinality(String),
    country          LowCardinality(String),
    pageviews        UInt32,
    duration_seconds UInt32,
    bounced          UInt8 COMMENT '1 when the session had a single pageview',
    transactions     UInt32,
    revenue          Float64,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant_id, started_at, session_id);
