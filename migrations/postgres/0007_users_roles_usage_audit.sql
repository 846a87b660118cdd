-- Users and roles as data, monthly usage, and an audit trail of changes and refusals (issue #14).

-- Principals seen per tenant: written in batches (store/principals.ts), never one write per request.
CREATE TABLE tenant_principals (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  subject     text NOT NULL,
  via         text NOT NULL,
  name        text,
  email       text,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  last_door   text NOT NULL,
  doors       text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, subject)
);

-- A tenant's own roles: a name and the scopes it grants (the seeds' permissions / role_permissions).
-- Token `roles` resolve through these first, then the built-in ones (auth/principal.ts ROLE_SCOPES).
CREATE TABLE tenant_roles (
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  description  text,
  scopes       text[] NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);

-- A changed or deleted role ends the open sessions that used it, on every instance (tenancy/access-watch.ts).
CREATE FUNCTION strata_notify_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('strata_access', json_build_object('kind', 'role', 'tenantId', COALESCE(NEW.tenant_id, OLD.tenant_id),
    'id', COALESCE(NEW.name, OLD.name))::text);
  RETURN NULL;
END $$;
CREATE TRIGGER tenant_roles_access AFTER INSERT OR UPDATE OR DELETE ON tenant_roles
  FOR EACH ROW EXECUTE FUNCTION strata_notify_role();

-- Monthly usage per tenant (UTC month), incremented in batches by every instance.
CREATE TABLE tenant_usage (
  tenant_id       text NOT NULL,
  month           date NOT NULL,
  queries         bigint NOT NULL DEFAULT 0,
  rows_read       bigint NOT NULL DEFAULT 0,
  bytes_returned  bigint NOT NULL DEFAULT 0,
  refused         bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, month)
);

-- The audit trail records changes and refusals too: kind read | change | refusal; what changed
-- (action, target, before/after) and the caller's user agent.
ALTER TABLE audit_log ADD COLUMN kind text NOT NULL DEFAULT 'read';
ALTER TABLE audit_log ADD COLUMN action text;
ALTER TABLE audit_log ADD COLUMN target text;
ALTER TABLE audit_log ADD COLUMN before jsonb;
ALTER TABLE audit_log ADD COLUMN after jsonb;
ALTER TABLE audit_log ADD COLUMN user_agent text;
