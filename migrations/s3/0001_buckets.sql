-- The object store's metadata (<data>/s3.db). Object bytes are files under <data>/s3/objects,
-- named by `file`; a row is written only after its file is fsynced and renamed into place.
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    -- JSON of domain::s3::notification::NotificationConfig
    notification TEXT NOT NULL DEFAULT '{"rules":[]}'
);

CREATE TABLE objects (
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    -- JSON array of [name, value]: x-amz-meta-*, Content-Encoding, Cache-Control, ...
    headers TEXT NOT NULL,
    -- "CRC32:<base64>" or ''
    checksum TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    parts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    checksum_algorithm TEXT NOT NULL DEFAULT ''
);
CREATE INDEX uploads_by_key ON uploads(bucket, key, created_ms);

CREATE TABLE parts (
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksum TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (upload_id, number)
);
