-- Ownership and sharing of dashboards and saved queries. The owner (the token's subject) and a
-- tenant admin may change, share or delete; visibility 'private' shows a dashboard to its owner and
-- the subjects it is shared with, 'tenant' to everyone of the tenant. A share grants 'view' or 'edit'.
-- Rows saved before this migration keep what they had: visible to the tenant, owned by their creator.

ALTER TABLE dashboards ADD COLUMN owner text;
UPDATE dashboards SET owner = created_by;
ALTER TABLE dashboards ALTER COLUMN owner SET NOT NULL;
ALTER TABLE dashboards ADD COLUMN visibility text NOT NULL DEFAULT 'tenant' CHECK (visibility IN ('private', 'tenant'));

CREATE TABLE dashboard_shares (
  dashboard_id  uuid NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
  subject       text NOT NULL,
  access        text NOT NULL CHECK (access IN ('view', 'edit')),
  PRIMARY KEY (dashboard_id, subject)
);

ALTER TABLE saved_queries ADD COLUMN owner text;
UPDATE saved_queries SET owner = created_by;
ALTER TABLE saved_queries ALTER COLUMN owner SET NOT NULL;
ALTER TABLE saved_queries ADD COLUMN visibility text NOT NULL DEFAULT 'tenant' CHECK (visibility IN ('private', 'tenant'));

CREATE TABLE saved_query_shares (
  saved_query_id  uuid NOT NULL REFERENCES saved_queries (id) ON DELETE CASCADE,
  subject         text NOT NULL,
  access          text NOT NULL CHECK (access IN ('view', 'edit')),
  PRIMARY KEY (saved_query_id, subject)
);
