-- The function log database (<data>/logs.db): log groups, streams, events and invocation
-- records, apart from the control plane's lambdabox.db so a log flood never holds its
-- write lock. Written by the engine's log writer only.

CREATE TABLE log_groups (
    name           TEXT PRIMARY KEY,
    created_ms     INTEGER NOT NULL,
    retention_days INTEGER                     -- NULL: never expire (the daemon's logs.retention_days still applies)
) STRICT;

CREATE TABLE log_streams (
    id             INTEGER PRIMARY KEY,
    log_group      TEXT NOT NULL,
    name           TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    first_event_ms INTEGER,
    last_event_ms  INTEGER,
    last_ingest_ms INTEGER,
    UNIQUE (log_group, name)
) STRICT;

CREATE TABLE log_events (
    id         INTEGER PRIMARY KEY,
    stream_id  INTEGER NOT NULL REFERENCES log_streams(id) ON DELETE CASCADE,
    ts_ms      INTEGER NOT NULL,
    ingest_ms  INTEGER NOT NULL,
    message    TEXT NOT NULL
) STRICT;
CREATE INDEX log_events_stream_ts ON log_events(stream_id, ts_ms);
CREATE INDEX log_events_ts ON log_events(ts_ms);

CREATE TABLE invocations (
    id            INTEGER PRIMARY KEY,
    function_name TEXT NOT NULL,
    version       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    start_ms      INTEGER NOT NULL,
    duration_us   INTEGER NOT NULL,
    billed_ms     INTEGER NOT NULL,
    memory_mb     INTEGER NOT NULL,
    max_memory_mb INTEGER NOT NULL,
    init_us       INTEGER,
    error_type    TEXT
) STRICT;
CREATE INDEX invocations_fn_time ON invocations(function_name, start_ms);
CREATE INDEX invocations_time ON invocations(start_ms);
