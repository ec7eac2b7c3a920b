-- lambdabox schema, version 1.
-- Content-addressed blobs hold deployment packages and layer archives; everything that
-- references a blob does so by its hex sha256, and a blob is deleted in the same transaction
-- as its last reference.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,           -- hex
    size       INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE functions (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    created_ms    INTEGER NOT NULL,
    next_version  INTEGER NOT NULL DEFAULT 1,   -- version numbers are never reused
    reserved_concurrency INTEGER,               -- NULL = unreserved
    tags          TEXT NOT NULL DEFAULT '{}',   -- JSON object
    policy        TEXT                          -- resource policy JSON, NULL = none
) STRICT;

-- '$LATEST' and every published version; a published row never changes.
CREATE TABLE function_versions (
    function_id    INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    version        TEXT NOT NULL,
    version_num    INTEGER NOT NULL,            -- 0 for $LATEST, N for version N (ordering)
    config         TEXT NOT NULL,               -- JSON FunctionConfig
    code_sha256    TEXT NOT NULL REFERENCES blobs(sha256),
    code_size      INTEGER NOT NULL,
    revision_id    TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (function_id, version)
) STRICT;
CREATE INDEX function_versions_blob ON function_versions(code_sha256);

CREATE TABLE aliases (
    function_id      INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    function_version TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    routing          TEXT NOT NULL DEFAULT '{}',  -- JSON {"version": weight}
    revision_id      TEXT NOT NULL,
    PRIMARY KEY (function_id, name)
) STRICT;

CREATE TABLE layers (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    next_version INTEGER NOT NULL DEFAULT 1
) STRICT;

-- A deleted layer version keeps its row (deleted = 1) while functions still use its blob.
CREATE TABLE layer_versions (
    layer_id       INTEGER NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    code_size      INTEGER NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    created_ms     INTEGER NOT NULL,
    compatible_runtimes      TEXT NOT NULL DEFAULT '[]',
    compatible_architectures TEXT NOT NULL DEFAULT '[]',
    license_info   TEXT,
    deleted        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (layer_id, version)
) STRICT;
CREATE INDEX layer_versions_blob ON layer_versions(content_sha256);

-- API access keys. The secret is needed in clear to verify SigV4 signatures; the database
-- file is readable by the daemon's user only.
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT 'admin',
    created_ms    INTEGER NOT NULL,
    revoked_ms    INTEGER
) STRICT;

-- Function logs, CloudWatch style.
CREATE TABLE log_streams (
    id             INTEGER PRIMARY KEY,
    log_group      TEXT NOT NULL,
    name           TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    last_event_ms  INTEGER,
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

-- One row per invocation, for metrics and the dashboard (bounded retention).
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
    init_us       INTEGER,                     -- set on cold starts
    error_type    TEXT                         -- NULL on success
) STRICT;
CREATE INDEX invocations_fn_time ON invocations(function_name, start_ms);
