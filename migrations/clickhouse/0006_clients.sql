-- The tenant's own customers (subscriptions); latest row per client wins (read with FINAL).
CREATE TABLE IF NOT EXISTS clients
(
    tenant_id           LowCardinality(String),
    client_id           String,
    name                String,
    plan                LowCardinality(String) COMMENT 'starter, growth, pro, enterprise',
    subscription_status LowCardinality(String) COMMENT 'trialing, active, past_due, canceled',
    mrr                 Float64 COMMENT 'monthly recurring revenue; 0 when trialing or canceled',
    lifecycle_stage     LowCardinality(String) COMMENT 'lead, trial, onboarding, customer, churned',
    churn_risk          LowCardinality(String) COMMENT 'low, medium, high',
    churn_score         Float32 COMMENT 'predicted churn probability 0..1',
    industry            LowCardinality(String),
    first_touch_channel LowCardinality(String) COMMENT 'paid_search, paid_social, organic, email, referral, direct',
    signed_up_at        DateTime('UTC'),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (tenant_id, client_id);
