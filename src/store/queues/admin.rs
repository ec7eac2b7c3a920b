//! Queue rows: create, list, attributes, tags, purge, delete, and the counts behind the
//! `Approximate*` attributes.

use rusqlite::{params, Connection, OptionalExtension};

use super::{queue_by_name, QueueRow};
use crate::store::StoreError;

/// Inserts a queue, or returns the one of that name that exists.
pub fn create(
    c: &Connection,
    name: &str,
    fifo: bool,
    attributes: &str,
    tags: &str,
    now_s: i64,
) -> Result<Result<QueueRow, QueueRow>, StoreError> {
    if let Some(existing) = queue_by_name(c, name)? {
        return Ok(Err(existing));
    }
    c.execute(
        "INSERT INTO queues (name, fifo, attributes, tags, created_s, modified_s) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![name, i64::from(fifo), attributes, tags, now_s],
    )?;
    queue_by_name(c, name)?
        .map(Ok)
        .ok_or_else(|| StoreError::Corrupt("a queue vanished right after it was created".into()))
}

/// Queue names starting with `prefix`, after `after`, at most `limit`.
pub fn list(
    c: &Connection,
    prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let mut st = c.prepare(
        "SELECT name FROM queues WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
    )?;
    let rows = st.query_map(params![prefix, after, limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces a queue's settable attributes.
pub fn set_attributes(
    c: &Connection,
    id: i64,
    attributes: &str,
    now_s: i64,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE queues SET attributes = ?2, modified_s = ?3 WHERE id = ?1",
        params![id, attributes, now_s],
    )?;
    Ok(())
}

/// Replaces a queue's tags.
pub fn set_tags(c: &Connection, id: i64, tags: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE queues SET tags = ?2 WHERE id = ?1",
        params![id, tags],
    )?;
    Ok(())
}

/// Deletes a queue and everything in it.
pub fn delete(c: &Connection, id: i64) -> Result<(), StoreError> {
    c.execute("DELETE FROM queues WHERE id = ?1", [id])?;
    Ok(())
}

/// Deletes every message of a queue sent before now; false when the last purge was less
/// than `interval_ms` ago.
pub fn purge(c: &Connection, id: i64, now_ms: i64, interval_ms: i64) -> Result<bool, StoreError> {
    let last: Option<i64> = c
        .query_row("SELECT purged_ms FROM queues WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    if last.is_some_and(|l| now_ms - l < interval_ms) {
        return Ok(false);
    }
    c.execute(
        "DELETE FROM messages WHERE queue_id = ?1 AND sent_ms <= ?2",
        params![id, now_ms],
    )?;
    c.execute("DELETE FROM receive_attempts WHERE queue_id = ?1", [id])?;
    c.execute(
        "UPDATE queues SET purged_ms = ?2 WHERE id = ?1",
        params![id, now_ms],
    )?;
    Ok(true)
}

/// What a queue holds at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Available for retrieval.
    pub visible: i64,
    /// Received and not yet deleted nor visible again.
    pub in_flight: i64,
    /// Not yet visible: sent with a delay.
    pub delayed: i64,
    /// SentTimestamp of the oldest message, if any.
    pub oldest_sent_ms: Option<i64>,
}

/// The counts of queue `id` at `now_ms` (expired messages are not counted).
pub fn counts(c: &Connection, id: i64, now_ms: i64) -> Result<Counts, StoreError> {
    let (visible, in_flight, delayed, oldest) = c.query_row(
        "SELECT
            COALESCE(SUM(visible_ms <= ?2), 0),
            COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0),
            COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0),
            MIN(sent_ms)
         FROM messages WHERE queue_id = ?1 AND expires_ms > ?2",
        params![id, now_ms],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        },
    )?;
    Ok(Counts {
        visible,
        in_flight,
        delayed,
        oldest_sent_ms: oldest,
    })
}

/// Deletes expired messages, deduplication ids and receive attempts (at most `limit`
/// messages); returns how many messages went.
pub fn expire(c: &Connection, now_ms: i64, limit: i64) -> Result<usize, StoreError> {
    let n = c.execute(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE expires_ms <= ?1 LIMIT ?2)",
        params![now_ms, limit],
    )?;
    c.execute("DELETE FROM dedup WHERE expires_ms <= ?1", [now_ms])?;
    c.execute(
        "DELETE FROM receive_attempts WHERE expires_ms <= ?1",
        [now_ms],
    )?;
    Ok(n)
}
