-- IAM (issue 19): roles with their trust policies, inline role policies, customer managed
-- policies with their versions, and the attachments of managed policies (customer or AWS
-- managed, by ARN) to roles. Names are unique without regard to case, as in IAM.
CREATE TABLE iam_roles (
    name                 TEXT PRIMARY KEY COLLATE NOCASE,
    role_id              TEXT NOT NULL UNIQUE,
    path                 TEXT NOT NULL DEFAULT '/',
    trust_policy         TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    max_session_duration INTEGER NOT NULL DEFAULT 3600,
    tags                 TEXT NOT NULL DEFAULT '[]',
    created_ms           INTEGER NOT NULL
) STRICT;

CREATE TABLE iam_role_policies (
    role_name   TEXT NOT NULL REFERENCES iam_roles(name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    document    TEXT NOT NULL,
    PRIMARY KEY (role_name, policy_name)
) STRICT;

CREATE TABLE iam_policies (
    name            TEXT PRIMARY KEY COLLATE NOCASE,
    policy_id       TEXT NOT NULL UNIQUE,
    path            TEXT NOT NULL DEFAULT '/',
    description     TEXT NOT NULL DEFAULT '',
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
) STRICT;

CREATE TABLE iam_policy_versions (
    policy_name TEXT NOT NULL REFERENCES iam_policies(name) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    document    TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (policy_name, version)
) STRICT;

CREATE TABLE iam_role_attachments (
    role_name  TEXT NOT NULL REFERENCES iam_roles(name) ON DELETE CASCADE,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (role_name, policy_arn)
) STRICT;

CREATE INDEX iam_role_attachments_by_policy ON iam_role_attachments(policy_arn);

-- API keys for automation may carry an identity policy (least privilege): their calls are
-- decided by it. A key without a row here is an admin key (full access), as every key made
-- before.
CREATE TABLE access_key_policies (
    access_key_id TEXT PRIMARY KEY REFERENCES access_keys(access_key_id) ON DELETE CASCADE,
    policy        TEXT NOT NULL
) STRICT;
