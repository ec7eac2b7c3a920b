//! The asynchronous invocation queue's SQL, in its own database file
//! (`<data>/async-queue.db`, schema in `migrations/queue/`): accepted events, their retry
//! state, and per-function counters.
//!
//! One writer connection (owned by the queue's group-commit thread) applies batches of
//! [`Op`]s in one transaction each ([`write_batch`]); reads run on a small pool. Why a second
//! file: see ARCHITECTURE.md ("Storage").

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::StoreError;

/// File name of the queue database inside the data directory.
pub const FILE: &str = "async-queue.db";

/// An event on its way into the queue.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub request_id: String,
    pub function_name: String,
    /// `""` for an unqualified invocation.
    pub qualifier: String,
    pub payload: Bytes,
    pub received_ms: i64,
    pub source: String,
    pub source_arn: Option<String>,
    /// `Root=…;Lineage=…` of the invocation that caused the event (domain::trace).
    pub trace: String,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub id: i64,
    pub request_id: String,
    pub function_name: String,
    pub qualifier: String,
    pub payload: Bytes,
    pub received_ms: i64,
    pub due_ms: i64,
    pub attempts: u32,
    pub backoffs: u32,
    pub source: String,
    pub source_arn: Option<String>,
    pub trace: String,
    pub last_response: Option<String>,
}

/// One change to the queue; a batch of them is one transaction.
#[derive(Debug, Clone)]
pub enum Op {
    Insert(NewEvent),
    /// Moves an event to a later attempt.
    Reschedule {
        id: i64,
        due_ms: i64,
        attempts: u32,
        backoffs: u32,
        last_response: Option<String>,
    },
    /// The event has run to its end.
    Delete {
        id: i64,
    },
    /// Adds `delta` to a counter of a function.
    Count {
        function_name: String,
        name: String,
        delta: i64,
    },
}

/// What an [`Op`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// The new event's id.
    Inserted(i64),
    Done,
}

/// Pending events of one (function, qualifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneSummary {
    pub function_name: String,
    pub qualifier: String,
    pub pending: u64,
    pub oldest_received_ms: i64,
    pub next_due_ms: i64,
}

/// Opens the queue database (applying its migrations) with a small pool of read connections.
pub fn open(path: &Path) -> Result<super::Store, StoreError> {
    super::Store::open_with(path, super::migrate::QUEUE_MIGRATIONS, 2)
}

/// Opens the writer's own connection (WAL, synchronous=FULL, like every connection).
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    super::pool::connect(path)
}

/// Applies `ops` in one IMMEDIATE transaction; durable when it returns Ok.
pub fn write_batch(conn: &mut Connection, ops: &[Op]) -> Result<Vec<OpResult>, StoreError> {
    let tx = super::write_tx(conn)?;
    let mut out = Vec::with_capacity(ops.len());
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (request_id, function_name, qualifier, payload, received_ms, due_ms,
                                 source, source_arn, trace)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
        )?;
        let mut resched = tx.prepare_cached(
            "UPDATE events SET due_ms = ?2, attempts = ?3, backoffs = ?4,
                    last_response = COALESCE(?5, last_response) WHERE id = ?1",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
        for op in ops {
            match op {
                Op::Insert(e) => {
                    insert.execute(params![
                        e.request_id,
                        e.function_name,
                        e.qualifier,
                        &e.payload[..],
                        e.received_ms,
                        e.source,
                        e.source_arn,
                        e.trace,
                    ])?;
                    out.push(OpResult::Inserted(tx.last_insert_rowid()));
                }
                Op::Reschedule {
                    id,
                    due_ms,
                    attempts,
                    backoffs,
                    last_response,
                } => {
                    resched.execute(params![id, due_ms, attempts, backoffs, last_response])?;
                    out.push(OpResult::Done);
                }
                Op::Delete { id } => {
                    delete.execute(params![id])?;
                    out.push(OpResult::Done);
                }
                Op::Count {
                    function_name,
                    name,
                    delta,
                } => {
                    *counts.entry((function_name, name)).or_default() += delta;
                    out.push(OpResult::Done);
                }
            }
        }
        let mut count = tx.prepare_cached(
            "INSERT INTO counters (function_name, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (function_name, name) DO UPDATE SET value = value + ?3",
        )?;
        for ((f, n), d) in counts {
            count.execute(params![f, n, d])?;
        }
    }
    tx.commit()?;
    Ok(out)
}

const COLUMNS: &str = "id, request_id, function_name, qualifier, payload, received_ms, due_ms,
    attempts, backoffs, source, source_arn, trace, last_response";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<QueuedEvent> {
    Ok(QueuedEvent {
        id: r.get(0)?,
        request_id: r.get(1)?,
        function_name: r.get(2)?,
        qualifier: r.get(3)?,
        payload: Bytes::from(r.get::<_, Vec<u8>>(4)?),
        received_ms: r.get(5)?,
        due_ms: r.get(6)?,
        attempts: r.get(7)?,
        backoffs: r.get(8)?,
        source: r.get(9)?,
        source_arn: r.get(10)?,
        trace: r.get(11)?,
        last_response: r.get(12)?,
    })
}

/// Events of one lane due at `now_ms`, oldest due first, at most `limit`.
pub fn due(
    conn: &Connection,
    function_name: &str,
    qualifier: &str,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedEvent>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
          WHERE function_name = ?1 AND qualifier = ?2 AND due_ms <= ?3
          ORDER BY due_ms, id LIMIT ?4"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![
            function_name,
            qualifier,
            now_ms,
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        event_from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The earliest due time after `now_ms` in one lane.
pub fn next_due_after(
    conn: &Connection,
    function_name: &str,
    qualifier: &str,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT MIN(due_ms) FROM events
              WHERE function_name = ?1 AND qualifier = ?2 AND due_ms > ?3",
            params![function_name, qualifier, now_ms],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// Every lane with pending events.
pub fn lanes(conn: &Connection) -> Result<Vec<LaneSummary>, StoreError> {
    let mut st = conn.prepare(
        "SELECT function_name, qualifier, COUNT(*), MIN(received_ms), MIN(due_ms)
           FROM events GROUP BY function_name, qualifier ORDER BY function_name, qualifier",
    )?;
    let rows = st.query_map([], |r| {
        Ok(LaneSummary {
            function_name: r.get(0)?,
            qualifier: r.get(1)?,
            pending: r.get::<_, i64>(2)?.try_into().unwrap_or(0),
            oldest_received_ms: r.get(3)?,
            next_due_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Counters, of one function or of all: (function, counter, value), ordered.
pub fn counters(
    conn: &Connection,
    function_name: Option<&str>,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let mut st = conn.prepare(
        "SELECT function_name, name, value FROM counters
          WHERE ?1 IS NULL OR function_name = ?1 ORDER BY function_name, name",
    )?;
    let rows = st.query_map(params![function_name], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Opens the queue database read-only (for `lambdabox queue` beside a running daemon).
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Open(path.to_path_buf(), e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut c = open_writer(&path).unwrap();
        super::super::migrate::apply_list(&mut c, &path, super::super::migrate::QUEUE_MIGRATIONS)
            .unwrap();
        (dir, c)
    }

    fn ev(f: &str, at: i64) -> Op {
        Op::Insert(NewEvent {
            request_id: format!("r-{at}"),
            function_name: f.into(),
            qualifier: String::new(),
            payload: Bytes::from_static(b"{}"),
            received_ms: at,
            source: "api".into(),
            source_arn: None,
            trace: "Root=1-0-0".into(),
        })
    }

    #[test]
    fn batch_inserts_reschedules_deletes_and_counts() {
        let (_d, mut c) = open();
        let count = |n: &str| Op::Count {
            function_name: "f".into(),
            name: n.into(),
            delta: 1,
        };
        let r = write_batch(
            &mut c,
            &[
                ev("f", 10),
                ev("f", 20),
                ev("g", 5),
                count("received"),
                count("received"),
            ],
        )
        .unwrap();
        let OpResult::Inserted(first) = r[0] else {
            panic!("{r:?}")
        };
        assert_eq!(r[1], OpResult::Inserted(first + 1));
        assert_eq!(due(&c, "f", "", 15, 10).unwrap().len(), 1);
        write_batch(
            &mut c,
            &[
                Op::Reschedule {
                    id: first,
                    due_ms: 100,
                    attempts: 1,
                    backoffs: 0,
                    last_response: Some("{\"x\":1}".into()),
                },
                Op::Delete { id: first + 1 },
            ],
        )
        .unwrap();
        assert!(due(&c, "f", "", 99, 10).unwrap().is_empty());
        assert_eq!(next_due_after(&c, "f", "", 50).unwrap(), Some(100));
        let e = &due(&c, "f", "", 100, 10).unwrap()[0];
        assert_eq!(
            (e.attempts, e.last_response.as_deref()),
            (1, Some("{\"x\":1}"))
        );
        let lanes = lanes(&c).unwrap();
        assert_eq!(lanes.len(), 2);
        assert_eq!(
            (lanes[0].function_name.as_str(), lanes[0].pending),
            ("f", 1)
        );
        assert_eq!(
            counters(&c, Some("f")).unwrap(),
            vec![("f".into(), "received".into(), 2)]
        );
    }
}
