-- Tenant lifecycle and access signals.
-- trial and churned join active and suspended; suspended and churned tenants are refused at every door.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN ('active', 'trial', 'suspended', 'churned'));

-- Every change of a tenant, and every revocation / expiry change / deletion of an API key, is announced
-- on the strata_access channel whoever makes it (server, CLI, an operator in psql), so every instance
-- drops its cached view and ends the open sessions that lost their access (src/tenancy/).
CREATE FUNCTION strata_notify_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'tenants' THEN
    PERFORM pg_notify('strata_access', json_build_object('kind', 'tenant', 'id', COALESCE(NEW.id, OLD.id))::text);
  ELSE
    PERFORM pg_notify('strata_access', json_build_object('kind', 'api_key', 'id', COALESCE(NEW.id, OLD.id)::text,
      'tenantId', COALESCE(NEW.tenant_id, OLD.tenant_id))::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER tenants_access AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION strata_notify_access();
CREATE TRIGGER api_keys_access AFTER UPDATE OF revoked_at, expires_at OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION strata_notify_access();
