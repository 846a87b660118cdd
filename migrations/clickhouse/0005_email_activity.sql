-- Daily outbound email activity per campaign, sequence step and sending mailbox.
CREATE TABLE IF NOT EXISTS email_activity
(
    tenant_id           LowCardinality(String),
    date                Date,
    email_campaign_id   String,
    email_campaign_name String,
    sequence_step       UInt8,
    mailbox             String,
    sent                UInt32,
    delivered           UInt32,
    opened              UInt32,
    clicked             UInt32,
    replied             UInt32,
    bounced             UInt32,
    unsubscribed        UInt32,
    spam_complaints     UInt32,
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, email_campaign_id, sequence_step, mailbox);
