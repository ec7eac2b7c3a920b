//! The SQS queues' SQL, in their own database file (`<data>/sqs.db`, schema in
//! `migrations/sqs/`): queues, messages, FIFO deduplication and receive attempts, and message
//! move tasks.
//!
//! Every write goes through the group-commit [`writer::Writer`] (its own thread and the only
//! write connection); reads (attributes, counts, listings) use a small read pool. Why a
//! second file: the main database's write lock is held for long stretches by package and
//! layer blobs and by the log writer; queue sends must not wait behind them (ARCHITECTURE.md,
//! "Storage").

pub mod admin;
pub mod messages;
pub mod moves;
pub mod writer;

use std::path::Path;

use rusqlite::Connection;

use super::{pool, Store, StoreError};

/// File name of the queue database inside the data directory.
pub const FILE: &str = "sqs.db";

/// Migrations of the queue database.
pub const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../../../migrations/sqs/0001_queues.sql"))];

/// The queue database: a read pool and the writer.
pub struct QueueDb {
    pub reads: Store,
    pub writer: writer::Writer,
}

impl QueueDb {
    /// Opens (creating and migrating) `<data_dir>/sqs.db` and starts its writer.
    pub fn open(data_dir: &Path) -> Result<QueueDb, StoreError> {
        let path = data_dir.join(FILE);
        let reads = Store::open_with(&path, MIGRATIONS, 3)?;
        let conn: Connection = pool::connect(&path)?;
        let writer = writer::Writer::start(conn, "sqs-writer")?;
        Ok(QueueDb { reads, writer })
    }
}

/// A queue as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub id: i64,
    pub name: String,
    pub fifo: bool,
    /// JSON of the settable attributes (`domain::sqs::attributes::QueueAttributes`).
    pub attributes: String,
    /// JSON object of tags.
    pub tags: String,
    pub created_s: i64,
    pub modified_s: i64,
    pub purged_ms: i64,
}

const QUEUE_COLUMNS: &str = "id, name, fifo, attributes, tags, created_s, modified_s, purged_ms";

fn queue_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueRow> {
    Ok(QueueRow {
        id: r.get(0)?,
        name: r.get(1)?,
        fifo: r.get::<_, i64>(2)? != 0,
        attributes: r.get(3)?,
        tags: r.get(4)?,
        created_s: r.get(5)?,
        modified_s: r.get(6)?,
        purged_ms: r.get(7)?,
    })
}

/// The queue named `name`.
pub fn queue_by_name(c: &Connection, name: &str) -> Result<Option<QueueRow>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(c.query_row(
        &format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE name = ?1"),
        [name],
        queue_row,
    )
    .optional()?)
}

/// Every queue, by name.
pub fn all_queues(c: &Connection) -> Result<Vec<QueueRow>, StoreError> {
    let mut st = c.prepare(&format!("SELECT {QUEUE_COLUMNS} FROM queues ORDER BY name"))?;
    let rows = st.query_map([], queue_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
