-- Read-only share links of dashboards: the link token is the credential (stored as its SHA-256 only),
-- it expires, and it can be revoked. A link runs with the scopes its creator had when making it (read
-- scopes only) and as the creator would see the dashboard; the tenant comes from the row, never the URL.

CREATE TABLE dashboard_links (
  id             uuid PRIMARY KEY,
  tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  dashboard_id   uuid NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
  token_hash     text NOT NULL UNIQUE,
  created_by     text NOT NULL,
  creator_admin  boolean NOT NULL DEFAULT false,
  scopes         text[] NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_by     text
);

CREATE INDEX dashboard_links_dashboard ON dashboard_links (tenant_id, dashboard_id);
