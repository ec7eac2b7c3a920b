//! The CloudWatch Logs API's reads and writes of the log database: log groups (create,
//! delete, retention, listing), stream listings, one stream's events page by page, and the
//! group-wide scan `FilterLogEvents` matches its pattern over.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// A log group as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub name: String,
    pub created_ms: i64,
    pub retention_days: Option<i64>,
    pub stored_bytes: i64,
}

/// A log stream as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRow {
    pub name: String,
    pub created_ms: i64,
    pub first_event_ms: Option<i64>,
    pub last_event_ms: Option<i64>,
    pub last_ingest_ms: Option<i64>,
    pub stored_bytes: i64,
}

/// An event as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiEvent {
    pub id: i64,
    pub stream: String,
    pub ts_ms: i64,
    pub ingest_ms: i64,
    pub message: String,
}

/// Creates a group; false if it exists.
pub fn create_group(conn: &mut Connection, name: &str, now_ms: i64) -> Result<bool, StoreError> {
    let tx = super::write_tx(conn)?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO log_groups (name, created_ms) VALUES (?1, ?2)",
        params![name, now_ms],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// True if the group exists.
pub fn group_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM log_groups WHERE name = ?1")?
        .query_row(params![name], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Deletes a group with its streams and events (events in batches); false if it did not exist.
pub fn delete_group(conn: &mut Connection, name: &str) -> Result<bool, StoreError> {
    if !group_exists(conn, name)? {
        return Ok(false);
    }
    loop {
        let tx = super::write_tx(conn)?;
        let n = tx.execute(
            "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_events e
               JOIN log_streams s ON s.id = e.stream_id WHERE s.log_group = ?1 LIMIT ?2)",
            params![name, super::logs::PRUNE_BATCH],
        )?;
        tx.commit()?;
        if (n as i64) < super::logs::PRUNE_BATCH {
            break;
        }
    }
    let tx = super::write_tx(conn)?;
    tx.execute(
        "DELETE FROM log_streams WHERE log_group = ?1",
        params![name],
    )?;
    let n = tx.execute("DELETE FROM log_groups WHERE name = ?1", params![name])?;
    tx.commit()?;
    Ok(n == 1)
}

/// Sets (or with `None` removes) a group's retention; false if the group does not exist.
pub fn set_retention(
    conn: &mut Connection,
    name: &str,
    days: Option<i64>,
) -> Result<bool, StoreError> {
    let tx = super::write_tx(conn)?;
    let n = tx.execute(
        "UPDATE log_groups SET retention_days = ?2 WHERE name = ?1",
        params![name, days],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// Groups whose name starts with `prefix`, by name, after `after` (exclusive).
pub fn list_groups(
    conn: &Connection,
    prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<GroupRow>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT g.name, g.created_ms, g.retention_days,
           (SELECT COALESCE(SUM(length(CAST(e.message AS BLOB))), 0) FROM log_streams s
              JOIN log_events e ON e.stream_id = s.id WHERE s.log_group = g.name)
         FROM log_groups g
         WHERE substr(g.name, 1, length(?1)) = ?1 AND g.name > ?2
         ORDER BY g.name LIMIT ?3",
    )?;
    let rows = st.query_map(params![prefix, after, limit as i64], |r| {
        Ok(GroupRow {
            name: r.get(0)?,
            created_ms: r.get(1)?,
            retention_days: r.get(2)?,
            stored_bytes: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Streams of a group: by name (ascending or descending) or by last event time, from
/// `offset`, at most `limit`.
pub fn list_streams(
    conn: &Connection,
    group: &str,
    prefix: &str,
    by_last_event: bool,
    descending: bool,
    offset: usize,
    limit: usize,
) -> Result<Vec<StreamRow>, StoreError> {
    let order = match (by_last_event, descending) {
        (false, false) => "s.name ASC",
        (false, true) => "s.name DESC",
        (true, false) => "COALESCE(s.last_event_ms, s.created_ms) ASC, s.id ASC",
        (true, true) => "COALESCE(s.last_event_ms, s.created_ms) DESC, s.id DESC",
    };
    let sql = format!(
        "SELECT s.name, s.created_ms, s.first_event_ms, s.last_event_ms, s.last_ingest_ms,
           (SELECT COALESCE(SUM(length(CAST(e.message AS BLOB))), 0) FROM log_events e WHERE e.stream_id = s.id)
         FROM log_streams s
         WHERE s.log_group = ?1 AND substr(s.name, 1, length(?2)) = ?2
         ORDER BY {order} LIMIT ?3 OFFSET ?4"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![group, prefix, limit as i64, offset as i64], |r| {
        Ok(StreamRow {
            name: r.get(0)?,
            created_ms: r.get(1)?,
            first_event_ms: r.get(2)?,
            last_event_ms: r.get(3)?,
            last_ingest_ms: r.get(4)?,
            stored_bytes: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The id of a stream of a group.
pub fn stream_id(conn: &Connection, group: &str, stream: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM log_streams WHERE log_group = ?1 AND name = ?2")?
        .query_row(params![group, stream], |r| r.get(0))
        .optional()?)
}

/// Where a page of one stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The oldest events first.
    Head,
    /// The newest events.
    Tail,
    /// Events with a larger id.
    After(i64),
    /// Events with a smaller id (the ones just before).
    Before(i64),
}

/// A page of one stream's events with `start_ms <= ts < end_ms`, oldest first.
pub fn stream_page(
    conn: &Connection,
    stream_id: i64,
    start_ms: i64,
    end_ms: i64,
    cursor: Cursor,
    limit: usize,
) -> Result<Vec<ApiEvent>, StoreError> {
    let (cond, order, bound) = match cursor {
        Cursor::Head => ("e.id > ?4", "ASC", 0),
        Cursor::After(id) => ("e.id > ?4", "ASC", id),
        Cursor::Tail => ("e.id < ?4", "DESC", i64::MAX),
        Cursor::Before(id) => ("e.id < ?4", "DESC", id),
    };
    let sql = format!(
        "SELECT e.id, s.name, e.ts_ms, e.ingest_ms, e.message FROM log_events e
         JOIN log_streams s ON s.id = e.stream_id
         WHERE e.stream_id = ?1 AND e.ts_ms >= ?2 AND e.ts_ms < ?3 AND {cond}
         ORDER BY e.id {order} LIMIT ?5"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![stream_id, start_ms, end_ms, bound, limit as i64],
        row_event,
    )?;
    let mut out: Vec<ApiEvent> = rows.collect::<Result<_, _>>()?;
    if order == "DESC" {
        out.reverse();
    }
    Ok(out)
}

fn row_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiEvent> {
    Ok(ApiEvent {
        id: r.get(0)?,
        stream: r.get(1)?,
        ts_ms: r.get(2)?,
        ingest_ms: r.get(3)?,
        message: r.get(4)?,
    })
}

/// Up to `limit` events of a group in (timestamp, id) order after `after`, with
/// `start_ms <= ts <= end_ms`, of the named streams (all if empty) whose name starts with
/// `prefix`. The caller matches its pattern over them.
#[allow(clippy::too_many_arguments)]
pub fn scan(
    conn: &Connection,
    group: &str,
    streams: &[String],
    prefix: &str,
    start_ms: i64,
    end_ms: i64,
    after: (i64, i64),
    limit: usize,
) -> Result<Vec<ApiEvent>, StoreError> {
    let names = serde_json::to_string(streams).unwrap_or_else(|_| "[]".into());
    let mut st = conn.prepare_cached(
        "SELECT e.id, s.name, e.ts_ms, e.ingest_ms, e.message FROM log_events e
         JOIN log_streams s ON s.id = e.stream_id
         WHERE s.log_group = ?1
           AND (?2 = '[]' OR s.name IN (SELECT value FROM json_each(?2)))
           AND substr(s.name, 1, length(?3)) = ?3
           AND e.ts_ms >= ?4 AND e.ts_ms <= ?5
           AND (e.ts_ms > ?6 OR (e.ts_ms = ?6 AND e.id > ?7))
         ORDER BY e.ts_ms, e.id LIMIT ?8",
    )?;
    let rows = st.query_map(
        params![
            group,
            names,
            prefix,
            start_ms,
            end_ms,
            after.0,
            after.1,
            limit as i64
        ],
        row_event,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::logs::{append, open, prune, NewEvent};

    fn ev(group: &str, ts_ms: i64, message: &str) -> NewEvent {
        NewEvent {
            group: group.into(),
            stream: "2026/01/01/[$LATEST]00".into(),
            ts_ms,
            message: message.into(),
        }
    }

    #[test]
    fn retention_prunes_per_group_and_delete_removes_everything() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).unwrap();
        let day = 86_400_000;
        let now = 100 * day;
        store
            .call_blocking(|c| {
                append(
                    c,
                    &[ev("/a", now - 3 * day, "old a"), ev("/a", now, "new a")],
                    &[],
                    now,
                )?;
                append(c, &[ev("/b", now - 3 * day, "old b")], &[], now)?;
                assert!(set_retention(c, "/a", Some(1))?);
                assert!(!set_retention(c, "/nope", Some(1))?);
                prune(c, 0, now)?;
                let id = stream_id(c, "/a", "2026/01/01/[$LATEST]00")?.unwrap();
                let left = stream_page(c, id, i64::MIN, i64::MAX, Cursor::Head, 10)?;
                assert_eq!(left.len(), 1);
                assert_eq!(left[0].message, "new a");
                let b = scan(c, "/b", &[], "", i64::MIN, i64::MAX, (i64::MIN, 0), 10)?;
                assert_eq!(b.len(), 1, "a group without retention keeps its events");
                let groups = list_groups(c, "/", "", 10)?;
                assert_eq!(groups.len(), 2);
                assert_eq!(groups[0].retention_days, Some(1));
                assert_eq!(groups[0].stored_bytes, 5);
                assert!(delete_group(c, "/a")?);
                assert!(!delete_group(c, "/a")?);
                assert!(stream_id(c, "/a", "2026/01/01/[$LATEST]00")?.is_none());
                Ok(())
            })
            .unwrap();
    }
}
