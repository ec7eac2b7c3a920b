-- Per-minute function metrics (CloudWatch AWS/Lambda style), aggregated in memory by the log
-- writer and merged here once per batch: one row per function, Resource dimension
-- ('' or 'name:qualifier'), ExecutedVersion dimension ('' unless Resource is set) and minute.
-- Durations in microseconds; *_hist is a domain::histogram encoding, so percentiles can be
-- computed for any window. Pruned by metrics.retention_days.
CREATE TABLE function_metrics (
    function_name    TEXT NOT NULL,
    resource         TEXT NOT NULL DEFAULT '',
    executed_version TEXT NOT NULL DEFAULT '',
    minute_ms        INTEGER NOT NULL,
    invocations      INTEGER NOT NULL,
    errors           INTEGER NOT NULL,
    cold_starts      INTEGER NOT NULL,
    duration_sum_us  INTEGER NOT NULL,
    duration_min_us  INTEGER NOT NULL,
    duration_max_us  INTEGER NOT NULL,
    duration_hist    TEXT NOT NULL,
    init_sum_us      INTEGER NOT NULL,
    init_min_us      INTEGER NOT NULL,
    init_max_us      INTEGER NOT NULL,
    init_hist        TEXT NOT NULL,
    PRIMARY KEY (function_name, resource, executed_version, minute_ms)
) STRICT;
CREATE INDEX function_metrics_time ON function_metrics(minute_ms);

-- Bytes of log events per stream, for the per-group quota (logs.max_bytes_per_group): added
-- by the writer per batch, subtracted by a trigger whenever an event is deleted.
ALTER TABLE log_streams ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE log_streams SET stored_bytes = (SELECT COALESCE(SUM(length(CAST(e.message AS BLOB))), 0)
    FROM log_events e WHERE e.stream_id = log_streams.id);
CREATE TRIGGER log_events_bytes AFTER DELETE ON log_events BEGIN
    UPDATE log_streams SET stored_bytes = stored_bytes - length(CAST(OLD.message AS BLOB))
    WHERE id = OLD.stream_id;
END;
