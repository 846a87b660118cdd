-- Shared reference table (no tenant_id): every tenant sees the same rows.
CREATE TABLE IF NOT EXISTS platforms
(
    platform     LowCardinality(String) COMMENT 'platform code used in fact tables, e.g. google_ads',
    display_name String,
    channel      LowCardinality(String) COMMENT 'search, social, video or programmatic',
    updated_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY platform;

INSERT INTO platforms (platform, display_name, channel) VALUES
    ('google_ads', 'Google Ads', 'search'),
    ('microsoft_ads', 'Microsoft Advertising', 'search'),
    ('meta', 'Meta Ads', 'social'),
    ('linkedin', 'LinkedIn Ads', 'social'),
    ('tiktok', 'TikTok Ads', 'video'),
    ('dv360', 'Display & Video 360', 'programmatic');
