//! Function logs (CloudWatch-style groups, streams and events) and invocation records, in
//! their own database file (`<data>/logs.db`, schema in `migrations/logs/`). Writes arrive
//! in batches from the engine's log writer; reads serve `lambdabox logs`, the dashboard and
//! the CloudWatch Logs API (queries in [`crate::store::logs_query`]).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError};

/// File name of the log database inside the data directory.
pub const FILE: &str = "logs.db";

/// Migrations of the log database (0002: metrics, 0003: trace spans, 0004: daily usage).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/logs/0001_logs.sql")),
    (2, include_str!("../../migrations/logs/0002_metrics.sql")),
    (3, include_str!("../../migrations/logs/0003_traces.sql")),
    (4, include_str!("../../migrations/logs/0004_usage.sql")),
];

/// Opens (creating and migrating) `<data_dir>/logs.db`.
pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
    Store::open_with(&data_dir.join(FILE), MIGRATIONS, 3)
}

/// One log line bound for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub group: String,
    pub stream: String,
    pub ts_ms: i64,
    pub message: String,
}

/// A stored log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub group: String,
    pub stream: String,
    pub ts_ms: i64,
    pub message: String,
}

/// One finished invocation, for metrics and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationRecord {
    pub function_name: String,
    /// The version that ran.
    pub version: String,
    /// The qualifier the caller invoked (alias or version), None for the unqualified name.
    pub qualifier: Option<String>,
    pub request_id: String,
    pub start_ms: i64,
    pub duration_us: i64,
    pub billed_ms: i64,
    pub memory_mb: i64,
    pub max_memory_mb: i64,
    pub init_us: Option<i64>,
    pub error_type: Option<String>,
    /// The architecture that ran (`x86_64`, `arm64`), for the cost estimate.
    pub architecture: String,
}

fn stream_id(conn: &Connection, group: &str, stream: &str, now_ms: i64) -> Result<i64, StoreError> {
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM log_streams WHERE log_group = ?1 AND name = ?2",
            params![group, stream],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT OR IGNORE INTO log_groups (name, created_ms) VALUES (?1, ?2)",
        params![group, now_ms],
    )?;
    conn.execute(
        "INSERT INTO log_streams (log_group, name, created_ms) VALUES (?1, ?2, ?3)",
        params![group, stream, now_ms],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Appends events and invocation records in one transaction.
pub fn append(
    conn: &mut Connection,
    events: &[NewEvent],
    invocations: &[InvocationRecord],
    now_ms: i64,
) -> Result<(), StoreError> {
    let tx = super::write_tx(conn)?;
    {
        let mut last: Option<(&str, &str, i64)> = None;
        let mut insert = tx.prepare_cached(
            "INSERT INTO log_events (stream_id, ts_ms, ingest_ms, message) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut add_bytes = tx.prepare_cached(
            "UPDATE log_streams SET stored_bytes = stored_bytes + ?1 WHERE id = ?2",
        )?;
        let mut run_bytes = 0usize;
        for e in events {
            let id = match last {
                Some((g, s, id)) if g == e.group && s == e.stream => id,
                _ => {
                    if let Some((_, _, prev)) = last {
                        add_bytes.execute(params![run_bytes as i64, prev])?;
                        run_bytes = 0;
                    }
                    let id = stream_id(&tx, &e.group, &e.stream, now_ms)?;
                    tx.execute(
                        "UPDATE log_streams SET last_event_ms = MAX(COALESCE(last_event_ms, ?1), ?1),
                           first_event_ms = COALESCE(first_event_ms, ?1), last_ingest_ms = ?3
                         WHERE id = ?2",
                        params![e.ts_ms, id, now_ms],
                    )?;
                    id
                }
            };
            last = Some((&e.group, &e.stream, id));
            run_bytes += e.message.len();
            insert.execute(params![id, e.ts_ms, now_ms, e.message])?;
        }
        if let Some((_, _, prev)) = last {
            add_bytes.execute(params![run_bytes as i64, prev])?;
        }
        let mut rec = tx.prepare_cached(
            "INSERT INTO invocations (function_name, version, request_id, start_ms, duration_us, billed_ms, memory_mb, max_memory_mb, init_us, error_type)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for i in invocations {
            rec.execute(params![
                i.function_name,
                i.version,
                i.request_id,
                i.start_ms,
                i.duration_us,
                i.billed_ms,
                i.memory_mb,
                i.max_memory_mb,
                i.init_us,
                i.error_type
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Events of a group (optionally one stream) with id > `after_id`, oldest first.
pub fn events(
    conn: &Connection,
    group: &str,
    stream: Option<&str>,
    after_id: i64,
    since_ms: i64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT e.id, s.log_group, s.name, e.ts_ms, e.message FROM log_events e
         JOIN log_streams s ON s.id = e.stream_id
         WHERE s.log_group = ?1 AND (?2 IS NULL OR s.name = ?2) AND e.id > ?3 AND e.ts_ms >= ?4
         ORDER BY e.id LIMIT ?5",
    )?;
    let rows = st.query_map(
        params![group, stream, after_id, since_ms, limit as i64],
        |r| {
            Ok(Event {
                id: r.get(0)?,
                group: r.get(1)?,
                stream: r.get(2)?,
                ts_ms: r.get(3)?,
                message: r.get(4)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The newest `limit` events of one stream, oldest first (served by the stream/time index).
pub fn recent_in_stream(
    conn: &Connection,
    group: &str,
    stream: &str,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT e.id, s.log_group, s.name, e.ts_ms, e.message FROM log_streams s
         JOIN log_events e ON e.stream_id = s.id
         WHERE s.log_group = ?1 AND s.name = ?2
         ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?3",
    )?;
    let rows = st.query_map(params![group, stream, limit as i64], |r| {
        Ok(Event {
            id: r.get(0)?,
            group: r.get(1)?,
            stream: r.get(2)?,
            ts_ms: r.get(3)?,
            message: r.get(4)?,
        })
    })?;
    let mut out: Vec<Event> = rows.collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

/// The newest `limit` events of a group across its streams, oldest first: streams are read
/// newest first, each through the stream/time index, until no older stream can hold one of
/// the newest `limit` events.
pub fn recent_events(
    conn: &Connection,
    group: &str,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let mut all: Vec<Event> = Vec::new();
    for s in streams(conn, group, 1000)? {
        if all.len() >= limit {
            all.sort_unstable_by_key(|e| std::cmp::Reverse((e.ts_ms, e.id)));
            all.truncate(limit);
            let oldest_kept = all.last().map_or(i64::MIN, |e| e.ts_ms);
            if s.last_event_ms.unwrap_or(s.created_ms) < oldest_kept {
                break;
            }
        }
        all.extend(recent_in_stream(conn, group, &s.name, limit)?);
    }
    all.sort_unstable_by_key(|e| (e.ts_ms, e.id));
    let skip = all.len().saturating_sub(limit);
    Ok(all.split_off(skip))
}

/// A log stream as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub name: String,
    pub created_ms: i64,
    pub last_event_ms: Option<i64>,
}

/// The streams of a group, most recently written first.
pub fn streams(conn: &Connection, group: &str, limit: usize) -> Result<Vec<Stream>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT name, created_ms, last_event_ms FROM log_streams WHERE log_group = ?1
         ORDER BY COALESCE(last_event_ms, created_ms) DESC, id DESC LIMIT ?2",
    )?;
    let rows = st.query_map(params![group, limit as i64], |r| {
        Ok(Stream {
            name: r.get(0)?,
            created_ms: r.get(1)?,
            last_event_ms: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The id of the newest event of any group (0 if none): a live tail starts after it.
pub fn last_event_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM log_events")?
        .query_row([], |r| r.get(0))?)
}

/// Rows one prune transaction deletes at most, so the log writer never waits long.
pub const PRUNE_BATCH: i64 = 5000;

fn delete_batches(
    conn: &mut Connection,
    sql: &str,
    before_ms: i64,
    group: Option<&str>,
) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let tx = super::write_tx(conn)?;
        let n = match group {
            Some(g) => tx.execute(sql, params![before_ms, PRUNE_BATCH, g])?,
            None => tx.execute(sql, params![before_ms, PRUNE_BATCH])?,
        };
        tx.commit()?;
        total += n;
        if (n as i64) < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

/// Deletes log events older than their group's retention (`PutRetentionPolicy`) or else
/// older than `before_ms` (the daemon's `logs.retention_days`), invocation records older
/// than `before_ms`, and empty streams; in transactions of at most [`PRUNE_BATCH`] rows.
pub fn prune(conn: &mut Connection, before_ms: i64, now_ms: i64) -> Result<usize, StoreError> {
    let groups: Vec<(String, i64)> = conn
        .prepare("SELECT name, retention_days FROM log_groups WHERE retention_days IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (g, days) in groups {
        let cut = (now_ms - days * 86_400_000).max(before_ms);
        n += delete_batches(
            conn,
            "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_events e
               JOIN log_streams s ON s.id = e.stream_id
               WHERE s.log_group = ?3 AND e.ts_ms < ?1 LIMIT ?2)",
            cut,
            Some(&g),
        )?;
    }
    n += delete_batches(
        conn,
        "DELETE FROM log_events WHERE id IN (SELECT id FROM log_events WHERE ts_ms < ?1 LIMIT ?2)",
        before_ms,
        None,
    )?;
    delete_batches(
        conn,
        "DELETE FROM invocations WHERE id IN (SELECT id FROM invocations WHERE start_ms < ?1 LIMIT ?2)",
        before_ms,
        None,
    )?;
    let tx = super::write_tx(conn)?;
    tx.execute(
        "DELETE FROM log_streams WHERE NOT EXISTS (SELECT 1 FROM log_events e WHERE e.stream_id = log_streams.id)
           AND COALESCE(last_ingest_ms, created_ms) < ?1",
        params![now_ms - 3_600_000],
    )?;
    tx.commit()?;
    Ok(n)
}

/// Events one quota transaction deletes at most.
pub const QUOTA_BATCH: i64 = 500;

/// Deletes the oldest events of every group storing more than `max_bytes`, [`QUOTA_BATCH`]
/// per transaction, until each is within it; returns how many were deleted.
pub fn prune_quota(conn: &mut Connection, max_bytes: u64) -> Result<usize, StoreError> {
    let max = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    let over: Vec<String> = conn
        .prepare_cached(
            "SELECT log_group FROM log_streams GROUP BY log_group HAVING SUM(stored_bytes) > ?1",
        )?
        .query_map(params![max], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for g in over {
        n += prune_group(conn, &g, max_bytes)?;
    }
    Ok(n)
}

/// Deletes the oldest events of `group` while it stores more than `max_bytes`,
/// [`QUOTA_BATCH`] per transaction; returns how many were deleted.
pub fn prune_group(
    conn: &mut Connection,
    group: &str,
    max_bytes: u64,
) -> Result<usize, StoreError> {
    let max = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    let mut n = 0;
    loop {
        let bytes: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams WHERE log_group = ?1",
            )?
            .query_row(params![group], |r| r.get(0))?;
        if bytes <= max {
            return Ok(n);
        }
        let tx = super::write_tx(conn)?;
        let deleted = tx.execute(
            "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_events e
               JOIN log_streams s ON s.id = e.stream_id WHERE s.log_group = ?1
               ORDER BY e.ts_ms, e.id LIMIT ?2)",
            params![group, QUOTA_BATCH],
        )?;
        tx.commit()?;
        n += deleted;
        if deleted == 0 {
            return Ok(n);
        }
    }
}

/// WAL size past which [`bound_wal`] truncates it.
pub const WAL_LIMIT: u64 = 64 << 20;

/// Checkpoints and truncates the write-ahead log `wal` when it is larger than [`WAL_LIMIT`]
/// (a long reader can stop SQLite's automatic checkpoints from ever resetting it); returns
/// whether it did.
pub fn bound_wal(conn: &mut Connection, wal: &Path) -> Result<bool, StoreError> {
    let size = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
    if size <= WAL_LIMIT {
        return Ok(false);
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_prune() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).unwrap();
        let ev = |ts, m: &str| NewEvent {
            group: "/aws/lambda/f".into(),
            stream: "2025/01/01/[$LATEST]abc".into(),
            ts_ms: ts,
            message: m.into(),
        };
        store
            .call_blocking(|c| append(c, &[ev(10, "a"), ev(20, "b")], &[], 30))
            .unwrap();
        let got = store
            .call_blocking(|c| events(c, "/aws/lambda/f", None, 0, 0, 10))
            .unwrap();
        assert_eq!(
            got.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let after = store
            .call_blocking(|c| events(c, "/aws/lambda/f", None, got[0].id, 0, 10))
            .unwrap();
        assert_eq!(after.len(), 1);
        let ev2 = |ts, m: &str| NewEvent {
            stream: "other".into(),
            ..ev(ts, m)
        };
        store
            .call_blocking(|c| append(c, &[ev2(15, "c"), ev2(25, "d")], &[], 30))
            .unwrap();
        let newest = store
            .call_blocking(|c| recent_events(c, "/aws/lambda/f", 3))
            .unwrap();
        assert_eq!(
            newest
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>(),
            ["c", "b", "d"]
        );
        assert_eq!(
            store.call_blocking(|c| last_event_id(c)).unwrap(),
            newest[2].id
        );
        store.call_blocking(|c| prune(c, 15, 30)).unwrap();
        let left = store
            .call_blocking(|c| events(c, "/aws/lambda/f", None, 0, 0, 10))
            .unwrap();
        assert_eq!(left.len(), 3);
    }

    #[test]
    fn quota_prunes_the_oldest_events_of_a_group_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).unwrap();
        let ev = |g: &str, s: &str, ts: i64| NewEvent {
            group: g.into(),
            stream: s.into(),
            ts_ms: ts,
            message: "x".repeat(100),
        };
        let mut batch = Vec::new();
        for i in 0..1200 {
            batch.push(ev("/big", if i % 2 == 0 { "a" } else { "b" }, i));
        }
        batch.push(ev("/small", "a", 5));
        store.call_blocking(|c| append(c, &batch, &[], 10)).unwrap();
        // 120 000 bytes in /big; keep at most 50 000.
        let n = store.call_blocking(|c| prune_quota(c, 50_000)).unwrap();
        assert!(n >= 700, "{n}");
        let (bytes, oldest): (i64, i64) = store
            .call_blocking(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT SUM(stored_bytes) FROM log_streams WHERE log_group = '/big'),
                       (SELECT MIN(e.ts_ms) FROM log_events e JOIN log_streams s ON s.id = e.stream_id
                        WHERE s.log_group = '/big')",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert!(bytes <= 50_000, "{bytes}");
        assert_eq!(bytes, (1200 - n as i64) * 100);
        assert_eq!(oldest, n as i64, "the oldest events went first");
        let small = store
            .call_blocking(|c| events(c, "/small", None, 0, 0, 10))
            .unwrap();
        assert_eq!(small.len(), 1, "a group within its quota keeps everything");
        assert!(!store
            .call_blocking(|c| bound_wal(c, &dir.path().join("logs.db-wal")))
            .unwrap());
    }
}
