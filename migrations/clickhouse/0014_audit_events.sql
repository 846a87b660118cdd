-- The audit trail, mirrored from Postgres (audit_log) so it can be analysed as a cube (cube-models/audit.yml).
-- Written in batches by the server (src/audit/mirror.ts); several instances may copy the same rows, so
-- the latest copy per (tenant_id, id) wins (read with FINAL).
CREATE TABLE IF NOT EXISTS audit_events
(
    tenant_id          LowCardinality(String),
    id                 UInt64 COMMENT 'audit_log.id in Postgres',
    at                 DateTime64(3, 'UTC'),
    kind               LowCardinality(String) COMMENT 'read, change, refusal',
    action             LowCardinality(String) COMMENT 'query, api_key.create, dashboard.update, role.delete, ingest.batch, authenticate ...',
    subject            String COMMENT 'token subject or API key id',
    door               LowCardinality(String),
    status             LowCardinality(String) COMMENT 'ok, error, denied',
    error_code         LowCardinality(String),
    target             String,
    client_address     String,
    user_agent         String,
    request_id         String,
    rows               Int64,
    duration_ms        Int64,
    mirrored_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(mirrored_at)
ORDER BY (tenant_id, id);
