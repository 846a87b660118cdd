-- Strata metadata: tenants, API keys, saved queries, dashboards (versioned), audit log.
-- Runs unchanged on a Postgres server and on embedded PGlite. Never edit once applied:
-- add a new NNNN_name.sql instead (the runner refuses edited migrations by checksum).

CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text NOT NULL,
  slug        text NOT NULL UNIQUE,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  plan        text NOT NULL DEFAULT 'free',
  -- free-form tenant settings, e.g. {"rateLimit": {"perSecond": 10, "burst": 40}}
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL,
  -- the visible part of the secret ("sk_live_ab12cd"), shown in listings
  prefix        text NOT NULL UNIQUE,
  -- hex SHA-256 of the full secret; the secret itself is never stored
  secret_hash   text NOT NULL UNIQUE,
  scopes        text[] NOT NULL DEFAULT '{}',
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);

CREATE TABLE saved_queries (
  id          uuid PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL,
  query       jsonb NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE dashboards (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name             text NOT NULL,
  description      text,
  current_version  integer NOT NULL DEFAULT 1,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dashboards_tenant_idx ON dashboards (tenant_id, created_at);

CREATE TABLE dashboard_versions (
  dashboard_id  uuid NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
  version       integer NOT NULL,
  -- [{id, title, query (a SemanticQuery), display}]
  widgets       jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dashboard_id, version)
);

CREATE TABLE audit_log (
  id                 bigserial PRIMARY KEY,
  at                 timestamptz NOT NULL DEFAULT now(),
  tenant_id          text NOT NULL,
  subject            text NOT NULL,
  door               text NOT NULL,
  query_fingerprint  text,
  members            text[] NOT NULL DEFAULT '{}',
  rows               integer,
  duration_ms        integer,
  status             text NOT NULL,
  error_code         text,
  client_address     text,
  request_id         text
);
-- no FK to tenants: the audit trail outlives tenants and must never block a write
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id DESC);
