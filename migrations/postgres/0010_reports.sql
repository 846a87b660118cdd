-- Reports that leave the screen (src/reports/): exports with expiring download links, their files
-- (chunked, so every instance can serve a download), snapshots, schedules and their runs, and the
-- per-tenant secret that signs webhooks. Every row belongs to one tenant.

CREATE TABLE report_exports (
  id            uuid PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_by    text NOT NULL,
  source        jsonb NOT NULL,
  format        text NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
  rows          bigint,
  bytes         bigint,
  truncated     boolean NOT NULL DEFAULT false,
  error_code    text,
  error         text,
  -- sha-256 of the link token; the token itself is only ever in the link
  token_hash    text NOT NULL,
  file_name     text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX report_exports_tenant_idx ON report_exports (tenant_id, created_at);

CREATE TABLE report_artifact_chunks (
  export_id  uuid NOT NULL REFERENCES report_exports (id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY (export_id, seq)
);

CREATE TABLE report_snapshots (
  id          uuid PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_by  text NOT NULL,
  source      jsonb NOT NULL,
  name        text,
  -- the results as they were: one entry per query (a saved query: one; a dashboard: one per widget)
  results     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz
);
CREATE INDEX report_snapshots_tenant_idx ON report_snapshots (tenant_id, created_at);

CREATE TABLE report_schedules (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  owner            text NOT NULL,
  owner_email      text,
  name             text NOT NULL,
  source           jsonb NOT NULL,
  format           text NOT NULL,
  cron             text NOT NULL,
  timezone         text NOT NULL,
  destinations     jsonb NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  next_run_at      timestamptz NOT NULL,
  failures         integer NOT NULL DEFAULT 0,
  -- the principal's scopes and roles when it was saved: runs read as that principal
  run_as           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_schedules_due_idx ON report_schedules (next_run_at) WHERE enabled;

CREATE TABLE report_runs (
  id            uuid PRIMARY KEY,
  tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  schedule_id   uuid NOT NULL REFERENCES report_schedules (id) ON DELETE CASCADE,
  due_at        timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  attempt       integer NOT NULL DEFAULT 1,
  worker        text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  rows          bigint,
  bytes         bigint,
  error_code    text,
  error         text,
  deliveries    jsonb NOT NULL DEFAULT '[]'::jsonb,
  UNIQUE (schedule_id, due_at)
);
CREATE INDEX report_runs_schedule_idx ON report_runs (tenant_id, schedule_id, started_at);

CREATE TABLE report_secrets (
  tenant_id   text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  webhook_secret text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
