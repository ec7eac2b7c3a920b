-- The asynchronous invocation queue, in its own database file (<data>/async-queue.db).
-- One row per accepted event until it has run to its end (success, or given up and handed to
-- its destinations); retries and back-offs move due_ms forward.

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,      -- order of acceptance
    request_id    TEXT NOT NULL,            -- the id every attempt runs with
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL DEFAULT '', -- '' = unqualified ($LATEST)
    payload       BLOB NOT NULL,
    received_ms   INTEGER NOT NULL,
    due_ms        INTEGER NOT NULL,         -- not before
    attempts      INTEGER NOT NULL DEFAULT 0,  -- attempts that ran the function
    backoffs      INTEGER NOT NULL DEFAULT 0,  -- throttles / platform failures in a row
    source        TEXT NOT NULL,            -- provenance: api, destination, aws:sns, ...
    source_arn    TEXT,
    trace         TEXT NOT NULL,            -- Root=…;Lineage=… of what caused the event
    last_response TEXT                      -- JSON of the last function error (for OnFailure)
) STRICT;
CREATE INDEX events_lane_due ON events(function_name, qualifier, due_ms);

-- Counters per function: received, retried, delivered to each destination, dropped by reason.
CREATE TABLE counters (
    function_name TEXT NOT NULL,
    name          TEXT NOT NULL,
    value         INTEGER NOT NULL,
    PRIMARY KEY (function_name, name)
) STRICT, WITHOUT ROWID;
