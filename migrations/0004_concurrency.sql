-- lambdabox schema, version 4: provisioned concurrency and capacity metrics.
-- Reserved concurrency already lives in functions.reserved_concurrency. A provisioned
-- concurrency configuration belongs to one version or alias of a function and goes with it:
-- deleting the function cascades, deleting the alias or version fires a trigger.

CREATE TABLE provisioned_concurrency (
    function_id      INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier        TEXT NOT NULL,             -- a version number or an alias name
    requested        INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (function_id, qualifier)
) STRICT;

CREATE TRIGGER provisioned_concurrency_alias_gone AFTER DELETE ON aliases BEGIN
    DELETE FROM provisioned_concurrency
    WHERE function_id = OLD.function_id AND qualifier = OLD.name;
END;

CREATE TRIGGER provisioned_concurrency_version_gone AFTER DELETE ON function_versions BEGIN
    DELETE FROM provisioned_concurrency
    WHERE function_id = OLD.function_id AND qualifier = OLD.version;
END;

-- Per-minute capacity metrics the engine records (engine::capacity::metrics), CloudWatch
-- style: ConcurrentExecutions and UnreservedConcurrentExecutions (max), Throttles (sum, one
-- row per reason in `dimension`), ProvisionedConcurrencyUtilization (max, qualifier in
-- `dimension`). function_name '' is the whole account. Pruned with the logs.
CREATE TABLE capacity_metrics (
    function_name TEXT NOT NULL,
    metric        TEXT NOT NULL,
    dimension     TEXT NOT NULL DEFAULT '',
    minute_ms     INTEGER NOT NULL,
    sum           REAL NOT NULL,
    max           REAL NOT NULL,
    samples       INTEGER NOT NULL,
    PRIMARY KEY (function_name, metric, dimension, minute_ms)
) STRICT;
CREATE INDEX capacity_metrics_time ON capacity_metrics(minute_ms);
