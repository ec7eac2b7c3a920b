-- Daily usage per function and architecture, for cost estimates (`lambdabox cost`, the
-- dashboard's Cost page): requests and billed MB-milliseconds (memory size × billed duration,
-- as AWS bills GB-seconds), merged by the log writer with each batch. Rows are tiny (one per
-- function, architecture and UTC day) and kept for USAGE_RETENTION_DAYS, beyond the metrics.
CREATE TABLE function_usage (
    function_name TEXT NOT NULL,
    architecture  TEXT NOT NULL,              -- x86_64 | arm64
    day_ms        INTEGER NOT NULL,           -- start of the UTC day
    requests      INTEGER NOT NULL,
    billed_mb_ms  INTEGER NOT NULL,
    PRIMARY KEY (function_name, architecture, day_ms)
) STRICT;
CREATE INDEX function_usage_day ON function_usage(day_ms);
