-- Filters a dashboard version declares (date range, member filters), each with a default and its
-- binding per widget; opening the dashboard takes values for them by name. Older versions declare none.
ALTER TABLE dashboard_versions ADD COLUMN filters jsonb NOT NULL DEFAULT '[]'::jsonb;
