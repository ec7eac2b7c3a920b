-- Trace spans (issue 18, TracingConfig Mode=Active): one row per span of a traced request:
-- the invocation as a whole, its wait in a queue, the environment's init and the invoke
-- attempt. Retries of one async event are separate invocations of the same trace (same
-- trace_id and request_id, attempt 1, 2, 3). Pruned with the invocation records.
CREATE TABLE trace_spans (
    id            INTEGER PRIMARY KEY,
    trace_id      TEXT NOT NULL,              -- X-Ray root: 1-<8 hex>-<24 hex>
    span_id       TEXT NOT NULL,              -- 16 hex
    parent_id     TEXT,                       -- 16 hex; NULL for a request's root span
    function_name TEXT NOT NULL,
    version       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    name          TEXT NOT NULL,              -- Invocation | Queue | Init | Invoke
    start_us      INTEGER NOT NULL,           -- microseconds since the Unix epoch
    end_us        INTEGER NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 1,
    status        TEXT NOT NULL,              -- success | error | timeout
    error_type    TEXT
) STRICT;
CREATE INDEX trace_spans_request ON trace_spans(function_name, request_id);
CREATE INDEX trace_spans_trace ON trace_spans(trace_id);
CREATE INDEX trace_spans_start ON trace_spans(start_us);
