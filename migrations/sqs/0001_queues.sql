-- The SQS queues' own database (<data>/sqs.db), schema version 1: queues, their messages,
-- FIFO deduplication ids and receive attempts, and DLQ redrive (message move) tasks.
-- Times are epoch milliseconds unless named _s. Written only by the queue writer thread.

CREATE TABLE queues (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    fifo        INTEGER NOT NULL,
    attributes  TEXT NOT NULL,              -- JSON {name: value}: the settable attributes
    tags        TEXT NOT NULL DEFAULT '{}', -- JSON {key: value}
    created_s   INTEGER NOT NULL,
    modified_s  INTEGER NOT NULL,
    purged_ms   INTEGER NOT NULL DEFAULT 0, -- last PurgeQueue (one per 60 s)
    next_seq    INTEGER NOT NULL DEFAULT 0  -- FIFO: last sequence number given
) STRICT;

-- One row per message. Visible: visible_ms <= now. In flight: received (receive_count > 0)
-- and visible_ms > now. Delayed: never received and visible_ms > now.
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,   -- arrival order (FIFO order within a group)
    queue_id         INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    body             TEXT NOT NULL,
    attributes       TEXT,                  -- JSON of the message attributes, if any
    trace_header     TEXT,                  -- the AWSTraceHeader system attribute
    md5_body         TEXT NOT NULL,
    md5_attributes   TEXT,
    md5_system       TEXT,
    sender_id        TEXT NOT NULL,
    sent_ms          INTEGER NOT NULL,
    visible_ms       INTEGER NOT NULL,
    expires_ms       INTEGER NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt          TEXT,                  -- token of the latest receive
    group_id         TEXT,                  -- FIFO MessageGroupId
    dedup_id         TEXT,                  -- FIFO MessageDeduplicationId
    seq              INTEGER,               -- FIFO SequenceNumber
    dlq_source       TEXT                   -- name of the queue it was moved from (DLQ)
) STRICT;
CREATE INDEX messages_visible ON messages(queue_id, visible_ms, id);
CREATE INDEX messages_order ON messages(queue_id, id);
CREATE INDEX messages_group ON messages(queue_id, group_id, id) WHERE group_id IS NOT NULL;
CREATE INDEX messages_expiry ON messages(expires_ms);

-- FIFO deduplication: a (scope, id) sent again within 5 minutes is accepted, not stored.
-- scope is '' for DeduplicationScope=queue, else the MessageGroupId.
CREATE TABLE dedup (
    queue_id   INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    dedup_id   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
) STRICT;
CREATE INDEX dedup_expiry ON dedup(expires_ms);

-- FIFO ReceiveRequestAttemptId: a retried receive within 5 minutes gets the same messages.
CREATE TABLE receive_attempts (
    queue_id   INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    attempt_id TEXT NOT NULL,
    messages   TEXT NOT NULL,               -- JSON [[row id, receipt token], ...]
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
) STRICT;
CREATE INDEX receive_attempts_expiry ON receive_attempts(expires_ms);

-- StartMessageMoveTask: moving a dead-letter queue's messages back (or elsewhere).
CREATE TABLE move_tasks (
    handle      TEXT PRIMARY KEY,
    source      TEXT NOT NULL,              -- queue name
    destination TEXT,                       -- queue name; NULL = each message's source
    rate        INTEGER,                    -- MaxNumberOfMessagesPerSecond
    status      TEXT NOT NULL,              -- RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
    moved       INTEGER NOT NULL DEFAULT 0,
    to_move     INTEGER NOT NULL,
    failure     TEXT,
    started_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX move_tasks_source ON move_tasks(source, started_ms);
