-- Social and monitoring (specification 004): published posts, brand mentions (listening), daily
-- follower changes, influencer partnerships and marketing-automation workflow runs. Tenant first,
-- then time in every sorting key; facts partitioned by month.
CREATE TABLE IF NOT EXISTS social_posts
(
    tenant_id    LowCardinality(String),
    post_id      String,
    published_at DateTime('UTC'),
    network      LowCardinality(String) COMMENT 'instagram, facebook, x, linkedin, tiktok, youtube',
    account      String COMMENT 'handle of the publishing account',
    content_type LowCardinality(String) COMMENT 'image, video, carousel, text, story, reel, link',
    status       LowCardinality(String) COMMENT 'published, failed',
    scheduled    UInt8 COMMENT '1 when published by the scheduler, 0 when posted by hand',
    campaign_id  String DEFAULT '' COMMENT 'paid campaign the post supports, empty for organic',
    impressions  UInt64,
    reach        UInt64 COMMENT 'unique accounts reached by this post (per post; not additive across posts)',
    likes        UInt32,
    comments     UInt32,
    shares       UInt32,
    saves        UInt32,
    link_clicks  UInt32,
    video_views  UInt64,
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(published_at)
ORDER BY (tenant_id, published_at, post_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS social_mentions
(
    tenant_id        LowCardinality(String),
    mention_id       String,
    mentioned_at     DateTime('UTC'),
    source           LowCardinality(String) COMMENT 'x, reddit, news, blog, instagram, tiktok, youtube, forum',
    brand            String COMMENT 'brand mentioned: the tenant''s own or a tracked competitor',
    own_brand        UInt8,
    topic            LowCardinality(String),
    sentiment        LowCardinality(String) COMMENT 'positive, neutral, negative',
    sentiment_score  Float64 COMMENT '-1 (negative) .. 1 (positive)',
    author_followers UInt32,
    responded        UInt8,
    response_minutes UInt32 COMMENT 'minutes to the first response; 0 when not responded',
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(mentioned_at)
ORDER BY (tenant_id, mentioned_at, mention_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS social_audience
(
    tenant_id        LowCardinality(String),
    date             Date,
    network          LowCardinality(String),
    followers_gained UInt32,
    followers_lost   UInt32,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, network)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS influencer_partnerships
(
    tenant_id              LowCardinality(String),
    partnership_id         String,
    influencer_name        String,
    influencer_handle      String,
    network                LowCardinality(String),
    tier                   LowCardinality(String) COMMENT 'nano, micro, mid, macro, mega',
    status                 LowCardinality(String) COMMENT 'proposed, active, completed, canceled',
    start_date             Date,
    end_date               Date,
    fee                    Float64 COMMENT 'agreed fee in the tenant currency',
    attributed_revenue     Float64,
    deliverables_planned   UInt16,
    deliverables_completed UInt16,
    impressions            UInt64,
    engagements            UInt64,
    conversions            UInt32,
    ingested_at            DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, partnership_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS automation_runs
(
    tenant_id     LowCardinality(String),
    run_id        String,
    started_at    DateTime('UTC'),
    workflow_id   String,
    workflow_name String,
    template      LowCardinality(String),
    trigger_type  LowCardinality(String) COMMENT 'schedule, event, manual',
    status        LowCardinality(String) COMMENT 'succeeded, failed, canceled',
    duration_ms   UInt32,
    actions       UInt16 COMMENT 'actions the run executed',
    minutes_saved Float64 COMMENT 'manual work the run replaced (template estimate)',
    ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant_id, started_at, run_id)
SETTINGS non_replicated_deduplication_window = 10000;
