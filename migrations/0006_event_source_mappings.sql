-- lambdabox schema, version 5: event source mappings (SQS queues → functions).
-- As on AWS a mapping names its function and does not go away with it: the poller reports
-- "PROBLEM: Function not found" until the mapping is deleted or the function is back.

CREATE TABLE event_source_mappings (
    uuid               TEXT PRIMARY KEY,
    function_name      TEXT NOT NULL,
    qualifier          TEXT,                      -- version or alias; NULL = unqualified
    event_source_arn   TEXT NOT NULL,
    batch_size         INTEGER NOT NULL,
    batching_window_s  INTEGER NOT NULL,
    enabled            INTEGER NOT NULL,
    state              TEXT NOT NULL,             -- Creating, Enabling, Enabled, Disabling, Disabled, Updating
    state_reason       TEXT NOT NULL,
    response_types     TEXT NOT NULL DEFAULT '[]', -- JSON FunctionResponseTypes
    max_concurrency    INTEGER,                    -- ScalingConfig.MaximumConcurrency
    filters            TEXT NOT NULL DEFAULT '[]', -- JSON [pattern text, ...]
    last_modified_ms   INTEGER NOT NULL,
    last_result        TEXT NOT NULL DEFAULT 'No records processed',
    tags               TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX event_source_mappings_function ON event_source_mappings(function_name);
