-- Upserts by natural key: a re-sent fact row (a platform's correction of a day) replaces the row it
-- corrects. The fact tables become ReplacingMergeTree(ingested_at) on their existing sorting key
-- (tenant + the natural key, plus attributes the key determines); reads de-duplicate at query time
-- (the engine runs SELECTs with final = 1). The parts move by ATTACH PARTITION (hard links, no copy);
-- the first DROP makes a half-applied run safe to repeat.
DROP TABLE IF EXISTS ad_performance_upsert;
CREATE TABLE ad_performance_upsert AS ad_performance
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, platform, campaign_id, ad_group_id, ad_id, country, device)
SETTINGS non_replicated_deduplication_window = 10000;
ALTER TABLE ad_performance_upsert ATTACH PARTITION ALL FROM ad_performance;
EXCHANGE TABLES ad_performance AND ad_performance_upsert;
DROP TABLE ad_performance_upsert;

DROP TABLE IF EXISTS email_activity_upsert;
CREATE TABLE email_activity_upsert AS email_activity
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (tenant_id, date, email_campaign_id, sequence_step, mailbox)
SETTINGS non_replicated_deduplication_window = 10000;
ALTER TABLE email_activity_upsert ATTACH PARTITION ALL FROM email_activity;
EXCHANGE TABLES email_activity AND email_activity_upsert;
DROP TABLE email_activity_upsert;
