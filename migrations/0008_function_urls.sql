-- Function URLs (issue 17): at most one per function and qualifier ('$LATEST' or an alias
-- name), found by its url id when a request arrives. Deleted with the function or alias.
CREATE TABLE function_urls (
    url_id           TEXT PRIMARY KEY,            -- 32 characters, the URL's host label
    function_id      INTEGER NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    qualifier        TEXT NOT NULL,               -- '$LATEST' or an alias name
    auth_type        TEXT NOT NULL,               -- NONE | AWS_IAM
    cors             TEXT,                        -- JSON domain::function_url::Cors, NULL = none
    invoke_mode      TEXT NOT NULL,               -- BUFFERED | RESPONSE_STREAM
    created_ms       INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    UNIQUE (function_id, qualifier)
) STRICT;

CREATE TRIGGER function_urls_alias_gone AFTER DELETE ON aliases
BEGIN
    DELETE FROM function_urls
     WHERE function_id = OLD.function_id AND qualifier = OLD.name;
END;
