-- Why a rule's last evaluation did not run (tenant suspended, author's access revoked, query refused):
-- {code, message, at}, cleared by the next evaluation that runs (src/reports/alerts.ts).
ALTER TABLE alert_rules ADD COLUMN last_error jsonb;
