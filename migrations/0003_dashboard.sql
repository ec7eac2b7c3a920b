-- lambdabox schema, version 3: the web dashboard.
-- Users log in with a password (argon2id PHC string); a session is a random cookie value
-- of which only the sha256 is stored, with its own CSRF token. Failed logins are recorded
-- for rate limiting; saved test events belong to a function name.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    password_changed_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,          -- hex sha256 of the cookie value
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions(expires_ms);

-- One row per failed login, kept for the rate-limit window.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    remote   TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_user ON login_failures(username, at_ms);
CREATE INDEX login_failures_remote ON login_failures(remote, at_ms);

CREATE TABLE test_events (
    function_name TEXT NOT NULL,
    name          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (function_name, name)
) STRICT;

-- The functions list counts the last 24 h of every function; prune deletes by time.
CREATE INDEX invocations_time ON invocations(start_ms);
