-- lambdabox schema, version 13: roles of dashboard users (issue 24).
-- admin: everything; developer: functions, layers, queues, schedules, triggers and their own
-- API keys; viewer: read only. Users made before this migration were all administrators and
-- stay so. Which route needs which role is the table in src/web/roles.rs.
-- These are dashboard roles only: what an API key may do is the key's own business.

ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('admin', 'developer', 'viewer'));

-- The dashboard user who created an API key (keys made with `lambdabox keys create` or
-- before this migration have no row: only an administrator revokes those).
CREATE TABLE dashboard_key_owners (
    access_key_id TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
) STRICT;
