-- Asynchronous invocation settings, stored beside the function they configure (issue 13).
-- The queued events themselves live in a second database file (see migrations/queue/).

-- PutFunctionEventInvokeConfig: one row per function and qualifier ('$LATEST', a version
-- number or an alias name). Deleted with the function, version or alias it names.
CREATE TABLE event_invoke_configs (
    function_id      INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier        TEXT NOT NULL,
    config           TEXT NOT NULL,              -- JSON domain::event_invoke::EventInvokeConfig
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (function_id, qualifier)
) STRICT;

CREATE TRIGGER event_invoke_configs_version_gone AFTER DELETE ON function_versions
BEGIN
    DELETE FROM event_invoke_configs
     WHERE function_id = OLD.function_id AND qualifier = OLD.version;
END;

CREATE TRIGGER event_invoke_configs_alias_gone AFTER DELETE ON aliases
BEGIN
    DELETE FROM event_invoke_configs
     WHERE function_id = OLD.function_id AND qualifier = OLD.name;
END;

-- PutFunctionRecursionConfig: a row only for functions that are not at the default
-- ('Terminate').
CREATE TABLE recursion_configs (
    function_id    INTEGER PRIMARY KEY REFERENCES functions(id) ON DELETE CASCADE,
    recursive_loop TEXT NOT NULL
) STRICT;
