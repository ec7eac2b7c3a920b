-- EventBridge (event buses, rules, targets), EventBridge Scheduler (groups, schedules) and
-- function resource policies (AddPermission).

CREATE TABLE event_buses (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
) STRICT;
INSERT INTO event_buses (name, created_ms, modified_ms)
    VALUES ('default', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE event_rules (
    id           INTEGER PRIMARY KEY,
    bus          TEXT NOT NULL REFERENCES event_buses(name),
    name         TEXT NOT NULL,
    schedule     TEXT,                        -- ScheduleExpression
    pattern      TEXT,                        -- EventPattern (JSON text as given)
    state        TEXT NOT NULL,               -- ENABLED | DISABLED
    description  TEXT NOT NULL DEFAULT '',
    role_arn     TEXT,
    tags         TEXT NOT NULL DEFAULT '{}',
    created_ms   INTEGER NOT NULL,
    modified_ms  INTEGER NOT NULL,
    anchor_ms    INTEGER NOT NULL,            -- rate() counts periods from here
    last_fire_ms INTEGER,                     -- scheduled time of the last firing
    UNIQUE (bus, name)
) STRICT;

CREATE TABLE event_targets (
    rule_id    INTEGER NOT NULL REFERENCES event_rules(id) ON DELETE CASCADE,
    target_id  TEXT NOT NULL,
    arn        TEXT NOT NULL,
    spec       TEXT NOT NULL,                 -- the Target structure as JSON
    position   INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    failures   INTEGER NOT NULL DEFAULT 0,
    last_ms    INTEGER,
    last_error TEXT,                          -- NULL when the last delivery succeeded
    PRIMARY KEY (rule_id, target_id)
) STRICT;
CREATE INDEX event_targets_arn ON event_targets(arn);

CREATE TABLE schedule_groups (
    name        TEXT PRIMARY KEY,
    tags        TEXT NOT NULL DEFAULT '{}',
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
) STRICT;
INSERT INTO schedule_groups (name, created_ms, modified_ms)
    VALUES ('default', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    group_name   TEXT NOT NULL REFERENCES schedule_groups(name) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    spec         TEXT NOT NULL,               -- expression, time zone, dates, window, target (JSON)
    state        TEXT NOT NULL,               -- ENABLED | DISABLED
    created_ms   INTEGER NOT NULL,
    modified_ms  INTEGER NOT NULL,
    anchor_ms    INTEGER NOT NULL,
    last_fire_ms INTEGER,
    completed    INTEGER NOT NULL DEFAULT 0,  -- a one-time schedule that has fired
    deliveries   INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    last_ms      INTEGER,
    last_error   TEXT,
    UNIQUE (group_name, name)
) STRICT;

CREATE TABLE function_policies (
    function_id INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier   TEXT NOT NULL DEFAULT '',     -- '' = the unqualified function
    policy      TEXT NOT NULL,                -- the IAM policy document (JSON)
    revision_id TEXT NOT NULL,
    PRIMARY KEY (function_id, qualifier)
) STRICT;
