-- Email outreach (cube-models/email_outreach.yml): sending domains, mailboxes with warmup, health and
-- volume, email campaigns with status, daily warmup progression per mailbox, per-lead engagement.
-- Entities keep the latest row per key (ReplacingMergeTree, read with FINAL); facts are upserts on
-- tenant + natural key like 0011 (a re-sent row replaces the older one; the engine reads with final = 1).
-- Facts are partitioned by year: mailbox-days and lead rows are thousands a month, not millions.
CREATE TABLE IF NOT EXISTS sending_domains
(
    tenant_id   LowCardinality(String),
    domain      String,
    status      LowCardinality(String) COMMENT 'verified, pending, failed',
    spf         UInt8 COMMENT '1 when the SPF record passes',
    dkim        UInt8 COMMENT '1 when DKIM signing passes',
    dmarc       UInt8 COMMENT '1 when a DMARC policy is published',
    created_at  DateTime('UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, domain)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS mailboxes
(
    tenant_id       LowCardinality(String),
    mailbox         String COMMENT 'sending address, as in email_activity.mailbox',
    sending_domain  String,
    provider        LowCardinality(String) COMMENT 'google, microsoft, smtp',
    created_at      DateTime('UTC'),
    warmup_status   LowCardinality(String) COMMENT 'warming, warmed, paused',
    health_score    UInt8 COMMENT '0-100, current',
    current_volume  UInt32 COMMENT 'emails a day it sends now (campaign + warmup)',
    daily_limit     UInt32 COMMENT 'emails a day it may send',
    campaign_status LowCardinality(String) COMMENT 'active (in a running campaign) or idle',
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, mailbox)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS email_campaigns
(
    tenant_id         LowCardinality(String),
    email_campaign_id String,
    name              String,
    status            LowCardinality(String) COMMENT 'draft, active, paused, completed',
    steps             UInt8 COMMENT 'emails in the sequence',
    ab_test           UInt8 COMMENT '1 when a step has an A/B variant',
    created_at        DateTime('UTC'),
    started_at        Nullable(DateTime('UTC')),
    completed_at      Nullable(DateTime('UTC')),
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, email_campaign_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS mailbox_warmup
(
    tenant_id           LowCardinality(String),
    date                Date,
    mailbox             String,
    warmup_status       LowCardinality(String) COMMENT 'warming (ramping up) or warmed (maintenance)',
    sent                UInt32 COMMENT 'warmup emails sent',
    delivered           UInt32,
    inboxed             UInt32 COMMENT 'delivered to the inbox (not the spam folder)',
    opened              UInt32,
    replied             UInt32,
    bounced             UInt32,
    spam_complaints     UInt32,
    daily_target        UInt32 COMMENT 'sending volume the ramp allows that day',
    health_score        UInt8 COMMENT '0-100',
    progress_percentage UInt8 COMMENT '0-100 of the ramp',
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(date)
ORDER BY (tenant_id, date, mailbox)
SETTINGS non_replicated_deduplication_window = 10000;

-- One row per lead and email campaign, updated as the lead moves through the sequence (upsert on
-- campaign + lead; imported_at never changes for a lead, so the re-sent row lands in the same partition).
CREATE TABLE IF NOT EXISTS lead_engagement
(
    tenant_id         LowCardinality(String),
    email_campaign_id String,
    lead_id           String,
    imported_at       DateTime('UTC'),
    last_activity_at  DateTime('UTC'),
    lead_source       LowCardinality(String) COMMENT 'csv_import, crm_sync, api, form',
    status            LowCardinality(String) COMMENT 'in_sequence, completed, replied, interested, bounced, unsubscribed',
    sent              UInt32,
    delivered         UInt32,
    opened            UInt32,
    clicked           UInt32,
    replied           UInt32,
    bounced           UInt32,
    unsubscribed      UInt32,
    spam_complaints   UInt32,
    lead_score        UInt8 COMMENT '0-100 engagement score',
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYear(imported_at)
ORDER BY (tenant_id, email_campaign_id, lead_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- A/B variants of sequence steps: part of the natural key (a step's A and B rows never replace each other).
-- (ClickHouse refuses a DEFAULT on a column added to the key in the same ALTER: the default comes after;
-- existing rows read the type's default '' until merged, so the UPDATE fills them once.)
ALTER TABLE email_activity
    ADD COLUMN IF NOT EXISTS variant LowCardinality(String) COMMENT 'A/B variant of the step (A when not tested)' AFTER mailbox,
    MODIFY ORDER BY (tenant_id, date, email_campaign_id, sequence_step, mailbox, variant);
ALTER TABLE email_activity MODIFY COLUMN variant LowCardinality(String) DEFAULT 'A' COMMENT 'A/B variant of the step (A when not tested)';
