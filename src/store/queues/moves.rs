//! Message move tasks (StartMessageMoveTask): the task rows and the batch move from a
//! dead-letter queue back to each message's source queue or to a named destination.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::store::StoreError;

/// A move task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    pub handle: String,
    pub source: String,
    pub destination: Option<String>,
    pub rate: Option<i64>,
    pub status: String,
    pub moved: i64,
    pub to_move: i64,
    pub failure: Option<String>,
    pub started_ms: i64,
}

const COLUMNS: &str =
    "handle, source, destination, rate, status, moved, to_move, failure, started_ms";

fn task(r: &Row<'_>) -> rusqlite::Result<MoveTask> {
    Ok(MoveTask {
        handle: r.get(0)?,
        source: r.get(1)?,
        destination: r.get(2)?,
        rate: r.get(3)?,
        status: r.get(4)?,
        moved: r.get(5)?,
        to_move: r.get(6)?,
        failure: r.get(7)?,
        started_ms: r.get(8)?,
    })
}

/// Starts a task unless one is running on `t.source`; `Err(handle)` names the running one.
pub fn start(c: &Connection, t: &MoveTask) -> Result<Result<(), String>, StoreError> {
    let running: Option<String> = c
        .query_row(
            "SELECT handle FROM move_tasks WHERE source = ?1 AND status IN ('RUNNING', 'CANCELLING')",
            [&t.source],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(h) = running {
        return Ok(Err(h));
    }
    c.execute(
        &format!("INSERT INTO move_tasks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            t.handle,
            t.source,
            t.destination,
            t.rate,
            t.status,
            t.moved,
            t.to_move,
            t.failure,
            t.started_ms
        ],
    )?;
    Ok(Ok(()))
}

/// One task.
pub fn get(c: &Connection, handle: &str) -> Result<Option<MoveTask>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {COLUMNS} FROM move_tasks WHERE handle = ?1"),
        [handle],
        task,
    )
    .optional()?)
}

/// The most recent tasks of a source queue, newest first.
pub fn list(c: &Connection, source: &str, limit: i64) -> Result<Vec<MoveTask>, StoreError> {
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM move_tasks WHERE source = ?1 ORDER BY started_ms DESC, rowid DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![source, limit], task)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every task still running (resumed after a restart).
pub fn running(c: &Connection) -> Result<Vec<MoveTask>, StoreError> {
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM move_tasks WHERE status IN ('RUNNING', 'CANCELLING') ORDER BY started_ms"
    ))?;
    let rows = st.query_map([], task)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets a task's status (and failure reason).
pub fn set_status(
    c: &Connection,
    handle: &str,
    status: &str,
    failure: Option<&str>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE move_tasks SET status = ?2, failure = COALESCE(?3, failure) WHERE handle = ?1",
        params![handle, status, failure],
    )?;
    Ok(())
}

/// Moves up to `limit` visible messages of queue `source_id` (in arrival order): to
/// `destination_id`, or (None) back to the queue each came from, looked up by name. A
/// message whose source queue is gone stays. Counts the moved ones on the task.
pub fn move_batch(
    c: &Connection,
    handle: &str,
    source_id: i64,
    destination_id: Option<i64>,
    limit: i64,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let n = match destination_id {
        Some(dest) => c.execute(
            "UPDATE messages SET queue_id = ?2, receive_count = 0, first_receive_ms = NULL, receipt = NULL, visible_ms = ?3, dlq_source = NULL
             WHERE id IN (SELECT id FROM messages WHERE queue_id = ?1 AND visible_ms <= ?3 ORDER BY id LIMIT ?4)",
            params![source_id, dest, now_ms, limit],
        )?,
        None => c.execute(
            "UPDATE messages SET queue_id = (SELECT q.id FROM queues q WHERE q.name = messages.dlq_source),
                    receive_count = 0, first_receive_ms = NULL, receipt = NULL, visible_ms = ?2, dlq_source = NULL
             WHERE id IN (SELECT m.id FROM messages m JOIN queues q ON q.name = m.dlq_source
                          WHERE m.queue_id = ?1 AND m.visible_ms <= ?2 ORDER BY m.id LIMIT ?3)",
            params![source_id, now_ms, limit],
        )?,
    };
    c.execute(
        "UPDATE move_tasks SET moved = moved + ?2 WHERE handle = ?1",
        params![handle, i64::try_from(n).unwrap_or(0)],
    )?;
    Ok(n)
}
